#!/usr/bin/env bash
# scripts/ci-gate.sh end to end, in light mode (tests/ci/light.toml): the pull-request gate against
# baselines (pass, a planted disagreement, a planted counted-speed regression, a missing counting
# build, a missing baseline) and the nightly path (two shards, merge, report, a failed shard). The
# same script is what .github/workflows/adambench.yml and scripts/slurm/full-suite.sbatch run;
# tests/ci/test_workflow.py checks that they call it. COUNT is the counting build's adambench
# (build-count/, x86-64-v3): without it the gate must fail, never pass; the checks that need it are
# then a recorded skip (exit 77; a failure with ADAMBENCH_REQUIRE_COUNT=1, as scripts/test.sh sets).
CLI=$1 EXPECT=$2 MUT=$3 ROOT=$4 COUNT=${5:-$ROOT/build-count/adambench}
source "$(dirname "$0")/lib.sh"
GATE=(env ADAMBENCH_CI_LIGHT=1 ADAMBENCH_CI_THREADS=2 ADAMBENCH_COUNT_BIN="$COUNT")
G=$ROOT/scripts/ci-gate.sh
LIGHT=$ROOT/tests/ci/light.toml

if [ ! -x "$COUNT" ]; then
  # No counting build: the gate cannot compare counted speed, and must say so by failing.
  check "baselines: without a counting build, exit 4" 4 -- "${GATE[@]}" ADAMBENCH_BIN="$CLI" "$G" baselines "$tmp/nobase"
  mkdir -p "$tmp/base0"
  "$CLI" --threads 2 agree "$LIGHT" --quiet --out "$tmp/a0" >/dev/null && cp "$tmp/a0/agree.json" "$tmp/base0/agree-light.json"
  "$CLI" --threads 1 converge "$LIGHT" --filter . --quiet --out "$tmp/c0" >/dev/null && cp "$tmp/c0/converge.json" "$tmp/base0/converge-light.json"
  cp "$ROOT/tests/fixtures/count.json" "$tmp/base0/count-light.json"
  "${GATE[@]}" ADAMBENCH_BIN="$CLI" ADAMBENCH_CI_BASELINES="$tmp/base0" "$G" pr "$tmp/pr0" >"$tmp/pr0.log" 2>&1; rc=$?
  assert "pr: without a counting build the gate fails (exit $rc), agreement and convergence still compared" bash -c "
    [ $rc = 4 ] && grep -qx 'count 4' '$tmp/pr0/steps.txt' && grep -qx 'count-vs-baseline 4' '$tmp/pr0/steps.txt' &&
    grep -qx 'agree-vs-baseline 0' '$tmp/pr0/steps.txt' && head -1 '$tmp/pr0/verdict.md' | grep -q '^❌ .*counted speed: not compared'"
  if [ "$fails" = 0 ] && [ "${ADAMBENCH_REQUIRE_COUNT:-0}" != 1 ]; then
    echo "SKIP: the counted-gate checks need the counting build at $COUNT (ADAMBENCH_COUNT=1 scripts/setup.sh); the gate was shown to fail without it"
    exit 77
  fi
  echo "FAIL: no counting build at $COUNT"; exit 1
fi

check "baselines: written from this build" 0 -- "${GATE[@]}" ADAMBENCH_BIN="$CLI" "$G" baselines "$tmp/base"
check "pr: gate against those baselines passes" 0 --stdout "^✅ adambench gate: pass" -- \
  "${GATE[@]}" ADAMBENCH_BIN="$CLI" ADAMBENCH_CI_BASELINES="$tmp/base" GITHUB_STEP_SUMMARY="$tmp/summary.md" "$G" pr "$tmp/pr"
assert "pr: the job summary starts with the verdict" bash -c "head -1 '$tmp/summary.md' | grep -q '^✅ adambench gate: pass'"
assert "pr: agreement, convergence and counted speed were compared, timed speed reported, report written" bash -c "
  grep -qx 'agree-vs-baseline 0' '$tmp/pr/steps.txt' && grep -qx 'converge-vs-baseline 0' '$tmp/pr/steps.txt' &&
  grep -qx 'count-vs-baseline 0' '$tmp/pr/steps.txt' && grep -q '^speed(not-gated) ' '$tmp/pr/steps.txt' &&
  test -s '$tmp/pr/speed/speed.json' && test -s '$tmp/pr/count/count.json' &&
  test -s '$tmp/pr/report/index.html' && grep -q 'Counted speed' '$tmp/pr/report/summary.md' && test -s '$tmp/pr/verdict.md'"
assert "pr: the verdict line counts the counted rows" bash -c "
  head -1 '$tmp/pr/verdict.md' | grep -Eq '^✅ adambench gate: pass \(counted speed: no regression: [1-9][0-9]* results compared\)'"

