#!/usr/bin/env bash
# The counted speed gate against the committed baseline, as the pull-request gate runs it
# (scripts/ci-gate.sh pr: the `ci` slice with its filter, reports/baselines/count-ci.json), so
# scripts/test.sh enforces counted speed too: a change that makes a step count more work fails here
# until the baseline is refreshed with the reason (scripts/update-baselines.sh). Then the same
# comparison against a baseline made 2% cheaper on one row must fail: the check can fail.
# usage: count_baseline.sh COUNTING_ADAMBENCH EXPECT_EXIT SOURCE_DIR
CLI=$1 EXPECT=$2 ROOT=$3
source "$(dirname "$0")/lib.sh"
# The filter is ci-gate.sh's own (one source of truth for the counted slice).
filter=$(sed -n "s/^ *pr_count=ci  count_args=(--filter '\(.*\)')$/\1/p" "$ROOT/scripts/ci-gate.sh")
assert "the counted slice's filter is read from ci-gate.sh" test -n "$filter"
BASE=$ROOT/reports/baselines/count-ci.json
check "count: the ci slice in the counting build" 0 -- "$CLI" count ci --filter "$filter" --quiet --out "$tmp/now"
"$CLI" compare "$BASE" "$tmp/now/count.json" >"$tmp/cmp.txt" 2>&1; rc=$?
if [ $rc != 0 ]; then
  sed 's/^/     /' "$tmp/cmp.txt" | grep -v ' unchanged ' | tail -30
  echo "     (an intended change in a step's counted cost: refresh the baseline with scripts/update-baselines.sh and say why in the commit)"
fi
assert "compare: the committed baseline against this build: exit 0 (got $rc), 21 results compared" bash -c "
  [ $rc = 0 ] && grep -q 'no regression: 21 results compared' '$tmp/cmp.txt'"
$PY - "$BASE" "$tmp/cheaper.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
r = next(r for r in j["results"] if r["name"] == "eigen/adam/resnet50/threads:1")
r["per_step"]["est_cycles"] /= 1.02
json.dump(j, open(sys.argv[2], "w"))
PY
check "compare: a baseline 2% cheaper on one Eigen row makes it a regression" 1 --stdout "eigen/adam/resnet50/threads:1 +regression" -- \
  "$CLI" compare "$tmp/cheaper.json" "$tmp/now/count.json"
finish
