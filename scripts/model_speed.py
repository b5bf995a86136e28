#!/usr/bin/python3
"""Time per step of `adambench converge --model M.pt --data D.npz` against a plain PyTorch loop
(docs/tuning.md, "Speed of training your model"). Debian's python3-torch: run with /usr/bin/python3.

    scripts/model_speed.py OUT [--bin [LABEL=]PATH]... [--rounds 5] [--impl NAME]...
                               [--train 6000] [--val 1000] [--batch 128] [--epochs 1]

1. Makes OUT/m.pt (a small CNN: two conv layers with batch norm, dropout, two linear layers,
   saved with torch.jit.script) and OUT/d.npz (Fashion-MNIST: --train images of the training set,
   --val of the test set, scaled to [0, 1], shape [N, 1, 28, 28]).
2. Rounds: in each, every implementation's `adambench --threads 1 converge --model --data --impl I
   --seeds 1` (default eigen, libtorch, reference; each --bin build) and the PyTorch loop
   (`model_speed.py loop`: the same model file, batch size, steps, evaluation points and Adam
   settings, torch.set_num_threads(1)) run one after the other as fresh processes, in a rotating
   order, so machine load hits every side alike. The loop runs twice: as written ("pytorch") and
   with the process settings adambench's training makes ("pytorch-tuned": OPENBLAS_NUM_THREADS=1,
   glibc's heap keeping freed memory).
3. Prints, per side, the training step (forward, backward, optimizer step: converge.json's
   train_seconds against the loop's timer around the same work), the whole command (process start
   to exit: loading, evaluations, writing), its CPU time (user + system, all threads: the figure
   load disturbs least) and the evaluation time, each as the median over rounds with the min-max
   range, and the ratios to the plain loop's figures of the same round; writes OUT/model_speed.json.
Exit 0 when measured, 2 bad arguments, 4 a command failed.
"""
import argparse
import gzip
import json
import math
import os
import statistics
import subprocess
import sys
import time

FMNIST = "/usr/share/datasets/fashion-mnist"


def idx(path):
    """An MNIST idx file (gzip) as a numpy array."""
    import numpy as np
    with gzip.open(path, "rb") as f:
        b = f.read()
    nd = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def make(out, n_train, n_val):
    """OUT/m.pt and OUT/d.npz; the generator is a file because torch.jit.script reads the class's source."""
    import numpy as np
    import torch

    class SmallCNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(1, 16, 3, padding=1)
            self.bn1 = torch.nn.BatchNorm2d(16)
            self.conv2 = torch.nn.Conv2d(16, 32, 3, padding=1)
            self.bn2 = torch.nn.BatchNorm2d(32)
            self.drop = torch.nn.Dropout(0.25)
            self.fc1 = torch.nn.Linear(32 * 7 * 7, 64)
            self.fc2 = torch.nn.Linear(64, 10)

        def forward(self, x):
            x = torch.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
            x = torch.max_pool2d(torch.relu(self.bn2(self.conv2(x))), 2)
            x = self.drop(torch.flatten(x, 1))
            return self.fc2(self.drop(torch.relu(self.fc1(x))))

    torch.manual_seed(0)
    torch.jit.script(SmallCNN()).save(os.path.join(out, "m.pt"))
    xt = idx(f"{FMNIST}/train-images-idx3-ubyte.gz")[:n_train]
    yt = idx(f"{FMNIST}/train-labels-idx1-ubyte.gz")[:n_train]
    xv = idx(f"{FMNIST}/t10k-images-idx3-ubyte.gz")[:n_val]
    yv = idx(f"{FMNIST}/t10k-labels-idx1-ubyte.gz")[:n_val]
    f32 = lambda x: (x.astype(np.float32) / 255.0)[:, None, :, :]
    np.savez(os.path.join(out, "d.npz"), x_train=f32(xt), y_train=yt.astype(np.int64), x_val=f32(xv), y_val=yv.astype(np.int64))


