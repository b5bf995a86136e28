#!/usr/bin/env bash
# End-to-end tests of `adambench compare` and `merge`: coverage before verdict, schema validation,
# speed statistics, the convergence band in both directions (test-only Eigen mutants), shard
# bookkeeping, and the Markdown verdict.
CLI=$1 EXPECT=$2 MUT=$3
source "$(dirname "$0")/lib.sh"
FIX=$(dirname "$0")/../fixtures

"$CLI" agree smoke --quiet --out "$tmp/agree" >/dev/null
check "agree result against itself: 0, verdict line" 0 --stdout "^✅ no regression: [1-9][0-9]* results compared" -- \
  "$CLI" compare "$tmp/agree" "$tmp/agree/agree.json" --markdown "$tmp/self.md"
assert "markdown starts with the verdict" grep -q "^✅ no regression" <(head -1 "$tmp/self.md")
check "agree against speed: different kinds, 2, one line" 2 --stderr-lines 1 -- "$CLI" compare "$tmp/agree/agree.json" "$FIX/speed.json"

$PY - "$tmp" "$FIX" <<'PY'
import json, random, sys, copy
d, fix = sys.argv[1], sys.argv[2]
def w(name, x): json.dump(x, open(f"{d}/{name}", "w"))
ctx = {"host_name": "h", "executable": "adambench", "adambench.schema_version": "1", "adambench.suite": "embedded:ci",
       "adambench.thread_counts": "2", "adambench.build.git_commit": "abc", "adambench.pinned": "no"}
def gb(scale, seed, threads="2"):
    r = random.Random(seed)
    out = {"context": dict(ctx, **{"adambench.thread_counts": threads}), "benchmarks": []}
    for name, t in (("eigen/adam/flat_16M/threads:2", 10000.0), ("probe/flat_16M/threads:2", 9500.0)):
        s = scale if name.startswith("eigen") else 1.0
        for i in range(9):
            rt = t * s * r.gauss(1.0, 0.01)
            out["benchmarks"].append({"name": name, "run_name": name, "run_type": "iteration", "repetitions": 9,
                "repetition_index": i, "iterations": 10, "real_time": rt, "cpu_time": rt, "time_unit": "us",
                **({"probe_fraction": 9500.0 / rt} if name.startswith("eigen") else {})})
    return out
w("base.json", gb(1.0, 1)); w("same.json", gb(1.0, 2)); w("slow.json", gb(1.10, 3)); w("threads1.json", gb(1.0, 4, "1"))
a = json.load(open(f"{d}/agree/agree.json"))
x = copy.deepcopy(a); x["results"][0]["checks"][0]["params"]["failed"] = "zz"; w("zz.json", x)
x = copy.deepcopy(a); x["interrupted"] = True; w("interrupted.json", x)
x = copy.deepcopy(a); x["results"] = [r for r in x["results"] if r["impl"] != "eigen"]; w("no_eigen.json", x)
x = copy.deepcopy(a)
for r in x["results"]:
    if r["impl"] == "eigen": r["verdict"], r["reason"] = "skip", "planted"
