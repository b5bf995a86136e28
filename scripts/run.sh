#!/usr/bin/env bash
# The main job: set up if needed, run the default suites (agreement, a speed slice, a convergence
# slice), print the results, write them under results/ and end with a report (results/report/).
# Exit code: 1 when any implementation disagrees with the reference or a convergence expectation
# fails; the other steps still run, so the report shows what happened.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit $?
build=${ADAMBENCH_BUILD_DIR:-build}
out=${ADAMBENCH_OUT:-results}
mkdir -p "$out"
status=0
step() {  # step NAME CMD...: run, remember a failure (1), stop on bad input or interruption
  echo "== $1"; shift
  "$@"; local rc=$?
  if [ $rc -eq 1 ]; then status=1; elif [ $rc -ne 0 ]; then echo "run.sh: stopped ($rc) at: $*"; exit $rc; fi
}
step "agreement (default suite)" "$build/adambench" agree --quiet --out "$out"
step "speed (smoke suite)" "$build/adambench" speed smoke --out "$out"
step "convergence (smoke suite)" "$build/adambench" converge smoke --quiet --out "$out/converge"
step "report" /usr/bin/python3 scripts/report.py "$out" "$out/converge" --out "$out/report"
echo "run.sh: results in $out/, report in $out/report/index.html (and summary.md)"
exit $status
