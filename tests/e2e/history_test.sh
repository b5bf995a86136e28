#!/usr/bin/env bash
# End-to-end tests of `adambench history` on generated histories (speed results made from
# tests/fixtures/speed.json with planted changes): a flat noisy history -> check 0, a planted step
# -> 1 at its run, a planted slow drift that pairwise `compare` never flags -> 1, a slow newest run
# -> 1; real agree/converge results and merged shards; the same run twice stored once; two writers
# at once; bad result files (truncated, schema-invalid, too deep: the loader compare and merge use)
# and corrupt, foreign or newer databases -> 2 with one line, untouched.
CLI=$1 EXPECT=$2
source "$(dirname "$0")/lib.sh"
FIX=$(cd "$(dirname "$0")/../fixtures" && pwd)/speed.json

# gen DIR N SCENARIO SEED: N runs of the fixture with 2% run-to-run noise per benchmark.
gen() {
  $PY - "$FIX" "$@" <<'PY'
import json, random, sys, os, copy
fix, out, n, scenario, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
base = json.load(open(fix))
rng = random.Random(seed)
def factor(i, name):
    if name.startswith("probe/"): return 1.0
    if scenario == "step" and name.startswith("eigen/adam/resnet50/") and i >= 20: return 1.25
    if scenario == "drift" and name.startswith("eigen/adam/gpt2_small/"): return 1.0 + 0.003 * i
    if scenario == "tail" and name.startswith("eigen/adam/flat_16M/") and i == n - 1: return 1.5
    return 1.0
for i in range(n):
    j = copy.deepcopy(base)
    j["context"]["adambench.build.git_commit"] = "%08x" % rng.getrandbits(32) + "%032x" % i
    j["context"]["adambench.created"] = "2026-01-%02dT%02d:00:00Z" % (1 + i // 24, i % 24)
    noise = {}
    for b in j["benchmarks"]:
        name = b["run_name"]
        if name not in noise: noise[name] = factor(i, name) * (1.0 + rng.gauss(0.0, 0.02))
        m = noise[name]
        for k in ("real_time", "cpu_time"): b[k] *= m
        for k in ("params_per_second", "bytes_per_second", "probe_fraction"):
            if k in b: b[k] /= m
    os.makedirs(f"{out}/run{i:02d}", exist_ok=True)
    json.dump(j, open(f"{out}/run{i:02d}/speed.json", "w"))
PY
}
runs() { $PY -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from runs').fetchone()[0])" "$1"; }

gen "$tmp/flat" 30 flat 1
gen "$tmp/step" 30 step 2
gen "$tmp/drift" 40 drift 3
gen "$tmp/tail" 12 tail 4

check "add 30 flat runs" 0 --stdout "added 30 runs \(0 already stored\)" -- "$CLI" history add "$tmp"/flat/run*/speed.json --db "$tmp/flat.db"
check "flat noisy history: no alarm" 0 --stdout " 0 regressions" -- "$CLI" history check --db "$tmp/flat.db"
"$CLI" history add "$tmp"/step/run*/speed.json --db "$tmp/step.db" >/dev/null
check "planted step: found at run 21" 1 \
  --stdout "REGRESSION speed/eigen/adam/resnet50/threads:1 time_ns: step \+2[0-9]\.[0-9]% at run 21 of 30" -- "$CLI" history check --db "$tmp/step.db"
check "planted step: only that benchmark" 0 -- bash -c "! '$CLI' history check --db '$tmp/step.db' | grep REGRESSION | grep -v resnet50 | grep -v probe"
check "--filter leaves the step out: no alarm" 0 --stdout " 0 regressions" -- "$CLI" history check --db "$tmp/step.db" --filter "flat_"
check "--recent 5: the step is older, no alarm" 0 -- "$CLI" history check --db "$tmp/step.db" --recent 5
"$CLI" history add "$tmp"/drift/run*/speed.json --db "$tmp/drift.db" >/dev/null
check "planted slow drift: found" 1 --stdout "REGRESSION speed/eigen/adam/gpt2_small/threads:1 time_ns: drift \+" -- "$CLI" history check --db "$tmp/drift.db"
# ...while the pairwise gate sees no regression between neighbouring runs.
for k in 05 17 28 38; do
  n=$(printf %02d $((10#$k + 1)))
  check "drift: compare run $k with run $n: no regression" 0 --stdout " 0 regressions" -- "$CLI" compare "$tmp/drift/run$k/speed.json" "$tmp/drift/run$n/speed.json"
done
"$CLI" history add "$tmp"/tail/run*/speed.json --db "$tmp/tail.db" >/dev/null
check "a slow newest run: found" 1 --stdout "REGRESSION speed/eigen/adam/flat_16M/threads:1 time_ns: step \+[4-5][0-9]\.[0-9]% at run 12 of 12" -- "$CLI" history check --db "$tmp/tail.db"
check "show: trends table" 0 --stdout "speed/eigen/adam/resnet50/threads:1 time_ns +30 " -- "$CLI" history show --db "$tmp/step.db" --filter resnet50
check "show --since 10: change against 10 commits back" 0 --stdout "vs 10 back" -- "$CLI" history show --db "$tmp/step.db" --since 10 --filter "eigen.*resnet50.* time_ns"
check "show: a bad --filter is bad input" 2 --stderr-lines 1 -- "$CLI" history show --db "$tmp/step.db" --filter "("

# The report's trend section (scripts/report.py --history): the step marked, the flat history clean.
REPORT=$(dirname "$0")/../../scripts/report.py
check "report --history: step history" 0 -- $PY -B "$REPORT" --history "$tmp/step.db" --out "$tmp/rep-step"
assert "report: the regression named in summary.md" grep -q "REGRESSION at the newest run in .*resnet50/threads:1 time_ns step +2" "$tmp/rep-step/summary.md"
assert "report: the change point listed at run 21" grep -Eq "resnet50/threads:1 time_ns \| step \| \+2[0-9.]+% .*run 21 " "$tmp/rep-step/summary.md"
assert "report: trend figures written" test -s "$tmp/rep-step/fig-history-speed-fraction.svg" -a -s "$tmp/rep-step/fig-history-speed-params.svg"
check "report --history: flat history" 0 -- $PY -B "$REPORT" --history "$tmp/flat.db" --out "$tmp/rep-flat"
assert "report: no regression, no change point on the flat history" bash -c "! grep -q REGRESSION '$tmp/rep-flat/summary.md' && grep -q 'No change points' '$tmp/rep-flat/summary.md'"

# The nightly CI step's script (scripts/ci-gate.sh history OUT DB): a slow newest night fails it,
# after the history and the trend report are written; a normal night passes.
GATE=$(dirname "$0")/../../scripts/ci-gate.sh
"$CLI" history add "$tmp"/tail/run0*/speed.json "$tmp"/tail/run10/speed.json --db "$tmp/nightly.db" >/dev/null
mkdir -p "$tmp/night/merged/speed" && cp "$tmp/tail/run11/speed.json" "$tmp/night/merged/speed/"
check "ci-gate.sh history: the slow night fails" 1 --stdout "regression" -- env ADAMBENCH_BIN="$CLI" bash "$GATE" history "$tmp/night" "$tmp/nightly.db"
assert "ci-gate.sh history: the night is stored" test "$(runs "$tmp/nightly.db")" = 12
assert "ci-gate.sh history: the check names the regression" grep -q "REGRESSION speed/eigen/adam/flat_16M" "$tmp/night/history/history-check.md"
assert "ci-gate.sh history: the trend report is written" test -s "$tmp/night/history/report/index.html"
mkdir -p "$tmp/night2/merged/speed" && cp "$tmp/flat/run29/speed.json" "$tmp/night2/merged/speed/"
check "ci-gate.sh history: a normal night passes" 0 --stdout "gate: pass" -- env ADAMBENCH_BIN="$CLI" bash "$GATE" history "$tmp/night2" "$tmp/flat.db"

# Real results: agree and converge, the same run twice, merged shards.
"$CLI" --threads 1 agree smoke --quiet --out "$tmp/agree" >/dev/null
"$CLI" --threads 1 converge smoke --case quadratic --quiet --out "$tmp/conv" >/dev/null
for s in 1 2; do "$CLI" --threads 1 agree smoke --quiet --shard $s/2 --out "$tmp/shard$s" >/dev/null; done
"$CLI" merge --out "$tmp/merged.json" "$tmp/shard1/agree.json" "$tmp/shard2/agree.json" >/dev/null
check "add agree, converge and merged shards" 0 --stdout "added 3 runs" -- "$CLI" history add "$tmp/agree/agree.json" "$tmp/conv/converge.json" "$tmp/merged.json" --db "$tmp/real.db"
check "a folder: its result files, already stored" 0 --stdout "added 0 runs \(2 already stored\)" -- "$CLI" history add "$tmp/agree" "$tmp/conv" --db "$tmp/real.db"
mkdir -p "$tmp/nothing"
check "a folder without results: 2, one line" 2 --stderr-lines 1 -- "$CLI" history add "$tmp/nothing" --db "$tmp/real.db"
check "the same runs again: stored once" 0 --stdout "added 0 runs \(3 already stored\), 3 runs" -- "$CLI" history add "$tmp/agree/agree.json" "$tmp/conv/converge.json" "$tmp/merged.json" --db "$tmp/real.db"
check "show: agree worst error and steps to target" 0 --stdout "converge/quadratic/eigen/b[0-9]+ steps_to_target" -- "$CLI" history show --db "$tmp/real.db"
check "show: agree figures" 0 --stdout "agree/.*/eigen/float32 worst_err_u" -- "$CLI" history show --db "$tmp/real.db"
check "check with one run per figure: nothing checked" 3 -- "$CLI" history check --db "$tmp/real.db"

# Two writers at once: both succeed, every run stored once, the file intact.
"$CLI" history add "$tmp"/flat/run0*/speed.json "$tmp"/flat/run1*/speed.json --db "$tmp/both.db" >"$tmp/w1" 2>&1 & p1=$!
"$CLI" history add "$tmp"/flat/run1*/speed.json "$tmp"/flat/run2*/speed.json --db "$tmp/both.db" >"$tmp/w2" 2>&1 & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
assert "two concurrent writers: both exit 0" test "$r1$r2" = 00
assert "two concurrent writers: 30 runs, each once" test "$(runs "$tmp/both.db")" = 30
assert "two concurrent writers: integrity_check ok" test "$($PY -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('pragma integrity_check').fetchone()[0])" "$tmp/both.db")" = ok

# Bad result files, read by the same loader as compare and merge (schema, depth guard): 2, one line
# naming the file and where in it, and nothing added although the good file before it is new.
printf '{"kind": "agree", "results": [' >"$tmp/trunc.json"
$PY - "$tmp/flat/run00/speed.json" "$tmp" <<'PY'
import json, sys
src, out = sys.argv[1], sys.argv[2]
d = json.load(open(src)); d["benchmarks"][1]["real_time"] = "slow"; json.dump(d, open(out + "/typed.json", "w"))
d = json.load(open(src)); del d["context"]["adambench.thread_counts"]; json.dump(d, open(out + "/nocontext.json", "w"))
s = json.dumps(json.load(open(src))); open(out + "/deep.json", "w").write(s[:-1] + ', "deep": ' + "[" * 100 + "]" * 100 + "}")
PY
figures() { $PY -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from figures').fetchone()[0])" "$1"; }
before="$(runs "$tmp/tail.db") $(figures "$tmp/tail.db")"
for bad in 'trunc|trunc.json: not valid JSON, truncated' 'typed|typed.json: does not match the speed result schema at [$][.]benchmarks[[]1[]][.]real_time' \
           'nocontext|nocontext.json: does not match the speed result schema at [$][.]context' 'deep|deep.json: nested deeper than 64 levels'; do
  f=${bad%%|*} re=${bad#*|}
  check "$f: a bad result after a new good one: 2, one line" 2 --stderr-lines 1 -- "$CLI" history add "$tmp/flat/run00/speed.json" "$tmp/$f.json" --db "$tmp/tail.db"
  assert "$f: the line names the file and where" bash -c "'$CLI' history add '$tmp/flat/run00/speed.json' '$tmp/$f.json' --db '$tmp/tail.db' 2>&1 >/dev/null | grep -Eq '$re'"
done
check "a missing result file: 2, one line" 2 --stderr-lines 1 -- "$CLI" history add "$tmp/nope.json" --db "$tmp/tail.db"
assert "nothing added: runs and figures as before" test "$(runs "$tmp/tail.db") $(figures "$tmp/tail.db")" = "$before"
check "a bad file and no history yet: no file created" 2 --stderr-lines 1 -- "$CLI" history add "$tmp/flat/run00/speed.json" "$tmp/typed.json" --db "$tmp/fresh.db"
assert "no history file written" test ! -e "$tmp/fresh.db"

# Corrupt, foreign, newer, missing databases: exit 2, one line, the file untouched.
cp "$tmp/step.db" "$tmp/corrupt.db"
$PY - "$tmp/corrupt.db" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read())
page = int.from_bytes(b[16:18], "big"); b[2 * page + 8: 3 * page] = b"\xa5" * (page - 8)
open(p, "wb").write(b)
PY
printf 'this is not a database\n%.0s' {1..200} >"$tmp/garbage.db"
$PY -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('create table t(x)'); c.commit()" "$tmp/foreign.db"
cp "$tmp/tail.db" "$tmp/newer.db"; $PY -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('pragma user_version=99'); c.commit()" "$tmp/newer.db"
cp "$tmp/step.db" "$tmp/truncated.db"; truncate -s $(( $(stat -c %s "$tmp/step.db") / 2 )) "$tmp/truncated.db"
for db in corrupt truncated garbage foreign newer; do
  sum=$(sha256sum <"$tmp/$db.db")
  check "$db database: add -> 2, one line" 2 --stderr-lines 1 -- "$CLI" history add "$tmp/flat/run00/speed.json" --db "$tmp/$db.db"
  check "$db database: show -> 2" 2 --stderr-lines 1 -- "$CLI" history show --db "$tmp/$db.db"
  check "$db database: check -> 2" 2 --stderr-lines 1 -- "$CLI" history check --db "$tmp/$db.db"
  check "$db database: report --history -> 2" 2 --stderr-lines 1 -- $PY -B "$REPORT" --history "$tmp/$db.db" --out "$tmp/rep-$db"
  assert "$db database: untouched" test "$(sha256sum <"$tmp/$db.db")" = "$sum"
done
check "missing database: show -> 2" 2 --stderr-lines 1 -- "$CLI" history show --db "$tmp/none.db"
: >"$tmp/empty.db"
check "empty database: check -> 3 (nothing checked)" 3 -- "$CLI" history check --db "$tmp/empty.db"
finish