w("eigen_skipped.json", x)
x = copy.deepcopy(a)
for r in x["results"]: r["seed"] += 1000
w("disjoint.json", x)
x = copy.deepcopy(a); x["context"]["threads"] = 7; w("threads7.json", x)
open(f"{d}/garbage.json", "w").write("\x00\x01 not json")
open(f"{d}/trunc.json", "w").write(json.dumps(a)[:40])
PY
check "speed against a re-run: 0" 0 -- "$CLI" compare "$tmp/base.json" "$tmp/same.json"
check "planted 10% slowdown over 9 repetitions: 1" 1 --stdout "regression" -- "$CLI" compare "$tmp/base.json" "$tmp/slow.json" --markdown "$tmp/summary.md"
assert "markdown: verdict first, regression listed" $PY -c "
t=open('$tmp/summary.md').read(); assert t.startswith('❌ 2 regressions: 2 results compared'), t[:80]; assert 'Regressions' in t"
check "speed at 1 thread against 2 threads: 2" 2 --stderr-lines 1 -- "$CLI" compare "$tmp/base.json" "$tmp/threads1.json"
check "agree at other threads: 2" 2 --stderr-lines 1 -- "$CLI" compare "$tmp/agree/agree.json" "$tmp/threads7.json"
check "a check's failed count of type string: 2 with the JSON path" 2 --stderr-lines 1 -- "$CLI" compare "$tmp/agree/agree.json" "$tmp/zz.json"
cp "$tmp/log" "$tmp/last"
assert "the error names the field" grep -q 'results\[0\].checks\[0\].params.failed' "$tmp/last"
check "interrupted candidate: 1" 1 -- "$CLI" compare "$tmp/agree/agree.json" "$tmp/interrupted.json"
check "interrupted baseline: 1" 1 -- "$CLI" compare "$tmp/interrupted.json" "$tmp/agree/agree.json"
check "every eigen result missing: 1, listed by name" 1 --stdout "eigen .*in the baseline, not in the candidate" -- "$CLI" compare "$tmp/agree/agree.json" "$tmp/no_eigen.json"
check "--allow-missing turns them into warnings: 0" 0 --stdout "warnings" -- "$CLI" compare "$tmp/agree/agree.json" "$tmp/no_eigen.json" --allow-missing
check "eigen newly skipped: 1" 1 --stdout "newly skipped" -- "$CLI" compare "$tmp/agree/agree.json" "$tmp/eigen_skipped.json"
check "nothing in common: 2" 2 --stderr-lines 1 -- "$CLI" compare "$tmp/agree/agree.json" "$tmp/disjoint.json"
check "garbage: 2, one line" 2 --stderr-lines 1 -- "$CLI" compare "$tmp/base.json" "$tmp/garbage.json"
check "truncated: 2, one line" 2 --stderr-lines 1 -- "$CLI" compare "$tmp/trunc.json" "$tmp/base.json"
check "missing: 2, one line" 2 --stderr-lines 1 -- "$CLI" compare "$tmp/base.json" "$tmp/nope.json"
check "foreign file: 2, one line" 2 --stderr-lines 1 -- "$CLI" compare "$tmp/base.json" "$tmp/summary.md"
check "unwritable --markdown: 4, one line" 4 --stderr-lines 1 -- "$CLI" compare "$tmp/base.json" "$tmp/same.json" --markdown /proc/nope/x.md

"$CLI" agree smoke --quiet --shard 1/2 --out "$tmp/s1" >/dev/null
"$CLI" agree smoke --quiet --shard 2/2 --out "$tmp/s2" >/dev/null
check "merge joins shards" 0 -- "$CLI" merge --out "$tmp/merged.json" "$tmp/s1" "$tmp/s2"
assert "merged shards hold every case of the unsharded run" $PY -c "
import json
a=json.load(open('$tmp/agree/agree.json'))['results']; m=json.load(open('$tmp/merged.json'))['results']
key=lambda r:(r['case'],r['impl'],r['dtype'],r['seed'])
assert sorted(map(key,a))==sorted(map(key,m)), (len(a),len(m))"
check "merge sh1 sh1: 2, names the duplicated shard" 2 --stderr-lines 1 -- "$CLI" merge --out "$tmp/m2.json" "$tmp/s1" "$tmp/s1"
cp "$tmp/log" "$tmp/last"
assert "the error names shard 1/2" grep -q "shard 1/2 given twice" "$tmp/last"
check "merge sh1 alone: 2, names the missing shard" 2 --stderr-lines 1 -- "$CLI" merge --out "$tmp/m3.json" "$tmp/s1"
cp "$tmp/log" "$tmp/last"
assert "the error names shard 2/2" grep -q "shard 2/2 is missing" "$tmp/last"
check "merge agree with speed: 2" 2 --stderr-lines 1 -- "$CLI" merge --out "$tmp/m4.json" "$tmp/s1/agree.json" "$tmp/base.json"
check "bad shard: 2" 2 --stderr-lines 1 -- "$CLI" agree smoke --shard 3/2

