#!/usr/bin/env bash
# Installs the Debian packages adambench needs (only the missing ones), then configures and builds
# into build/ (or $ADAMBENCH_BUILD_DIR). Idempotent: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libeigen3-dev libfmt-dev catch2 libbenchmark-dev libbenchmark-tools
  nlohmann-json3-dev libcli11-dev libtomlplusplus-dev zlib1g-dev libzip-dev
  libsqlite3-dev   # adambench history: the results store (docs/history.md)
  libvalijson-dev   # JSON Schema validation of result files before the gate believes them (schemas/)
  libopenblas0-pthread   # Debian's LibTorch calls BLAS: the reference BLAS is 3x slower (design.md §10)
  python3-numpy python3-matplotlib dataset-fashion-mnist
  chromium   # headless: tests/e2e/report_test.sh renders the HTML report
  python3-jsonschema python3-pil   # scripts/report.py validates inputs against schemas/; the browser test reads screenshots
  python3-scipy   # Google Benchmark's tools/compare.py (U test) on `adambench speed` outputs
  protobuf-compiler libprotobuf-dev libboost-dev   # TensorBoard event files: protoc, libprotobuf, Boost.CRC
  python3-venv python3-crcmod   # tests: the TensorBoard venv (scripts/tb-venv.sh), the independent CRC check
  python3-yaml   # tests/ci/test_workflow.py parses .github/workflows/adambench.yml
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build=${ADAMBENCH_BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release ${ADAMBENCH_CMAKE_ARGS:-}
fi
# Each LibTorch translation unit takes ~1.5 GiB and ~20 s; two jobs fit a 2-core, 24 GiB machine.
cmake --build "$build" -j "${ADAMBENCH_JOBS:-$(nproc)}"
