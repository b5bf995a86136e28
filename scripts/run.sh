#!/usr/bin/env bash
# The main job: set up if needed, run the default suite, print and write results (results/).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build=${ADAMBENCH_BUILD_DIR:-build}
out=${ADAMBENCH_OUT:-results}
mkdir -p "$out"
status=0
"$build/adambench" agree --out "$out" || status=$?
echo "run.sh: results in $out/"
exit $status
