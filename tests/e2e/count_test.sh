#!/usr/bin/env bash
# `adambench count` end to end, in the counting build (build-count/, x86-64-v3 kernels that
# Valgrind can run): figures against the physical minimum, determinism (A/A), the four planted
# speed regressions flagged by `compare`, LibTorch counted, the report and the history reading
# count.json, bad input, a missing Valgrind, an interruption, and compare refusing counts of
# another build. Five counts under Valgrind (each starts LibTorch under it: ~7 s of CPU before the
# first step); shards and merge are unit-tested (tests/unit/test_count.cpp), ADAMBENCH_PLANT in
# ci.gate. usage: count_test.sh ADAMBENCH EXPECT_EXIT MUTANTS SOURCE_DIR
CLI=$1 EXPECT=$2 MUT=$3 ROOT=$4
source "$(dirname "$0")/lib.sh"
SUITE=$ROOT/tests/fixtures/count_fixture.toml

check "count: the fixture suite counted" 0 --stdout "wrote .*count.json" -- "$CLI" count "$SUITE" --out "$tmp/a"
assert "count: figures against the minimum traffic, the cache model and the instrument in count.json" $PY - "$tmp/a/count.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
rows = {r["name"]: r for r in j["results"]}
assert j["kind"] == "count" and j["summary"]["counted"] == len(rows) == 8, (j["summary"], sorted(rows))
assert j["counting"]["cache"]["LL"] == {"size": 8388608, "assoc": 16, "line": 64}, j["counting"]["cache"]
assert j["counting"]["threads"] == 1 and j["context"]["threads"] == 1
assert "-march=x86-64-v3" in j["build"]["kernel_flags"] and j["build"]["isa"].startswith("x86-64-v3"), j["build"]
for k in ("est_cycles_formula", "dram_bytes_rule", "min_bytes_rule"):
    assert len(j["counting"][k]) > 40, k
for name, r in rows.items():
    bpp, mn = r["per_param"]["dram_bytes"], r["min_bytes_per_param"]
    assert mn == (36 if ("+ams" in name or "/36B/" in name) else 28), (name, mn)
    if "flat_1M" in name:
        # Above the simulated LL every step moves at least the minimum; the probe and Eigen no more
        # than 2% above it (measured: 28.0x and 36.0x B/param).
        assert not r["fits_in_ll"] and mn <= bpp <= mn * 1.02 and not r["below_minimum"], (name, bpp)
    else:
        assert r["fits_in_ll"] and bpp < 1.0, (name, bpp)  # cache-resident: about 0 DRAM bytes
    assert r["per_step"]["est_cycles"] > r["per_step"]["instructions"] > 0, name
e = rows["eigen/adam/flat_1M/threads:1"]["per_param"]["instructions"]
assert 1.0 < e < 8.0, e  # AVX2: 8 floats per packet, about 25 instructions per packet
print("figures ok")
PY

# Determinism: the same build and suite give the same figures, bit for bit, also from another
# working folder, with the suite spelled as a relative path and a longer --out (the worker runs in
# "/" with the suite's text: the folder once moved LibTorch's flat 2^20 counts by 4%).
mkdir -p "$tmp/elsewhere/deeper" && cp "$SUITE" "$tmp/elsewhere/count_fixture.toml"
check "count: a second run from another folder" 0 -- bash -c "cd '$tmp/elsewhere/deeper' && '$CLI' count ../count_fixture.toml --out '$tmp/b/a/much/longer/out/path' --quiet"
mv "$tmp/b/a/much/longer/out/path/count.json" "$tmp/b/count.json"
assert "count: A/A runs agree exactly in every event" $PY - "$tmp/a/count.json" "$tmp/b/count.json" <<'PY'
import json, sys
a, b = ({r["name"]: r["events"] for r in json.load(open(f))["results"]} for f in sys.argv[1:])
assert a == b, [k for k in a if a[k] != b.get(k)]
PY
check "compare: A/A is no regression" 0 --stdout "no regression: 8 results compared" -- "$CLI" compare "$tmp/a/count.json" "$tmp/b/count.json"

# Each planted speed regression is flagged on the Eigen rows, and only there: the four plants counted
# in one run of the mutants binary, each then named eigen (as ADAMBENCH_PLANT=NAME would step it).
plants="scalar_loop extra_v_pass double_math temp_buffer"
check "count: the four plants" 0 -- "$MUT" count "$SUITE" --impl eigen~scalar_loop --impl eigen~extra_v_pass \
  --impl eigen~double_math --impl eigen~temp_buffer --out "$tmp/plants" --quiet
for plant in $plants; do
  $PY - "$tmp/plants/count.json" "$plant" "$tmp/p-$plant/count.json" <<'PY'
import json, os, sys
j = json.load(open(sys.argv[1]))
rows = []
for r in j["results"]:
    if r["name"].startswith("eigen~" + sys.argv[2] + "/"):
        r = dict(r, name=r["name"].replace("eigen~" + sys.argv[2], "eigen", 1), impl="eigen")
    elif r["name"].startswith("eigen~"):
        continue
    rows.append(r)
