#!/usr/bin/env bash
# Merged shards equal the unsharded run, field by field (tests/ci/same_results.py; timing fields
# excepted), for agree, converge, speed and sweep on the light suite (tests/ci/light.toml) split
# 1, 2, 3 and 8 ways. Speed has 2 shape lists, converge 2 cases and sweep 3 studies, so 3 and 8
# shards hold empty slices: each must still write its piece, marked, and exit 0. Then what merge
# must refuse (pieces of two runs, a stale piece, nothing selected anywhere), and the comparison
# tool itself must fail on planted differences. scripts/ci-gate.sh's use of all this: ci.gate.
CLI=$1 EXPECT=$2 ROOT=$3
source "$(dirname "$0")/lib.sh"
SUITE=$ROOT/tests/ci/light.toml SAME=$ROOT/tests/ci/same_results.py

one_run() {  # one_run KIND DIR [ARGS...]: one run of KIND on the light suite, results in DIR
  local kind=$1 dir=$2; shift 2
  case $kind in
    agree) "$CLI" --threads 2 agree "$SUITE" --quiet --out "$dir" "$@" ;;
    converge) "$CLI" --threads 1 converge "$SUITE" --quiet --out "$dir" "$@" ;;
    speed) "$CLI" --threads 2 speed "$SUITE" --out "$dir" --benchmark_min_time=0.001 "$@" ;;  # timings are not compared: short ones do
    sweep) "$CLI" --threads 1 sweep "$SUITE" --quiet --out "$dir" "$@" ;;
  esac >"$dir.log" 2>&1
}
empty() {  # empty FILE: the piece says it selected nothing
  $PY -c "import json, sys; j = json.load(open(sys.argv[1])); sys.exit(0 if j.get('empty_slice') is True or j.get('context', {}).get('adambench.empty_slice') == 'true' else 1)" "$1"
}

