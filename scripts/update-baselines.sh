#!/usr/bin/env bash
# Rewrites the baselines CI gates against (reports/baselines/) from this build. Run after an
# intended change in numerics, review the diff, commit it with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${ADAMBENCH_BUILD_DIR:-build}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$build/adambench" --threads 2 agree ci --quiet --out "$tmp/agree"
"$build/adambench" --threads 1 converge smoke --case quadratic --case logreg --case rosenbrock --case diverge --quiet --out "$tmp/conv"
cp "$tmp/agree/agree.json" reports/baselines/agree-ci.json
cp "$tmp/conv/converge.json" reports/baselines/converge-smoke-analytic.json
echo "updated reports/baselines/"
