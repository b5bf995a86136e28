#!/usr/bin/env bash
# Sets up if needed, builds, and runs every test through ctest; then builds the current-LibTorch
# configuration (the newest PyPI torch wheel, build-torch/) and runs its agreement suite and speed
# smoke (scripts/torch-current-check.sh). ADAMBENCH_TORCH_CURRENT=0 skips the second configuration.
# The counting build (build-count/, x86-64-v3 kernels for Valgrind) is built before the tests
# (ci.gate gates counted speed with it) and runs its own count tests after them;
# ADAMBENCH_COUNT_TESTS=0 skips its tests (ci.gate then still needs build-count/adambench).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ADAMBENCH_COUNT=1 ADAMBENCH_BUILD_DIR=build-count scripts/setup.sh
export ADAMBENCH_REQUIRE_COUNT=1   # ci.gate fails, not skips, without the counting build
build=${ADAMBENCH_BUILD_DIR:-build}
rc=0
ctest --test-dir "$build" --output-on-failure -j "${ADAMBENCH_TEST_JOBS:-2}" "$@" || rc=$?
if [ "${ADAMBENCH_COUNT_TESTS:-1}" != 0 ]; then
  ctest --test-dir build-count --output-on-failure || rc=$?
fi
if [ "${ADAMBENCH_TORCH_CURRENT:-1}" != 0 ]; then
  ADAMBENCH_TORCH=pypi ADAMBENCH_BUILD_DIR=build-torch ADAMBENCH_CMAKE_ARGS="-DADAMBENCH_TESTS=OFF ${ADAMBENCH_CMAKE_ARGS:-}" \
    scripts/setup.sh
  scripts/torch-current-check.sh build-torch || rc=$?
fi
exit "$rc"
