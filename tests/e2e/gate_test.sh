#!/usr/bin/env bash
# End-to-end tests of `adambench compare` and `merge`: itself -> 0, a planted 10% slowdown over
# repeated runs -> 1, a planted convergence regression -> 1, garbage -> 2 with one line.
CLI=$1 EXPECT=$2
source "$(dirname "$0")/lib.sh"

"$CLI" agree smoke --quiet --out "$tmp/agree" >/dev/null
check "agree result against itself: 0" 0 --stdout "0 regressions" -- "$CLI" compare "$tmp/agree" "$tmp/agree/agree.json"

$PY - "$tmp" <<'PY'
import json, random, sys, copy
d = sys.argv[1]
def gb(scale, seed, host="h"):
    r = random.Random(seed)
    out = {"context": {"host_name": host, "executable": "adambench"}, "benchmarks": []}
    for name, t in (("eigen/adam/flat_16M/threads:2", 10000.0), ("probe/flat_16M/threads:2", 9500.0)):
        s = scale if name.startswith("eigen") else 1.0
        for i in range(9):
            rt = t * s * r.gauss(1.0, 0.01)
            out["benchmarks"].append({"name": name, "run_name": name, "run_type": "iteration", "repetitions": 9,
                "repetition_index": i, "iterations": 10, "real_time": rt, "cpu_time": rt, "time_unit": "us",
                **({"probe_fraction": 9500.0 / rt} if name.startswith("eigen") else {})})
    return out
json.dump(gb(1.0, 1), open(f"{d}/base.json", "w"))
json.dump(gb(1.0, 2), open(f"{d}/same.json", "w"))
json.dump(gb(1.10, 3), open(f"{d}/slow.json", "w"))
conv = {"schema_version": 1, "kind": "converge", "runs": [
    {"case": "quad", "impl": "eigen", "batch_size": 64, "seed": s, "verdict": "ok", "curve_digest": f"d{s}"} for s in range(3)],
    "aggregates": [{"case": "quad", "impl": "eigen", "batch_size": 64, "failure_rate": 0.0,
                    "final_val_loss": {"median": 0.10, "lo": 0.09, "hi": 0.11}}]}
json.dump(conv, open(f"{d}/conv_base.json", "w"))
bad = copy.deepcopy(conv); bad["runs"][1]["curve_digest"] = "changed"
json.dump(bad, open(f"{d}/conv_bad.json", "w"))
open(f"{d}/garbage.json", "w").write("\x00\x01 not json")
open(f"{d}/trunc.json", "w").write(json.dumps(conv)[:40])
PY
check "speed against a re-run: 0" 0 -- "$CLI" compare "$tmp/base.json" "$tmp/same.json"
check "planted 10% slowdown over 9 repetitions: 1" 1 --stdout "regression" -- "$CLI" compare "$tmp/base.json" "$tmp/slow.json" --markdown "$tmp/summary.md"
assert "markdown summary names the regression" grep -q "### Regressions" "$tmp/summary.md"
check "planted convergence regression: 1" 1 -- "$CLI" compare "$tmp/conv_base.json" "$tmp/conv_bad.json"
check "convergence against itself: 0" 0 -- "$CLI" compare "$tmp/conv_base.json" "$tmp/conv_base.json"
check "garbage: 2, one line" 2 --stderr-lines 1 -- "$CLI" compare "$tmp/base.json" "$tmp/garbage.json"
check "truncated: 2, one line" 2 --stderr-lines 1 -- "$CLI" compare "$tmp/trunc.json" "$tmp/base.json"
check "missing: 2, one line" 2 --stderr-lines 1 -- "$CLI" compare "$tmp/base.json" "$tmp/nope.json"
check "foreign JSON: 2, one line" 2 --stderr-lines 1 -- "$CLI" compare "$tmp/base.json" "$tmp/summary.md"

"$CLI" agree smoke --quiet --shard 1/2 --out "$tmp/s1" >/dev/null
"$CLI" agree smoke --quiet --shard 2/2 --out "$tmp/s2" >/dev/null
check "merge joins shards" 0 -- "$CLI" merge --out "$tmp/merged.json" "$tmp/s1" "$tmp/s2"
assert "merged shards hold every case of the unsharded run" $PY -c "
import json,sys
a=json.load(open('$tmp/agree/agree.json'))['results']; m=json.load(open('$tmp/merged.json'))['results']
key=lambda r:(r['case'],r['impl'],r['dtype'],r['seed'])
assert sorted(map(key,a))==sorted(map(key,m)), (len(a),len(m))"
check "bad shard: 2" 2 --stderr-lines 1 -- "$CLI" agree smoke --shard 3/2
for i in 1 2; do
  "$CLI" --threads 1 converge smoke --case quadratic --case logreg --case rosenbrock --quiet --shard $i/2 --out "$tmp/c$i" >/dev/null
done
"$CLI" --threads 1 converge smoke --case quadratic --case logreg --case rosenbrock --quiet --out "$tmp/call" >/dev/null
check "merge joins converge shards" 0 -- "$CLI" merge --out "$tmp/cmerged.json" "$tmp/c1/converge.json" "$tmp/c2/converge.json"
check "merged converge shards equal the unsharded run" 0 --stdout "0 regressions" -- "$CLI" compare "$tmp/call/converge.json" "$tmp/cmerged.json"
finish
