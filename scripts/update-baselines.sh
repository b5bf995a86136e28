#!/usr/bin/env bash
# Rewrites the baselines CI gates against (reports/baselines/) from this build. Run after an
# intended change in numerics or in a step's counted cost, review the diff, commit it with the reason.
# Counted speed comes from the counting build (build-count/: ADAMBENCH_COUNT=1 scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${ADAMBENCH_BUILD_DIR:-build}
count_bin=${ADAMBENCH_COUNT_BIN:-build-count/adambench}
[ -x "$count_bin" ] || { echo "update-baselines.sh: no counting build at $count_bin (run: ADAMBENCH_COUNT=1 scripts/setup.sh)" >&2; exit 4; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$build/adambench" --threads 2 agree ci --quiet --out "$tmp/agree"
"$build/adambench" --threads 1 converge smoke --case quadratic --case logreg --case rosenbrock --case diverge --quiet --out "$tmp/conv"
# keep in step with ci-gate.sh's pr_count and count_args
"$count_bin" count ci --filter '^(probe|eigen)/|^libtorch/[a-z+]*/(flat_64K|flat_32M|resnet50)/' --quiet --out "$tmp/count"
cp "$tmp/agree/agree.json" reports/baselines/agree-ci.json
cp "$tmp/conv/converge.json" reports/baselines/converge-smoke-analytic.json
cp "$tmp/count/count.json" reports/baselines/count-ci.json
echo "updated reports/baselines/"
