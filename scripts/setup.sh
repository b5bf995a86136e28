#!/usr/bin/env bash
# Installs the Debian packages adambench needs (only the missing ones), then configures and builds
# into build/ (or $ADAMBENCH_BUILD_DIR). Idempotent: a second run only rebuilds what changed.
# ADAMBENCH_TORCH=pypi builds against the newest PyPI torch wheel instead, into build-torch/.
# ADAMBENCH_COUNT=1 builds the counting build instead, into build-count/: CPU kernels for
# x86-64-v3 (Valgrind cannot run AVX-512), the count tests only (docs/speed.md, "Counted speed").
# Compiles go through ccache when it is installed (the builds share most objects).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libeigen3-dev libfmt-dev catch2 libbenchmark-dev libbenchmark-tools
  nlohmann-json3-dev libcli11-dev libtomlplusplus-dev zlib1g-dev libzip-dev
  libsqlite3-dev   # adambench history: the results store (docs/history.md)
  libvalijson-dev   # JSON Schema validation of result files before the gate believes them (schemas/)
  libopenblas0-pthread   # Debian's LibTorch calls BLAS: the reference BLAS is 3x slower
  python3-numpy python3-matplotlib dataset-fashion-mnist
  chromium   # headless: tests/report/report_test.sh renders the HTML report
  python3-jsonschema python3-pil   # scripts/report.py validates inputs against schemas/; the browser test reads screenshots
  python3-scipy   # Google Benchmark's tools/compare.py (U test) on `adambench speed` outputs
  protobuf-compiler libprotobuf-dev libboost-dev   # TensorBoard event files: protoc, libprotobuf, Boost.CRC
  python3-venv python3-crcmod   # tests: the TensorBoard venv (scripts/tb-venv.sh), the independent CRC check
  python3-yaml   # tests/ci/test_workflow.py parses .github/workflows/adambench.yml
  python3-torch   # scripts/adambench_trace.py and its test (tests/e2e/check_test.sh)
  slurm-wlm munge   # ctest ci.slurm: the nightly on a one-node Slurm started by the test (tests/e2e/slurm_test.sh)
  valgrind   # adambench count: Callgrind counts instructions and simulates the caches (docs/speed.md)
  ccache   # build/, build-count/ (and build-torch/) share every object their flags do not change
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

# ADAMBENCH_TORCH=pypi: a second build against a current LibTorch, the newest PyPI `torch` wheel,
# installed into a virtual environment outside the clone and reused across runs
# (docs/speed.md, "A current LibTorch"). The default (Debian's libtorch-dev) is untouched.
torch_args=()
if [ "${ADAMBENCH_TORCH:-debian}" = pypi ]; then
  venv=${ADAMBENCH_TORCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/adambench/torch-venv}
  # python3-cpuinfo: DeepSpeed's CPUAdamBuilder reads the host's SIMD flags with py-cpuinfo.
  for p in python3-venv python3-cpuinfo; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || {
      SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$p"
    }
  done
  [ -x "$venv/bin/pip" ] || { mkdir -p "$(dirname "$venv")"; /usr/bin/python3 -m venv "$venv"; }
  # --no-deps: the CUDA runtime wheels (nvidia-*, gigabytes) serve libtorch_cuda only, which this
  # build does not link. `pip install` is a no-op when the newest version is already there.
  if [ -z "${ADAMBENCH_TORCH_OFFLINE:-}" ]; then
    "$venv/bin/pip" install --quiet --upgrade --no-deps torch
  fi
  # The package folder without importing torch (importing it would need the CUDA wheels).
  torch_dir=$("$venv/bin/python" -c "import importlib.util as u; print(u.find_spec('torch').submodule_search_locations[0])")
  # DeepSpeed's CPU Adam (the deepspeed-cpu peer): the PyPI deepspeed sdist, downloaded into the venv
  # and unpacked there (never into the clone); CMake compiles its csrc/adam/cpu_adam_impl.cpp. The
  # version is pinned: docs/speed.md reports its disagreements, which a new release may change
  # (ADAMBENCH_DEEPSPEED_VERSION overrides). When it cannot be had (offline, no index),
  # deepspeed-cpu is a recorded skip, not a failure.
  ds_version=${ADAMBENCH_DEEPSPEED_VERSION:-0.19.8}
  ds_dir="$venv/src"
  if [ ! -f "$ds_dir/deepspeed-$ds_version/version.txt" ] && [ -z "${ADAMBENCH_TORCH_OFFLINE:-}" ]; then
    mkdir -p "$ds_dir/sdist"
    if "$venv/bin/pip" download --quiet --no-deps --no-binary :all: "deepspeed==$ds_version" -d "$ds_dir/sdist" \
        2>"$ds_dir/download.log"; then
      tar -xzf "$ds_dir/sdist/deepspeed-$ds_version.tar.gz" -C "$ds_dir"
    else
      echo "setup: could not download the deepspeed $ds_version sdist ($(tail -1 "$ds_dir/download.log")): deepspeed-cpu will be skipped" >&2
    fi
  fi
  ds_src=""
  [ -f "$ds_dir/deepspeed-$ds_version/version.txt" ] && ds_src="$ds_dir/deepspeed-$ds_version"
  torch_args=(-DADAMBENCH_TORCH_CPU_PREFIX="$torch_dir" -DADAMBENCH_CUDA=OFF -DADAMBENCH_DEEPSPEED_SRC="$ds_src")
  default_build=build-torch
fi

# ADAMBENCH_COUNT=1: the counting build. Only the CPU kernels' flags differ from build/ (and CUDA,
# the sanitizer twin of the readers and the other tests are left out), so with ccache the rest
# comes from the cache.
count_args=()
if [ "${ADAMBENCH_COUNT:-0}" = 1 ]; then
  [ ${#torch_args[@]} = 0 ] || { echo "setup: ADAMBENCH_COUNT=1 and ADAMBENCH_TORCH=pypi are separate builds: run them one at a time" >&2; exit 2; }
  count_args=(-DADAMBENCH_MARCH=x86-64-v3 -DADAMBENCH_COUNT_BUILD=ON -DADAMBENCH_CUDA=OFF -DADAMBENCH_SANITIZE_READERS=OFF)
  default_build=build-count
fi

# ccache: relative paths under the clone, so every build folder (and clone) hits the same entries.
launcher=()
if command -v ccache >/dev/null && [[ "${ADAMBENCH_CMAKE_ARGS:-}" != *COMPILER_LAUNCHER* ]]; then
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi

build=${ADAMBENCH_BUILD_DIR:-${default_build:-build}}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${torch_args[@]}" "${count_args[@]}" "${launcher[@]}" ${ADAMBENCH_CMAKE_ARGS:-}
elif [ ${#torch_args[@]} -gt 0 ]; then
  cmake "$build" "${torch_args[@]}" >/dev/null  # a newer wheel lands in the same folder
fi
# Each LibTorch translation unit takes ~1.5 GiB and ~20 s; two jobs fit a 2-core, 24 GiB machine.
cmake --build "$build" -j "${ADAMBENCH_JOBS:-$(nproc)}"
