#!/usr/bin/env bash
# Sets up if needed, builds, and runs every test through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build=${ADAMBENCH_BUILD_DIR:-build}
ctest --test-dir "$build" --output-on-failure -j "${ADAMBENCH_TEST_JOBS:-2}" "$@"
