#!/usr/bin/env bash
# End-to-end tests of `adambench converge --model M.pt --data D.npz` (the torchscript workload):
# a TorchScript MLP saved from Python (Debian's python3-torch) trained by every implementation on a
# learnable synthetic classification set, a regression model (MSE), and bad inputs (exit 2, one
# line on stderr): a garbage .pt, a model whose outputs do not fit the labels, an npz without y_val.
CLI=$1 EXPECT=$2
source "$(dirname "$0")/lib.sh"

# torch.jit.script reads the class's source, so the generator is a file, not stdin.
cat > "$tmp/gen.py" <<'PY'
import sys, numpy as np, torch
out = sys.argv[1]
torch.manual_seed(0)
class MLP(torch.nn.Module):
    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.fc1 = torch.nn.Linear(n_in, 16)
        self.fc2 = torch.nn.Linear(16, n_out)
    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))
torch.jit.script(MLP(8, 3)).save(f"{out}/m.pt")
torch.jit.script(MLP(8, 2)).save(f"{out}/m2.pt")   # 2 logits for 3 classes: does not fit
torch.jit.script(MLP(8, 1)).save(f"{out}/reg.pt")
rng = np.random.default_rng(0)
w = rng.normal(size=(8, 3))
def make(n):  # labels are the argmax of a linear map: learnable, about 1/3 each
    x = rng.normal(size=(n, 8)).astype(np.float32)
    return x, np.argmax(x @ w, axis=1).astype(np.int64)
xt, yt = make(2000); xv, yv = make(500)
np.savez(f"{out}/d.npz", x_train=xt, y_train=yt, x_val=xv, y_val=yv)
np.savez(f"{out}/noyval.npz", x_train=xt, y_train=yt, x_val=xv)
wr = rng.normal(size=(8, 1))
np.savez(f"{out}/r.npz", x_train=xt, y_train=(xt @ wr).astype(np.float32), x_val=xv.astype(np.float64), y_val=(xv @ wr))
open(f"{out}/garbage.pt", "wb").write(b"not a torchscript archive\n" * 10)
PY
$PY "$tmp/gen.py" "$tmp" || { echo "FAIL cannot make the fixtures (python3-torch, numpy)"; exit 1; }

# The one-case suite made by --model/--data (batch 128, one epoch, lr 1e-3): every implementation
# runs, and every seed (which only orders the data) starts from the file's weights.
check "converge --model/--data: exit 0" 0 -- "$CLI" --threads 1 converge --model "$tmp/m.pt" --data "$tmp/d.npz" \
  --impl reference --impl eigen --impl libtorch --seeds 2 --out "$tmp/cli" --quiet
assert "--model/--data: every implementation and seed trained from the same start, accuracy rose" $PY - "$tmp/cli" <<'PY'
import csv, json, sys
d = json.load(open(sys.argv[1] + "/converge.json"))
runs = {(r["impl"], r["seed"]): r for r in d["runs"]}
assert set(runs) == {(i, s) for i in ("reference", "eigen", "libtorch") for s in (0, 1)}, runs.keys()
starts = set()
for name, r in runs.items():
    rows = list(csv.DictReader(open(sys.argv[1] + "/" + r["curve_csv"])))
    first, last = float(rows[0]["val_acc"]), float(rows[-1]["val_acc"])
    starts.add((rows[0]["val_loss"], rows[0]["val_acc"]))
    assert r["steps_done"] > 0 and last > first, (name, first, last)
assert len(starts) == 1, f"implementations started from different weights: {starts}"
PY

# A longer run through a tiny suite: a target accuracy well above chance (1/3), and drift bounds.
cat > "$tmp/s.toml" <<TOML
[converge]
impls = ["reference", "eigen", "libtorch"]
[[converge.case]]
name = "ts"
workload = "torchscript"
options = { model = "$tmp/m.pt", data = "$tmp/d.npz" }
lr = 1e-2
batch_sizes = [32]
epochs = 4
evals = 5
target = 0.8
target_metric = "val_acc"
expect = "target"
max_drift = 1e-3
[[converge.case]]
name = "reg"
workload = "torchscript"
options = { model = "$tmp/reg.pt", data = "$tmp/r.npz", task = "regression" }
lr = 1e-2
batch_sizes = [32]
epochs = 4
evals = 5
max_drift = 1e-3
TOML
check "suite with torchscript cases: exit 0" 0 -- "$CLI" --threads 1 converge "$tmp/s.toml" --out "$tmp/suite" --quiet
assert "classification reaches 0.8 accuracy everywhere; regression MSE falls; reference/eigen drift small" $PY - "$tmp/suite" <<'PY'
import csv, json, math, sys
d = json.load(open(sys.argv[1] + "/converge.json"))
assert len(d["runs"]) == 6, len(d["runs"])
for r in d["runs"]:
    rows = list(csv.DictReader(open(sys.argv[1] + "/" + r["curve_csv"])))
    first, last = float(rows[0]["val_loss"]), float(rows[-1]["val_loss"])
    if r["case"] == "ts":
        assert r["final"]["val_acc"] >= 0.8, (r["impl"], r["final"])
    else:
        assert r["final"]["val_acc"] is None or math.isnan(r["final"]["val_acc"]), r["final"]  # MSE has no accuracy
        assert last < 0.2 * first, (r["impl"], first, last)
for a in d["aggregates"]:
    if a["impl"] == "eigen":
        assert a["drift_from_reference"]["max_abs_val_loss"] < 1e-4, a
PY

check "garbage .pt: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" converge --model "$tmp/garbage.pt" --data "$tmp/d.npz"
check "model outputs do not fit the labels: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" converge --model "$tmp/m2.pt" --data "$tmp/d.npz"
check "regression model on class labels: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" converge --model "$tmp/reg.pt" --data "$tmp/d.npz"
check "npz without y_val: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" converge --model "$tmp/m.pt" --data "$tmp/noyval.npz"
check "missing model file: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" converge --model "$tmp/none.pt" --data "$tmp/d.npz"
check "--model without --data: exit 2, one line" 2 --stderr-lines 1 -- "$CLI" converge --model "$tmp/m.pt"
check "bad input writes nothing" 2 --stderr-lines 1 -- "$CLI" converge --model "$tmp/garbage.pt" --data "$tmp/d.npz" --out "$tmp/none"
assert "no output folder after bad input" test ! -e "$tmp/none/converge.json"
finish
