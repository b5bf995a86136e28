"""A plain PyTorch training loop (Debian's python3-torch), the world `adambench tune` is checked
against (tests/e2e/tune_world_test.sh): for every lr of a grid and every seed, train the TorchScript
module from its file's weights with torch.optim.Adam on the npz, taking the minibatches in the
order `adambench data-order` wrote for that seed (adambench's own order), with the seed's dropout
(torch.manual_seed(seed), as adambench seeds it), then evaluate the mean cross-entropy on x_val.
    /usr/bin/python3 torch_loop.py MODEL.pt DATA.npz ORDER_DIR --lrs 1e-3 3e-3 ... --seeds 0 1 2 --out RESULT.json
ORDER_DIR holds order-SEED.txt (one line per step: the sample indices of its minibatch).
RESULT.json: {"final_val_loss": {"LR": {"SEED": loss}}, "median": {"LR": median}, "best_lr": LR}."""
import argparse, json
import numpy as np
import torch

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("data")
ap.add_argument("orders")
ap.add_argument("--lrs", type=float, nargs="+", required=True)
ap.add_argument("--seeds", type=int, nargs="+", required=True)
ap.add_argument("--out", required=True)
args = ap.parse_args()

torch.set_num_threads(1)
d = np.load(args.data)
x_tr, y_tr = torch.from_numpy(d["x_train"]).float(), torch.from_numpy(d["y_train"]).long()
x_va, y_va = torch.from_numpy(d["x_val"]).float(), torch.from_numpy(d["y_val"]).long()


def val_loss(model):
    model.eval()
    with torch.no_grad():
        total = sum(torch.nn.functional.cross_entropy(model(x_va[i:i + 2000]), y_va[i:i + 2000], reduction="sum").item()
                    for i in range(0, len(x_va), 2000))
    model.train()
    return total / len(x_va)


def train(lr, seed):
    order = np.loadtxt(f"{args.orders}/order-{seed}.txt", dtype=np.int64, ndmin=2)
    torch.manual_seed(seed)
    model = torch.jit.load(args.model)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for idx in order:
        i = torch.from_numpy(idx)
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x_tr[i]), y_tr[i])
        loss.backward()
        opt.step()
    return val_loss(model)


finals = {repr(lr): {str(s): train(lr, s) for s in args.seeds} for lr in args.lrs}
med = {k: float(np.median(list(v.values()))) for k, v in finals.items()}
best = min(med, key=lambda k: med[k])
json.dump({"final_val_loss": finals, "median": med, "best_lr": float(best)}, open(args.out, "w"), indent=1)
print(f"torch loop: best lr {best} (median final val loss {med[best]:.4f}); medians: " + ", ".join(f"{k}: {v:.4f}" for k, v in med.items()))
