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

# 16-bit parameters (float32 state, as mixed-precision training keeps it): float16 as <f2, bfloat16
# as uint16 bit patterns; a result from a numpy float64 Adam agrees, one parameter 2% off does not.
# Other array names through a --names map.
$PY - "$tmp" "$(dirname "$0")" <<'PY'
import numpy as np, sys
d = sys.argv[1]; sys.path.insert(0, sys.argv[2])
from numpy_adam import adam
def bf16_bits(x):
    b = np.asarray(x, np.float32).view(np.uint32).astype(np.int64)
    return ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)
def bf16_value(bits):
    w = np.asarray(bits.astype(np.uint32) << 16, np.uint32).reshape(-1)
    return w.view(np.float32).reshape(bits.shape).astype(np.float64)
rng = np.random.default_rng(1)
T = 15
for kind in ("f16", "bf16"):
    if kind == "f16":
        enc, dec = (lambda x: np.asarray(x, np.float16)), (lambda x: x.astype(np.float64))
    else:
        enc, dec = bf16_bits, bf16_value
    shapes = [(5, 3), (40,), ()]
    p = [enc(rng.standard_normal(s)) for s in shapes]
    g = [enc(rng.standard_normal((T,) + s)) for s in shapes]
    pf, mf, vf, _ = adam([dec(x) for x in p], [dec(x) for x in g], T, lr=1e-2)
    trace = {f"p{i}": x for i, x in enumerate(p)}; trace.update({f"g{i}": x for i, x in enumerate(g)})
    res = {f"p{i}": enc(x) for i, x in enumerate(pf)}
    res.update({f"m{i}": x.astype(np.float32) for i, x in enumerate(mf)})
    res.update({f"v{i}": x.astype(np.float32) for i, x in enumerate(vf)})
    np.savez(f"{d}/{kind}_trace.npz", **trace); np.savez(f"{d}/{kind}_result.npz", **res)
    # 2% off (27 float16 ulps, 5 bfloat16 ulps): the former 16-bit rule, 2 u16 * bound, let this and
    # even 10% in bfloat16 pass (the bound was ~66 |p| after 15 steps); core/agreement_metrics.cpp now allows
    # one rounding of the float32 master weight only.
    bad = dict(res); q = dec(bad["p1"]); q[7] *= 1.02
    bad["p1"] = enc(q); np.savez(f"{d}/{kind}_bad.npz", **bad)
# Named arrays: the float16 files with other names, and the map.
t = dict(np.load(f"{d}/f16_trace.npz")); r = dict(np.load(f"{d}/f16_result.npz"))
names = {"p0": "fc.weight", "p1": "fc.bias", "p2": "scale"}
nt = {names.get(k, k) if k.startswith("p") else "grad:" + names[k.replace("g", "p")]: v for k, v in t.items()}
nr = {}
for k, v in r.items():
    i = k[1:]; role = k[0]
    nr[names["p" + i] if role == "p" else f"{role}:{names['p' + i]}"] = v
np.savez(f"{d}/named_trace.npz", **nt); np.savez(f"{d}/named_result.npz", **nr)
with open(f"{d}/names.toml", "w") as f:
    for i in range(3):
        n = names[f"p{i}"]
        f.write(f'p{i} = "{n}"\ng{i} = "grad:{n}"\nm{i} = "m:{n}"\nv{i} = "v:{n}"\n')
with open(f"{d}/badnames.toml", "w") as f:
    f.write('q0 = "fc.weight"\n')
PY
for k in f16 bf16; do
  check "$k trace agrees" 0 --stdout "\((b?float16), adam " -- "$CLI" check "$tmp/${k}_trace.npz" "$tmp/${k}_result.npz" --lr 0.01
  check "$k parameter 2% off disagrees" 1 --stdout "first mismatch in params: params\[1\]\[7\]" -- \
    "$CLI" check "$tmp/${k}_trace.npz" "$tmp/${k}_bad.npz" --lr 0.01
done
check "named arrays through --names agree" 0 --stdout "float16" -- \
  "$CLI" check "$tmp/named_trace.npz" "$tmp/named_result.npz" --lr 0.01 --names "$tmp/names.toml"
check "named arrays without --names: exit 2" 2 --stderr-lines 1 -- "$CLI" check "$tmp/named_trace.npz" "$tmp/named_result.npz"
check "unknown role in --names: exit 2" 2 --stderr-lines 1 -- \
  "$CLI" check "$tmp/named_trace.npz" "$tmp/named_result.npz" --names "$tmp/badnames.toml"

# replay starts from the trace's saved state too, and its --compare prints the same table.
check "replay from a saved state agrees" 0 --stdout "step counter 17 \(reference 17\).*agrees" -- \
  "$CLI" replay "$tmp/warm/TRACE.npz" --impl eigen --out "$tmp/warm_eigen.npz" --compare $(cat "$tmp/warm.args")
finish
