#!/usr/bin/env bash
# The CI gate on the deterministic parts: run them and compare with reports/baselines/.
#   agree      the ci suite; any disagreement fails, error growth is reported
#   converge   the smoke suite's analytic cases (no BLAS, so bitwise-reproducible on any x86-64
#              machine at one thread): curves must be bitwise identical to the baseline's
# Refresh a baseline after an intended change with scripts/update-baselines.sh.
CLI=$1 EXPECT=$2 BASE=$3
source "$(dirname "$0")/lib.sh"
"$CLI" --threads 2 agree ci --quiet --out "$tmp/agree" >/dev/null
check "agreement (ci suite) against reports/baselines/agree-ci.json" 0 --stdout "0 regressions" -- \
  "$CLI" compare "$BASE/agree-ci.json" "$tmp/agree/agree.json" --markdown "$tmp/agree.md"
"$CLI" --threads 1 converge smoke --case quadratic --case logreg --case rosenbrock --case diverge --quiet --out "$tmp/conv" >/dev/null
check "deterministic convergence against reports/baselines/converge-smoke-analytic.json" 0 --stdout "0 regressions" -- \
  "$CLI" compare "$BASE/converge-smoke-analytic.json" "$tmp/conv/converge.json"
finish