j["results"], j["summary"]["counted"], j["planted"] = rows, len(rows), sys.argv[2]
os.makedirs(os.path.dirname(sys.argv[3]), exist_ok=True)
json.dump(j, open(sys.argv[3], "w"))
PY
  "$CLI" compare "$tmp/a/count.json" "$tmp/p-$plant/count.json" >"$tmp/cmp-$plant.txt" 2>&1; rc=$?
  assert "compare: plant $plant is a regression on every Eigen row, the probe unchanged (exit $rc)" bash -c "
    [ $rc = 1 ] && [ \$(grep -c '^count  *eigen/.* regression ' '$tmp/cmp-$plant.txt') = 4 ] &&
    ! grep -q '^count  *probe/' '$tmp/cmp-$plant.txt'"
done
# An extra read pass over v costs DRAM traffic above the cache: up to 4 B/param (16 MiB here against
# an 8 MiB simulated LL keeps part of v between the passes: measured +1.5 B/param; +4.0 on flat 2^25).
assert "compare: an extra pass over v moves more bytes per parameter above the cache" $PY - "$tmp/a/count.json" "$tmp/p-extra_v_pass/count.json" <<'PY'
import json, sys
a, p = ({r["name"]: r for r in json.load(open(f))["results"]} for f in sys.argv[1:])
k = "eigen/adam/flat_1M/threads:1"
d = p[k]["per_param"]["dram_bytes"] - a[k]["per_param"]["dram_bytes"]
assert 1.0 < d <= 4.2, d
PY

# LibTorch is counted too (its step allocates temporaries: more traffic than the minimum).
check "count: libtorch rows" 0 -- "$CLI" count "$SUITE" --impl libtorch --filter 'flat_4K/' --out "$tmp/lt" --quiet
assert "count: libtorch counted" $PY - "$tmp/lt/count.json" <<'PY'
import json, sys
rows = {r["name"]: r for r in json.load(open(sys.argv[1]))["results"]}
for k in ("libtorch/adam/flat_4K/threads:1", "libtorch/adam+ams/flat_4K/threads:1"):
    assert rows[k]["verdict"] == "counted" and rows[k]["per_param"]["instructions"] > 10, rows[k]
PY

# Readers: the report's counted section, the history.
check "report: counted section" 0 -- $PY "$ROOT/scripts/report.py" "$tmp/a" --out "$tmp/report"
assert "report: bytes per parameter against the minimum in the page and the summary" bash -c "
  grep -q 'Counted speed' '$tmp/report/summary.md' && grep -q 'B/param' '$tmp/report/index.html'"
check "history: add count.json" 0 --stdout "added 1 runs" -- "$CLI" history add "$tmp/a/count.json" --db "$tmp/h.db"

# Compare refuses counts of another instrument: one line naming what differs.
$PY - "$tmp/b/count.json" "$tmp/native.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
j["build"]["kernel_flags"] = j["build"]["kernel_flags"].replace("x86-64-v3", "native")
json.dump(j, open(sys.argv[2], "w"))
PY
check "compare: other kernel flags are refused" 2 --stderr-lines 1 -- "$CLI" compare "$tmp/a/count.json" "$tmp/native.json"

# Bad input: exit 2, one line, nothing written; no Valgrind: exit 4, one line.
for args in "--impl nope" "--filter (" "--filter nothing_matches" "$tmp/none.toml" "--steps 0"; do
  # shellcheck disable=SC2086
  check "count: bad input ($args)" 2 --stderr-lines 1 -- "$CLI" count "$SUITE" $args --out "$tmp/bad"
done
check "count: --threads 2 is bad input" 2 --stderr-lines 1 -- "$CLI" --threads 2 count "$SUITE" --out "$tmp/bad"
assert "count: nothing written on bad input" bash -c "[ ! -e '$tmp/bad/count.json' ]"
check "count: no valgrind on PATH is exit 4" 4 --stderr-lines 1 -- env PATH=/nonexistent "$CLI" count "$SUITE" --out "$tmp/nov"
assert "count: nothing written without valgrind" bash -c "[ ! -e '$tmp/nov/count.json' ]"
check "count-worker outside Valgrind is exit 4" 4 --stderr-lines 1 -- "$CLI" count-worker "$tmp/request.json"

# Interruption: SIGINT stops after the current benchmark; what was counted is kept, marked interrupted.
printf '[speed]\nimpls = ["eigen"]\nflat = [16, 17, 18, 19, 20, 21]\n' >"$tmp/long.toml"
"$CLI" count "$tmp/long.toml" --out "$tmp/int" >"$tmp/int.log" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q '^count: \[3/' "$tmp/int.log" 2>/dev/null && break; sleep 0.2; done
kill -INT $pid
rc=0; wait $pid || rc=$?
assert "count: interrupted run exits 130 (got $rc) and keeps what it counted" $PY - "$tmp/int/count.json" <<PY
import json, sys
assert $rc == 130, open("$tmp/int.log").read()[-2000:]
j = json.load(open(sys.argv[1]))
assert j["interrupted"] is True and j["stopped_before"], j.get("stopped_before")
assert 2 <= len(j["results"]) < 12, len(j["results"])
PY
check "compare: an interrupted candidate is never a pass" 1 -- "$CLI" compare "$tmp/int/count.json" "$tmp/int/count.json"
finish
