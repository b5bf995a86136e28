#!/usr/bin/env bash
# Sets up if needed, builds, and runs every test through ctest; then builds the current-LibTorch
# configuration (the newest PyPI torch wheel, build-torch/) and runs its agreement suite and speed
# smoke (scripts/torch-current-check.sh). ADAMBENCH_TORCH_CURRENT=0 skips the second configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build=${ADAMBENCH_BUILD_DIR:-build}
rc=0
ctest --test-dir "$build" --output-on-failure -j "${ADAMBENCH_TEST_JOBS:-2}" "$@" || rc=$?
if [ "${ADAMBENCH_TORCH_CURRENT:-1}" != 0 ]; then
  ADAMBENCH_TORCH=pypi ADAMBENCH_BUILD_DIR=build-torch ADAMBENCH_CMAKE_ARGS="-DADAMBENCH_TESTS=OFF ${ADAMBENCH_CMAKE_ARGS:-}" \
    scripts/setup.sh
  scripts/torch-current-check.sh build-torch || rc=$?
fi
exit "$rc"
