#!/usr/bin/env bash
# `adambench check` on traces recorded from real PyTorch training loops (scripts/adambench_trace.py,
# Debian's python3-torch): torch.optim.Adam/AdamW (for-loop and foreach, amsgrad, float64, from a
# saved state) agree; a hand-written Adam with eps inside the sqrt and a perturbed state disagree
# with the first mismatching values shown; bad inputs exit 2 with one line.
CLI=$1 EXPECT=$2
source "$(dirname "$0")/lib.sh"
rec=$(cd "$(dirname "$0")/../../scripts" && pwd)/adambench_trace.py

# record NAME -- recorder args...: writes $tmp/NAME/{TRACE,RESULT}.npz, the check options in $tmp/NAME/args
record() {
  local name=$1; shift 2
  $PY "$rec" --out "$tmp/$name" "$@" >"$tmp/$name.cmd" || { echo "FAIL recording $name"; fails=$((fails+1)); }
  sed 's/^adambench check [^ ]* [^ ]* //' "$tmp/$name.cmd" >"$tmp/$name.args"
}
judge() {  # judge NAME CODE REGEX [extra args]
  local name=$1 code=$2 re=$3; shift 3
  check "$name: exit $code" "$code" --stdout "$re" -- "$CLI" check "$tmp/$name/TRACE.npz" "$tmp/$name/RESULT.npz" $(cat "$tmp/$name.args") "$@"
}

for o in adam adam-foreach adamw adamw-foreach adam-amsgrad; do
  record $o -- --optimizer $o --steps 25
  judge $o 0 "tolerance .* agrees"
done
record f64 -- --optimizer adamw --steps 25 --dtype float64
judge f64 0 "\(float64, adamw "
record warm -- --optimizer adamw --warmup 7 --steps 10
judge warm 0 "from the trace's initial state"
judge warm 1 "DISAGREES" --steps 9    # the step counter and values must match the trace's length

record wrong -- --optimizer wrong --steps 25
judge wrong 1 "first mismatch in params: params\[[0-9]+\]\[[0-9]+\] got [-0-9.e]+ want [-0-9.e]+"

# The state is judged, not only the parameters: m0 off by one part in 1e4.
$PY - "$tmp" <<'PY'
import numpy as np, sys, shutil
d = sys.argv[1]
shutil.copytree(f"{d}/adam", f"{d}/bad_m")
r = dict(np.load(f"{d}/adam/RESULT.npz")); r["m0"] = (r["m0"] * (1 + 1e-4)).astype(r["m0"].dtype)
np.savez(f"{d}/bad_m/RESULT.npz", **r)
r = dict(np.load(f"{d}/adam/RESULT.npz")); del r["v1"]; np.savez(f"{d}/missing_v.npz", **r)
r = dict(np.load(f"{d}/adam/RESULT.npz")); r["p0"] = r["p0"].ravel(); np.savez(f"{d}/shape.npz", **r)
r = dict(np.load(f"{d}/adam/RESULT.npz")); r["p0"] = r["p0"].astype(np.float64); np.savez(f"{d}/dtype.npz", **r)
t = dict(np.load(f"{d}/adam/TRACE.npz")); t["m0"] = np.zeros_like(t["p0"]); np.savez(f"{d}/nostep.npz", **t)
t = dict(np.load(f"{d}/adam/TRACE.npz")); del t["g1"]; np.savez(f"{d}/nog.npz", **t)
PY
cp "$tmp/adam.args" "$tmp/bad_m.args"
judge bad_m 1 "first mismatch in m: m\[0\]\["

A=$(cat "$tmp/adam.args")
check "result without v1: exit 2" 2 --stderr-lines 1 -- "$CLI" check "$tmp/adam/TRACE.npz" "$tmp/missing_v.npz" $A
check "result of another shape: exit 2" 2 --stderr-lines 1 -- "$CLI" check "$tmp/adam/TRACE.npz" "$tmp/shape.npz" $A
check "result of another dtype: exit 2" 2 --stderr-lines 1 -- "$CLI" check "$tmp/adam/TRACE.npz" "$tmp/dtype.npz" $A
check "initial state without step: exit 2" 2 --stderr-lines 1 -- "$CLI" check "$tmp/nostep.npz" "$tmp/adam/RESULT.npz" $A
check "trace without g1: exit 2" 2 --stderr-lines 1 -- "$CLI" check "$tmp/nog.npz" "$tmp/adam/RESULT.npz" $A
check "no such result: exit 2" 2 --stderr-lines 1 -- "$CLI" check "$tmp/adam/TRACE.npz" "$tmp/none.npz" $A
check "amsgrad result without vmax: exit 2" 2 --stderr-lines 1 -- "$CLI" check "$tmp/adam/TRACE.npz" "$tmp/adam/RESULT.npz" $A --amsgrad
check "bad hyperparameter: exit 2" 2 --stderr-lines 1 -- "$CLI" check "$tmp/adam/TRACE.npz" "$tmp/adam/RESULT.npz" --beta1 1.5

# replay starts from the trace's saved state too, and its --compare prints the same table.
check "replay from a saved state agrees" 0 --stdout "step counter 17 \(reference 17\).*agrees" -- \
  "$CLI" replay "$tmp/warm/TRACE.npz" --impl eigen --out "$tmp/warm_eigen.npz" --compare $(cat "$tmp/warm.args")
finish