# Without the counting build the gate fails; it never passes on what it did not compare.
"${GATE[@]}" ADAMBENCH_BIN="$CLI" ADAMBENCH_COUNT_BIN="$tmp/no-count-build" ADAMBENCH_CI_BASELINES="$tmp/base" "$G" pr "$tmp/pr-nocount" >"$tmp/pr-nocount.log" 2>&1; rc=$?
assert "pr: a missing counting build fails the gate: exit 4 (got $rc), counted speed not compared" bash -c "
  [ $rc = 4 ] && grep -qx 'count 4' '$tmp/pr-nocount/steps.txt' && head -1 '$tmp/pr-nocount/verdict.md' | grep -q 'counted speed: not compared'"

# Planted bugs in the candidate fail the gate, each in its own step (one pr run, for time): eps scaled
# by sqrt(bc2) in agreement, whatever the baseline (here one with the same bug, so the comparison
# itself finds nothing new: a disagreement is never a pass), and the SIMD loop lost in the counting
# build's binary (ADAMBENCH_PLANT: the mutants binary steps eigen~scalar_loop as eigen), a counted
# regression while convergence still passes.
mkdir -p "$tmp/base-bad" && cp "$tmp/base/converge-light.json" "$tmp/base/count-light.json" "$tmp/base-bad/"
"$MUT" --threads 2 agree "$ROOT/tests/ci/light.toml" --impl eigen~eps_scaled --quiet --out "$tmp/bad" >/dev/null
cp "$tmp/bad/agree.json" "$tmp/base-bad/agree-light.json"
printf '#!/bin/sh\nADAMBENCH_PLANT=scalar_loop exec "%s" "$@"\n' "$(dirname "$COUNT")/adambench-mutants" >"$tmp/planted"
chmod +x "$tmp/planted"
"${GATE[@]}" ADAMBENCH_BIN="$MUT" ADAMBENCH_CI_AGREE_ARGS="--impl eigen~eps_scaled" ADAMBENCH_CI_BASELINES="$tmp/base-bad" \
  ADAMBENCH_COUNT_BIN="$tmp/planted" GITHUB_STEP_SUMMARY="$tmp/summary-bad.md" "$G" pr "$tmp/pr-bad" >"$tmp/pr-bad.log" 2>&1; rc=$?
assert "pr: a disagreeing implementation and a counted-speed regression fail the gate: exit 1 (got $rc), ❌ in the summary" bash -c "
  [ $rc = 1 ] && grep -qx 'agree 1' '$tmp/pr-bad/steps.txt' && grep -qx 'converge 0' '$tmp/pr-bad/steps.txt' &&
  grep -qx 'count 0' '$tmp/pr-bad/steps.txt' && grep -qx 'count-vs-baseline 1' '$tmp/pr-bad/steps.txt' &&
  head -1 '$tmp/summary-bad.md' | grep -Eq '^❌ adambench gate: regression or disagreement \(counted speed: [1-9][0-9]* regressions?: '"
check "pr: a missing baseline is bad input" 2 -- "${GATE[@]}" ADAMBENCH_BIN="$CLI" ADAMBENCH_CI_BASELINES="$tmp/nowhere" "$G" pr "$tmp/pr-nobase"

# Nightly: two shards, then merge and report; the merged agreement covers exactly the unsharded run.
check "shard 1/2" 0 -- "${GATE[@]}" ADAMBENCH_BIN="$CLI" "$G" shard 1 2 "$tmp/nightly"
check "shard 2/2" 0 -- "${GATE[@]}" ADAMBENCH_BIN="$CLI" "$G" shard 2 2 "$tmp/nightly"
check "merge: joins the shards and reports" 0 --stdout "^✅ adambench gate: pass" -- "${GATE[@]}" ADAMBENCH_BIN="$CLI" "$G" merge "$tmp/nightly"
assert "merge: every kind merged, report written" bash -c "
  for k in agree converge speed; do test -s '$tmp/nightly/merged/'\$k/\$k.json || exit 1; done; test -s '$tmp/nightly/merged/report/index.html'"
assert "merge: merged agreement = the unsharded run's results" $PY - "$tmp/nightly/merged/agree/agree.json" "$tmp/base/agree-light.json" <<'PY'
import json, sys
key = lambda r: (r["case"], r["impl"], r["dtype"], r["seed"])
m, b = (sorted(map(key, json.load(open(f))["results"])) for f in sys.argv[1:])
assert m == b and m, (len(m), len(b))
PY
echo "agree 1" >>"$tmp/nightly/shard-2-of-2/steps.txt"   # as if shard 2 had found a disagreement
check "merge: a shard that failed fails the nightly verdict" 1 --stdout "^❌" -- "${GATE[@]}" ADAMBENCH_BIN="$CLI" "$G" merge "$tmp/nightly"
check "usage errors exit 2" 2 -- "$G" shard 1
finish