def loop(model, data, batch, epochs, evals, seed):
    """The plain PyTorch loop a user would write; prints {"train_s", "steps", "eval_s"} as JSON.
    Same plan as converge's case: steps = ceil(epochs * n / batch), full batches drawn without
    replacement and reshuffled each epoch, evaluation (eval mode, no grad, chunks of 2000, summed
    loss) at step 0, every max(1, steps // evals) steps and the last."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    d = np.load(data)
    xtr, ytr = torch.from_numpy(d["x_train"]), torch.from_numpy(d["y_train"])
    xva, yva = torch.from_numpy(d["x_val"]), torch.from_numpy(d["y_val"])
    m = torch.jit.load(model)
    m.train()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    n = xtr.shape[0]
    steps = math.ceil(epochs * n / batch)
    every = max(1, steps // evals)
    rng = np.random.default_rng(seed)
    perm, pos = None, n
    train_s = eval_s = 0.0

    def evaluate():
        m.eval()
        loss, correct = 0.0, 0
        with torch.no_grad():
            for at in range(0, xva.shape[0], 2000):
                out = m(xva[at:at + 2000])
                loss += F.cross_entropy(out, yva[at:at + 2000], reduction="sum").item()
                correct += int((out.argmax(1) == yva[at:at + 2000]).sum())
        m.train()
        return loss / xva.shape[0], correct / xva.shape[0]

    curve = []
    t0 = time.perf_counter()
    curve.append((0, *evaluate()))
    eval_s += time.perf_counter() - t0
    for t in range(1, steps + 1):
        ids = np.empty(batch, dtype=np.int64)
        for k in range(batch):
            if pos == n:
                perm, pos = rng.permutation(n), 0
            ids[k] = perm[pos]
            pos += 1
        t0 = time.perf_counter()
        i = torch.from_numpy(ids)
        opt.zero_grad()
        loss = F.cross_entropy(m(xtr[i]), ytr[i])
        loss.backward()
        opt.step()
        loss.item()
        train_s += time.perf_counter() - t0
        if t % every == 0 or t == steps:
            t0 = time.perf_counter()
            curve.append((t, *evaluate()))
            eval_s += time.perf_counter() - t0
    print(json.dumps({"train_s": train_s, "steps": steps, "eval_s": eval_s, "evals": len(curve), "final": curve[-1]}))


# The PyTorch loop as a user writes it, and with the two process settings adambench's training
# makes (OpenBLAS's pool at one thread, freed memory kept in glibc's heap), as environment variables.
LOOPS = {"pytorch": {}, "pytorch-tuned": {"OPENBLAS_NUM_THREADS": "1",
                                          "GLIBC_TUNABLES": "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647"}}


def timed(cmd, env=None):
    """(wall s, stdout) of a fresh process; exits 4 when it fails."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
    out, err = p.communicate()
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        print(f"model_speed: {' '.join(cmd)} failed ({p.returncode}): {err.strip()[-400:]}", file=sys.stderr)
        sys.exit(4)
    return wall, out


def spread(xs):
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def run_side(a, side, model, data, what):
    """(train step s, wall s, CPU s, eval s) of one fresh process (CPU: user + system, all threads)."""
    if side in LOOPS:
        before = os.times()
        wall, out = timed([sys.executable, os.path.abspath(__file__), "loop", model, data, "--batch", str(a.batch),
                           "--epochs", str(a.epochs)], LOOPS[side])
        after = os.times()
        j = json.loads(out)
        return j["train_s"] / j["steps"], wall, after.children_user + after.children_system - before.children_user - before.children_system, j["eval_s"]
    impl, label = side.split("@") if "@" in side else (side, "")
    res = os.path.join(a.out, f"run-{impl}-{label}")
    before = os.times()
    wall, _ = timed([a.bins[label], "--threads", "1", "converge", *what, "--impl", impl, "--seeds", "1", "--quiet", "--out", res])
    after = os.times()
    r = json.load(open(os.path.join(res, "converge.json")))["runs"][0]
    if r["verdict"] != "ok":
        print(f"model_speed: {side}: verdict {r['verdict']}", file=sys.stderr)
        sys.exit(4)
    cpu = after.children_user + after.children_system - before.children_user - before.children_system
    return r["train_seconds"] / r["steps_done"], wall, cpu, r["eval_seconds"]


def case_args(a, model, data):
    """The converge arguments: `--model --data` (batch 128, one epoch: what a user runs), or the same
    case as a suite file at another batch size or length."""
    if (a.batch, a.epochs) == (128, 1.0):
        return ["--model", model, "--data", data]
    path = os.path.join(a.out, "model.toml")
    with open(path, "w") as f:
        f.write(f'[[converge.case]]\nname = "torchscript"\nworkload = "torchscript"\n'
                f'options = {{ model = "{model}", data = "{data}" }}\nbatch_sizes = [{a.batch}]\nepochs = {a.epochs}\n')
    return [path]


