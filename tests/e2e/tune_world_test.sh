#!/usr/bin/env bash
# `adambench tune` checked against the world: a TorchScript CNN (two conv layers, batch norm,
# dropout) and a Fashion-MNIST subset written by Debian's python3-torch, and a plain PyTorch training
# loop (tests/e2e/torch_loop.py) over the same lr grid, seeds, initial weights (the file's) and data
# order (`adambench data-order`). With --impl libtorch every run ends where the loop's does (the
# same LibTorch computes both: this proves the data order, weights and dropout are the same); with
# the default implementation (eigen) the lr tune recommends is the loop's best lr (or one grid step
# away in a near tie, with the reason). Each check is shown to fail on a planted difference.
CLI=$1 EXPECT=$2
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
plan=$root/tests/fixtures/tune-world.toml
seeds="0 1 2"; lrs="1e-4 3e-4 1e-3 3e-3 1e-2 3e-2"   # tests/fixtures/tune-world.toml's grid and seeds

$PY "$here/tune_fixture.py" "$tmp" --train 512 --val 512 || { echo "FAIL cannot make the fixture (python3-torch, Fashion-MNIST)"; exit 1; }
mkdir -p "$tmp/order" "$tmp/wrong"
for s in $seeds; do "$CLI" data-order --train 512 --batch 32 --steps 60 --seed $s --out "$tmp/order/order-$s.txt" || exit 1; done
assert "data-order: 60 steps of 32 distinct indices per epoch of 512" $PY - "$tmp/order/order-0.txt" <<'PY'
import sys, numpy as np
o = np.loadtxt(sys.argv[1], dtype=np.int64)
assert o.shape == (60, 32) and o.min() >= 0 and o.max() < 512, o.shape
assert len(set(o[:16].ravel())) == 512, "the first epoch (16 steps) is not a permutation"
PY
for s in $seeds; do cp "$tmp/order/order-$(( (s + 1) % 3 )).txt" "$tmp/wrong/order-$s.txt"; done  # planted: each seed takes another's order

check "tune (eigen) on the lr grid" 0 -- "$CLI" --threads 1 tune --model "$tmp/cnn.pt" --data "$tmp/fmnist.npz" --plan "$plan" --out "$tmp/eigen" --quiet
check "tune (libtorch) on the lr grid" 0 -- "$CLI" --threads 1 tune --model "$tmp/cnn.pt" --data "$tmp/fmnist.npz" --plan "$plan" --impl libtorch --out "$tmp/libtorch" --quiet
assert "the PyTorch loop trains the grid" $PY "$here/torch_loop.py" "$tmp/cnn.pt" "$tmp/fmnist.npz" "$tmp/order" --lrs $lrs --seeds $seeds --out "$tmp/torch.json"
assert "libtorch: every run ends at the PyTorch loop's validation loss (same weights, order, dropout)" \
  $PY "$here/tune_world_check.py" same-runs "$tmp/libtorch/tune.json" "$tmp/torch.json"
assert "eigen: the recommended lr is the PyTorch loop's best lr on the same grid" $PY "$here/tune_world_check.py" same-lr "$tmp/eigen/tune.json" "$tmp/torch.json"
assert "libtorch: the same lr" $PY "$here/tune_world_check.py" same-lr "$tmp/libtorch/tune.json" "$tmp/torch.json"

# Planted: the loop takes each seed's minibatches in another seed's order.
$PY "$here/torch_loop.py" "$tmp/cnn.pt" "$tmp/fmnist.npz" "$tmp/wrong" --lrs $lrs --seeds $seeds --out "$tmp/torch-wrong.json" >/dev/null
assert "... and the same-runs check fails when the loop's data order is another seed's" bash -c "$PY '$here/tune_world_check.py' same-runs '$tmp/libtorch/tune.json' '$tmp/torch-wrong.json' | grep -q '^FAIL lr .* seed .*: tune ends at'"
# Planted: a loop whose best lr is the grid's smallest (every other lr's losses made worse).
$PY - "$tmp/torch.json" "$tmp/torch-moved.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
low = min(d["final_val_loss"], key=float)
for lr, runs in d["final_val_loss"].items():
    if lr != low:
        d["final_val_loss"][lr] = {s: v + 10 for s, v in runs.items()}
json.dump(d, open(sys.argv[2], "w"))
PY
assert "... and the same-lr check fails when the loop's best lr is elsewhere" bash -c "$PY '$here/tune_world_check.py' same-lr '$tmp/eigen/tune.json' '$tmp/torch-moved.json' | grep -q '^FAIL tune recommends lr'"
finish
