"""Compares `adambench tune` with a plain PyTorch loop (tests/e2e/torch_loop.py) on the same lr grid,
seeds, initial weights and data order:
    tune_world_check.py same-runs TUNE.json TORCH.json   every (lr, seed) ends at the same validation
                                                        loss (relative 1e-6: the same LibTorch computes both)
    tune_world_check.py same-lr TUNE.json TORCH.json     the lr tune recommends is the loop's best lr, or
                                                        the next grid value when the loop's medians at the
                                                        two differ by less than 2% (a near tie: the reason is printed)
Exit 0 when it holds, 1 (with what differs) when not."""
import json, math, sys

mode, tune_path, torch_path = sys.argv[1:4]
t, p = json.load(open(tune_path)), json.load(open(torch_path))
loop = {float(lr): {int(s): v for s, v in runs.items()} for lr, runs in p["final_val_loss"].items()}


def fail(msg):
    print("FAIL " + msg)
    sys.exit(1)


if mode == "same-runs":
    n = 0
    for pt in t["points"]:
        lr = float(pt["settings"]["lr"])
        key = min(loop, key=lambda x: abs(math.log(x / lr)))
        if abs(math.log(key / lr)) > 1e-9:
            fail(f"tune ran lr {lr}, the loop did not")
        for r in pt["runs"]:
            a, b = r["final_val_loss"], loop[key][r["seed"]]
            if not abs(a - b) <= 1e-6 * abs(b):
                fail(f"lr {lr} seed {r['seed']}: tune ends at {a!r}, the PyTorch loop at {b!r}")
            n += 1
    if n != sum(len(v) for v in loop.values()):
        fail(f"compared {n} runs, the loop has {sum(len(v) for v in loop.values())}")
    print(f"ok   all {n} runs end at the same validation loss as the PyTorch loop")
elif mode == "same-lr":
    rec = float(t["recommended"]["lr"])
    grid = sorted(loop)
    med = {lr: sorted(v.values())[len(v) // 2] for lr, v in loop.items()}
    best = min(grid, key=lambda lr: med[lr])
    i, j = (min(range(len(grid)), key=lambda k: abs(math.log(grid[k] / x))) for x in (rec, best))
    if i == j:
        print(f"ok   tune recommends lr {rec:g}, the PyTorch loop's best on the same grid")
    elif abs(i - j) == 1 and abs(med[grid[i]] - med[best]) < 0.02 * med[best]:
        print(f"ok   tune recommends lr {rec:g}, one grid step from the loop's best {best:g}: a near tie "
              f"(the loop's medians {med[grid[i]]:.4f} and {med[best]:.4f} differ by less than 2%)")
    else:
        fail(f"tune recommends lr {rec:g}; the PyTorch loop's best is {best:g} (medians: "
             + ", ".join(f"{lr:g}: {m:.4f}" for lr, m in sorted(med.items())) + ")")
else:
    fail(f"unknown mode {mode}")