check "ab, same build twice on agree smoke: 0" 0 --stdout "no regression" -- "$CLI" ab --a "$CLI" --b "$CLI" --rounds 2 --out "$tmp/ab" -- agree smoke --quiet
check "ab whose child writes nothing: 4 (environment failure)" 4 --stderr-lines 2 -- "$CLI" ab --a /bin/false --b /bin/false --rounds 1 --out "$tmp/abf" -- agree

printf '[speed]\nimpls = ["eigen"]\nflat = [10, 12]\nrepetitions = 2\nmin_time = 0.01\nwarmup_time = 0.0\n' >"$tmp/sp.toml"
for i in 1 2; do "$CLI" --threads 1 speed "$tmp/sp.toml" --shard $i/2 --out "$tmp/sp$i" >/dev/null 2>&1; done
check "merge joins speed shards (adambench.shard in the context)" 0 -- "$CLI" merge --out "$tmp/spm.json" "$tmp/sp1/speed.json" "$tmp/sp2/speed.json"
check "merge speed shard 1/2 twice: 2" 2 --stderr-lines 1 -- "$CLI" merge --out "$tmp/spm2.json" "$tmp/sp1/speed.json" "$tmp/sp1/speed.json"

cases="--case quadratic --case logreg --case rosenbrock"
for i in 1 2; do "$CLI" --threads 1 converge smoke $cases --quiet --shard $i/2 --out "$tmp/c$i" >/dev/null; done
"$CLI" --threads 1 converge smoke $cases --quiet --out "$tmp/call" >/dev/null
check "merge joins converge shards" 0 -- "$CLI" merge --out "$tmp/cmerged.json" "$tmp/c1/converge.json" "$tmp/c2/converge.json"
check "merged converge shards equal the unsharded run, bitwise" 0 --stdout "0 regressions" -- "$CLI" compare --exact "$tmp/call/converge.json" "$tmp/cmerged.json"

# The convergence band, both directions: the baseline runs every implementation (its spread is the
# measured rounding drift); the candidate's eigen is replaced by a mutant's runs, renamed "eigen".
"$MUT" --threads 1 converge smoke $cases --quiet --out "$tmp/cbase" >/dev/null
for m in rounding trains_worse; do
  "$MUT" --threads 1 converge smoke $cases --impl "eigen~$m" --quiet --out "$tmp/c_$m" >/dev/null
  $PY - "$tmp/cbase/converge.json" "$tmp/c_$m/converge.json" "$tmp/cand_$m.json" <<'PY'
import json, sys
base, mut = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for lst in ("runs", "aggregates"):
    swap = [dict(x, impl="eigen") for x in mut[lst] if x["impl"].startswith("eigen~")]
    assert swap, lst
    base[lst] = [x for x in base[lst] if x["impl"] != "eigen"] + swap
base["expectations_unmet"] = [s for s in mut["expectations_unmet"]]
json.dump(base, open(sys.argv[3], "w"))
PY
done
check "eigen~rounding (rounding only): passes the band" 0 -- "$CLI" compare "$tmp/cbase/converge.json" "$tmp/cand_rounding.json"
check "eigen~rounding: fails --exact (bitwise)" 1 -- "$CLI" compare --exact "$tmp/cbase/converge.json" "$tmp/cand_rounding.json"
check "eigen~trains_worse (lr x 0.8): regression" 1 --stdout "steps_to_target .*worse than the band" -- \
  "$CLI" compare "$tmp/cbase/converge.json" "$tmp/cand_trains_worse.json"
finish