for kind in agree converge speed sweep; do
  mkdir -p "$tmp/whole"
  ADAMBENCH_RUN_ID=whole one_run "$kind" "$tmp/whole/$kind" || echo "FAIL unsharded $kind: exit $?"
  for n in 1 2 3 8; do
    codes="" empties=0
    for ((i = 1; i <= n; i++)); do
      mkdir -p "$tmp/n$n/$i"
      ADAMBENCH_RUN_ID=run-$n one_run "$kind" "$tmp/n$n/$i/$kind" --shard "$i/$n"; codes+="$? "
      empty "$tmp/n$n/$i/$kind/$kind.json" && empties=$((empties + 1))
    done
    assert "$kind in $n shards: every shard wrote its piece and exited 0 ($codes; $empties empty slices)" \
      bash -c "[ '${codes//[0 ]/}' = '' ] && [ \$(ls '$tmp'/n$n/*/$kind/$kind.json | wc -l) = $n ]"
    check "$kind in $n shards: merge --run-id run-$n" 0 -- "$CLI" merge --run-id "run-$n" --out "$tmp/n$n/$kind.json" "$tmp"/n"$n"/*/"$kind"/"$kind".json
    check "$kind in $n shards: merged = unsharded" 0 --stdout "^$kind: same" -- $PY "$SAME" "$tmp/whole/$kind/$kind.json" "$tmp/n$n/$kind.json"
  done
done
# The light suite is sized so that 8 shards leave slices empty for every kind but agree (8 cases).
assert "8 shards: speed, converge and sweep had empty slices" bash -c "
  for k in speed converge sweep; do $PY -c \"import json, sys; sys.exit(0 if json.load(open(sys.argv[1])).get('empty_slice') is True or
    json.load(open(sys.argv[1]))['context'].get('adambench.empty_slice') == 'true' else 1)\" '$tmp'/n8/8/\$k/\$k.json || exit 1; done"

# What merge refuses. Pieces of two runs: exit 2 naming the shard and both run ids.
mkdir -p "$tmp/other"
ADAMBENCH_RUN_ID=run-other one_run agree "$tmp/other/agree" --shard 2/2
check "pieces of two runs: 2" 2 --stderr-lines 1 -- "$CLI" merge --out "$tmp/mixed.json" "$tmp/n2/1/agree/agree.json" "$tmp/other/agree/agree.json"
"$CLI" merge --out "$tmp/mixed.json" "$tmp/n2/1/agree/agree.json" "$tmp/other/agree/agree.json" 2>"$tmp/err"
assert "...naming shard 2/2 and both runs, writing nothing" bash -c "
  grep -q 'shard 2/2' '$tmp/err' && grep -q \"run 'run-other'\" '$tmp/err' && grep -q \"run 'run-2'\" '$tmp/err' && [ ! -e '$tmp/mixed.json' ]"
# A stale piece (another run's, left in the folder) with the run given: it counts as missing.
check "a stale piece under --run-id: 2, the shard is missing" 2 --stderr-lines 1 -- \
  "$CLI" merge --run-id run-2 --out "$tmp/stale.json" "$tmp/n2/1/agree/agree.json" "$tmp/other/agree/agree.json"
"$CLI" merge --run-id run-2 --out "$tmp/stale.json" "$tmp/n2/1/agree/agree.json" "$tmp/other/agree/agree.json" 2>"$tmp/err"
assert "...and the error says whose piece was left out" grep -q "shard 2/2 is missing.*run 'run-other', left out" "$tmp/err"
# Nothing selected anywhere: every piece an empty slice (made from shard 8/8's by renumbering).
for i in 1 2; do
  $PY -c "import json, sys; j = json.load(open(sys.argv[1])); j['shard'] = sys.argv[2]; json.dump(j, open(sys.argv[3], 'w'))" \
    "$tmp/n8/8/converge/converge.json" "$i/2" "$tmp/empty$i.json"
done
check "every piece selected nothing: merge exits 3" 3 --stderr-lines 1 -- "$CLI" merge --out "$tmp/none.json" "$tmp/empty1.json" "$tmp/empty2.json"
assert "...and writes nothing" test ! -e "$tmp/none.json"

# The comparison fails where merged and unsharded differ (each planted in a copy of a merged file).
plant() {  # plant KIND PYTHON-STATEMENT-ON-j: a changed copy of the 3-shard merge of KIND
  $PY -c "import json, sys; j = json.load(open(sys.argv[1])); $2; json.dump(j, open(sys.argv[2], 'w'))" "$tmp/n3/$1.json" "$tmp/planted.json"
}
plant speed "j['adambench_rows'] = j['adambench_rows'][:1]"   # what merge did before: shard 1's rows only
check "planted: speed rows of one shard only: 1" 1 -- $PY "$SAME" "$tmp/whole/speed/speed.json" "$tmp/planted.json"
plant converge "j['runs'][0]['curve_digest'] = '0' * 16"
check "planted: a different curve: 1" 1 -- $PY "$SAME" "$tmp/whole/converge/converge.json" "$tmp/planted.json"
plant agree "j['results'].pop()"
check "planted: an agreement result missing: 1" 1 -- $PY "$SAME" "$tmp/whole/agree/agree.json" "$tmp/planted.json"
plant sweep "j['claims'][0]['verdict'] = 'holds'"
check "planted: a claim's verdict changed: 1" 1 -- $PY "$SAME" "$tmp/whole/sweep/sweep.json" "$tmp/planted.json"
plant speed "j['benchmarks'][0]['real_time'] *= 3; j['adambench_rows'][0]['time_us']['median'] *= 3"
check "a timing field alone differs: still the same" 0 -- $PY "$SAME" "$tmp/whole/speed/speed.json" "$tmp/planted.json"
check "different kinds: 2" 2 -- $PY "$SAME" "$tmp/whole/agree/agree.json" "$tmp/n3/converge.json"
finish
