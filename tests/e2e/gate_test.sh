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
def gb(scale, seed, threads="2", runs=1):
    # Whole runs differ by about 1% (the run's own state), repetitions inside a run by 0.5%.
    r = random.Random(seed)
    out = {"context": dict(ctx, **{"adambench.thread_counts": threads}), "benchmarks": []}
    for run in range(1, runs + 1):
        for name, t in (("eigen/adam/flat_16M/threads:2", 10000.0), ("probe/flat_16M/threads:2", 9500.0)):
            s = (scale if name.startswith("eigen") else 1.0) * r.gauss(1.0, 0.01)
            for i in range(9):
                rt = t * s * r.gauss(1.0, 0.005)
                out["benchmarks"].append({"name": name, "run_name": name, "run_type": "iteration", "repetitions": 9,
                    "repetition_index": i, "iterations": 10, "real_time": rt, "cpu_time": rt, "time_unit": "us",
                    **({"adambench_run": run} if runs > 1 else {}),
                    **({"probe_fraction": 9500.0 / rt} if name.startswith("eigen") else {})})
    return out
w("base.json", gb(1.0, 1, runs=3)); w("same.json", gb(1.0, 2, runs=3)); w("slow.json", gb(1.10, 3, runs=3))
w("threads1.json", gb(1.0, 4, "1")); w("base1.json", gb(1.0, 5)); w("slow1.json", gb(1.10, 6))
def noise(floor):
    x = gb(1.0, 7, runs=3)
    x["adambench_noise"] = {"method": "test", "runs": 3, "benchmarks": {
        "eigen/adam/flat_16M/threads:2": {"time": floor, "probe_fraction": floor}, "probe/flat_16M/threads:2": {"time": floor}}}
    return x
w("noise3.json", noise(0.03)); w("noise15.json", noise(0.15))
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
check "speed, 3 whole runs against 3 re-runs: 0, both unchanged" 0 --stdout "0 inconclusive, 0 warnings, 2 unchanged" -- "$CLI" compare "$tmp/base.json" "$tmp/same.json"
check "planted 10% slowdown, 3 whole runs per side: 1" 1 --stdout "regression .*Welch t on log run medians" -- "$CLI" compare "$tmp/base.json" "$tmp/slow.json" --markdown "$tmp/summary.md"
assert "markdown: verdict first, regression listed" $PY -c "
t=open('$tmp/summary.md').read(); assert t.startswith('❌ 1 regression: 2 results compared'), t[:80]; assert 'Regressions' in t"
check "the same slowdown, one run per side (9 repetitions are not 9 samples): 0, inconclusive" 0 --stdout "eigen.*inconclusive .*noise between runs is unmeasured" -- \
  "$CLI" compare "$tmp/base1.json" "$tmp/slow1.json"
check "one run per side with the 3-run baseline's noise (--noise): 0, inconclusive, no test possible" 0 --stdout "eigen.*inconclusive .*needs >= 2 whole runs per side" -- \
  "$CLI" compare "$tmp/base1.json" "$tmp/slow1.json" --noise "$tmp/noise3.json"
check "a 10% slowdown under a measured 15% noise floor: 0, unchanged" 0 --stdout "0 regressions, 0 improvements, 0 inconclusive, 0 warnings, 2 unchanged" -- \
  "$CLI" compare "$tmp/base.json" "$tmp/slow.json" --noise "$tmp/noise15.json"
check "--noise naming a file without noise floors: 2, one line" 2 --stderr-lines 1 -- "$CLI" compare "$tmp/base.json" "$tmp/slow.json" --noise "$tmp/base1.json"
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

printf '[speed]\nimpls = ["eigen"]\nflat = [10]\nrepetitions = 2\nmin_time = 0.01\nwarmup_time = 0.0\n' >"$tmp/cal.toml"
check "calibrate: 4 A/A runs in groups of 2" 0 --stdout "A/A calibration: 4 runs in groups of 2, [0-9]+ comparisons" -- \
  "$CLI" calibrate --bin "$CLI" --runs 4 --group 2 --out "$tmp/cal" -- --threads 1 speed "$tmp/cal.toml"
assert "calibrate: baseline.json holds runs 1..4 and the noise floor of every benchmark; calibration.json the same floors" $PY -c "
import json
b = json.load(open('$tmp/cal/baseline.json')); c = json.load(open('$tmp/cal/calibration.json'))
names = {x['run_name'] for x in b['benchmarks']}
assert {x['adambench_run'] for x in b['benchmarks']} == {1, 2, 3, 4}
assert set(b['adambench_noise']['benchmarks']) == names and len(names) == 2, names
assert c['adambench_noise'] == b['adambench_noise'] and c['runs'] == 4 and c['group'] == 2 and c['noise'] == 'in sample'
"
$PY -c "
import json
b = json.load(open('$tmp/cal/baseline.json'))
# The measured floors of 1K-parameter steps can exceed any planted change on a busy machine: the
# baseline keeps calibrate's layout but states 5% floors, so the outcome does not depend on the load.
for e in b['adambench_noise']['benchmarks'].values():
    for k in e: e[k] = 0.05
# Likewise the spread between the runs: on a busy machine one run's median of a 2 us step came out
# twice the others', and a tripled time read as inconclusive (Welch p=0.0503, 4 vs 4 runs). Each
# run's rows are rescaled so the run medians sit 1% apart (2% for the probe, so eigen's fraction of
# the probe still varies); the rows within a run keep their spread.
from statistics import median
rows = {}
for x in b['benchmarks']:
    rows.setdefault((x['run_name'], x['adambench_run']), []).append(x)
for (name, run), xs in rows.items():
    m = median(x['real_time'] for x in xs if x.get('run_type') == 'iteration')
    step = 0.01 if name.startswith('eigen') else 0.02
    for x in xs:
        if x.get('aggregate_name') != 'cv':
            x['real_time'] *= 1000 * (1 + step * run) / m
json.dump(b, open('$tmp/cal/base5.json', 'w'))
b.pop('adambench_noise')
for x in b['benchmarks']:
    if x['run_name'].startswith('eigen') and 'real_time' in x: x['real_time'] *= 3
json.dump(b, open('$tmp/cal/slow3.json', 'w'))"
check "against a calibrated baseline, eigen 3x slower in all 4 runs: 1, judged with the baseline's stored noise floors" 1 --stdout "eigen.* regression .*from the baseline's calibration, 4 runs" -- \
  "$CLI" compare "$tmp/cal/base5.json" "$tmp/cal/slow3.json"
check "calibrate: --runs below two groups: 2, one line" 2 --stderr-lines 1 -- "$CLI" calibrate --bin "$CLI" --runs 3 --out "$tmp/cal3" -- speed "$tmp/cal.toml"
check "calibrate of an agree run: 2" 2 -- "$CLI" calibrate --bin "$CLI" --runs 4 --group 2 --out "$tmp/cal4" -- agree smoke --quiet
cp "$tmp/log" "$tmp/last"
assert "... saying that calibrate measures speed" grep -q "calibrate measures speed" "$tmp/last"
check "a malformed ADAMBENCH_PLANTED_SLOWDOWN: 2" 2 --stderr-lines 1 -- env ADAMBENCH_PLANTED_SLOWDOWN=eigen "$CLI" speed "$tmp/cal.toml"
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