def report(a, sides, per, load):
    fmt = lambda d, k=1: f"{d['median'] * k:.3g} [{d['min'] * k:.3g}-{d['max'] * k:.3g}]"
    print(f"\n{a.rounds} rounds, median [min-max]; one thread; batch {a.batch}; {a.train} training images, {a.val} "
          f"validation; load average {min(load):.1f}-{max(load):.1f}")
    print(f"{'side':<18} {'train step ms':>20} {'whole run s':>20} {'CPU s':>20} {'eval s':>7}   ratios to pytorch in the "
          "same round (step, whole run, CPU): median [min-max]")
    summary = {"rounds": a.rounds, "batch": a.batch, "train": a.train, "val": a.val, "epochs": a.epochs, "load": load, "sides": {}}
    for s in sides:
        row = {k: spread(v) for k, v in per[s].items()}
        ratio = ""
        if s != "pytorch":
            for k in ("train_step", "wall", "cpu"):
                row[k + "_ratio"] = spread([x / y for x, y in zip(per[s][k + "_s"], per["pytorch"][k + "_s"])])
            ratio = ", ".join(fmt(row[k]) for k in ("train_step_ratio", "wall_ratio", "cpu_ratio"))
        summary["sides"][s] = row
        print(f"{s:<18} {fmt(row['train_step_s'], 1e3):>20} {fmt(row['wall_s']):>20} {fmt(row['cpu_s']):>20} "
              f"{row['eval_s']['median']:>7.2f}   {ratio}")
    tmp = os.path.join(a.out, "model_speed.json.tmp")
    with open(tmp, "w") as f:
        json.dump(summary, f, indent=1)
    os.replace(tmp, os.path.join(a.out, "model_speed.json"))


def measure(a):
    a.out = os.path.abspath(a.out)
    os.makedirs(a.out, exist_ok=True)
    model, data = os.path.join(a.out, "m.pt"), os.path.join(a.out, "d.npz")
    make(a.out, a.train, a.val)
    what = case_args(a, model, data)
    impls = a.impl or ["eigen", "libtorch", "reference"]
    sides = [i + (f"@{label}" if label else "") for label in a.bins for i in impls] + list(LOOPS)
    per = {s: {"train_step_s": [], "wall_s": [], "cpu_s": [], "eval_s": []} for s in sides}
    load = []
    for rnd in range(a.rounds):
        try:
            got = {s: run_side(a, s, model, data, what) for s in sides[rnd % len(sides):] + sides[:rnd % len(sides)]}
        except KeyboardInterrupt:  # the finished rounds are reported; the unfinished one is dropped
            print(f"model_speed: interrupted in round {rnd + 1}; reporting the {rnd} finished", file=sys.stderr)
            if rnd:
                a.rounds = rnd
                report(a, sides, per, load)
            return 130
        load.append(os.getloadavg()[0])
        for s, values in got.items():
            for k, v in zip(per[s], values):
                per[s][k].append(v)
        print(f"round {rnd + 1}/{a.rounds} (load {load[-1]:.1f}): " + ", ".join(
            f"{s} {per[s]['train_step_s'][-1] / per['pytorch']['train_step_s'][-1]:.2f}x step, "
            f"{per[s]['wall_s'][-1] / per['pytorch']['wall_s'][-1]:.2f}x run" for s in sides if s != "pytorch"), flush=True)
    report(a, sides, per, load)
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "loop":
        p = argparse.ArgumentParser(prog="model_speed.py loop")
        p.add_argument("model")
        p.add_argument("data")
        p.add_argument("--batch", type=int, default=128)
        p.add_argument("--epochs", type=float, default=1.0)
        p.add_argument("--evals", type=int, default=20)
        p.add_argument("--seed", type=int, default=0)
        a = p.parse_args(sys.argv[2:])
        loop(a.model, a.data, a.batch, a.epochs, a.evals, a.seed)
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--bin", action="append", metavar="[LABEL=]PATH",
                   help="adambench to time (default build/adambench); repeat with labels to compare builds, e.g. "
                        "--bin new=build/adambench --bin old=/tmp/adambench-old")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--impl", action="append", help="implementations to time (default: eigen, libtorch, reference)")
    p.add_argument("--train", type=int, default=6000)
    p.add_argument("--val", type=int, default=1000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--epochs", type=float, default=1.0)
    a = p.parse_args()
    a.bins = {}
    for b in a.bin or ["build/adambench"]:
        label, path = b.split("=", 1) if "=" in b else ("", b)
        if not os.access(path, os.X_OK):
            print(f"model_speed: --bin {path}: not an executable (build first, or pass --bin)", file=sys.stderr)
            return 2
        a.bins[label] = os.path.abspath(path)
    if a.rounds < 1:
        print("model_speed: --rounds must be at least 1", file=sys.stderr)
        return 2
    if len(a.bins) > 1 and "" in a.bins:
        print("model_speed: --bin: label every build when there are several (LABEL=PATH)", file=sys.stderr)
        return 2
    return measure(a)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
