#!/usr/bin/env bash
# scripts/ci-gate.sh end to end, in light mode (tests/ci/light.toml): the pull-request gate against
# baselines (pass, a planted disagreement, a missing baseline) and the nightly path (two shards,
# merge, report, a failed shard). The same script is what .github/workflows/adambench.yml and
# scripts/slurm/full-suite.sbatch run; tests/ci/test_workflow.py checks that they call it.
CLI=$1 EXPECT=$2 MUT=$3 ROOT=$4
source "$(dirname "$0")/lib.sh"
GATE=(env ADAMBENCH_CI_LIGHT=1 ADAMBENCH_CI_THREADS=2)
G=$ROOT/scripts/ci-gate.sh

check "baselines: written from this build" 0 -- "${GATE[@]}" ADAMBENCH_BIN="$CLI" "$G" baselines "$tmp/base"
check "pr: gate against those baselines passes" 0 --stdout "^✅ adambench gate: pass" -- \
  "${GATE[@]}" ADAMBENCH_BIN="$CLI" ADAMBENCH_CI_BASELINES="$tmp/base" GITHUB_STEP_SUMMARY="$tmp/summary.md" "$G" pr "$tmp/pr"
assert "pr: the job summary starts with the verdict" bash -c "head -1 '$tmp/summary.md' | grep -q '^✅ adambench gate: pass'"
assert "pr: agreement and convergence were compared, speed reported, report written" bash -c "
  grep -qx 'agree-vs-baseline 0' '$tmp/pr/steps.txt' && grep -qx 'converge-vs-baseline 0' '$tmp/pr/steps.txt' &&
  grep -q '^speed(not-gated) ' '$tmp/pr/steps.txt' && test -s '$tmp/pr/speed/speed.json' &&
  test -s '$tmp/pr/report/index.html' && test -s '$tmp/pr/verdict.md'"

# A planted bug (eps scaled by sqrt(bc2)) in the candidate fails the gate, whatever the baseline
# (here one with the same bug, so the comparison itself finds nothing new): a disagreement is never a pass.
mkdir -p "$tmp/base-bad" && cp "$tmp/base/converge-light.json" "$tmp/base-bad/"
"$MUT" --threads 2 agree "$ROOT/tests/ci/light.toml" --impl eigen~eps_scaled --quiet --out "$tmp/bad" >/dev/null
cp "$tmp/bad/agree.json" "$tmp/base-bad/agree-light.json"
"${GATE[@]}" ADAMBENCH_BIN="$MUT" ADAMBENCH_CI_AGREE_ARGS="--impl eigen~eps_scaled" ADAMBENCH_CI_BASELINES="$tmp/base-bad" \
  GITHUB_STEP_SUMMARY="$tmp/summary-bad.md" "$G" pr "$tmp/pr-bad" >"$tmp/pr-bad.log" 2>&1; rc=$?
assert "pr: a disagreeing implementation fails the gate: exit 1 (got $rc), ❌ in the summary" bash -c "
  [ $rc = 1 ] && grep -qx 'agree 1' '$tmp/pr-bad/steps.txt' && grep -qx 'converge 0' '$tmp/pr-bad/steps.txt' &&
  head -1 '$tmp/summary-bad.md' | grep -q '^❌ adambench gate: regression'"
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
