#!/usr/bin/env bash
# The GPU check (docs/cuda.md): on a machine with an NVIDIA GPU, builds the GPU check targets,
# then runs
#   1. adambench-cuda-device-test  the device arithmetic against the host build, bit for bit;
#   2. adambench-gpu agree suites/gpu.toml   cuda, cuda-mt, libtorch-fused-cuda against the float64
#      reference in float32 and bfloat16 (the same runner and agree.json as `adambench agree`);
#   3. adambench-gpu-bench  step throughput: flat 2^20..2^28, GPT-2 small, BERT-base, a Llama-2-7B
#      layer; float32, bfloat16 with and without float32 master weights; the in-run probe;
#      LibTorch's fused CUDA Adam; CUDA graphs (Google Benchmark JSON).
# Results go to OUTDIR: device_test.txt, impls.txt, agree.json, agree.txt, gpu_speed.json,
# gpu_speed.txt, build logs, summary.txt. Exit 0 when the device test and every agreement case pass.
#
#   scripts/vendor-headers.sh            # on a machine with the Debian packages: .gpu-deps/include
#   scripts/gpu-check.sh OUTDIR          # on the GPU machine (no package registry needed)
#
# Needs: nvcc (PATH or /usr/local/cuda), CMake >= 3.22, ninja, a LibTorch with CUDA:
# $ADAMBENCH_TORCH_DIR (its CMake prefix), else the Python-installed PyTorch's
# (python3 -c 'import torch; print(torch.utils.cmake_prefix_path)'); header-only fmt, nlohmann-json,
# toml++, CLI11 from the system or .gpu-deps/include. Builds into build-gpu/ ($ADAMBENCH_GPU_BUILD).
# Budget: about 2-3 minutes to build on 16 cores, under a minute each for agreement and benchmark.
set -euo pipefail
out=${1:?usage: scripts/gpu-check.sh OUTDIR}
cd "$(dirname "$0")/.."
mkdir -p "$out"
out=$(cd "$out" && pwd)
t0=$(date +%s)
log() { echo "[gpu-check +$(( $(date +%s) - t0 ))s] $*" | tee -a "$out/summary.txt"; }
: > "$out/summary.txt"

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt" || true

# nvcc
nvcc=$(command -v nvcc || true)
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
[ -n "$nvcc" ] || { log "FAIL: no nvcc (PATH or /usr/local/cuda/bin)"; exit 1; }
log "nvcc: $nvcc ($("$nvcc" --version | tail -1))"

# LibTorch
torch=${ADAMBENCH_TORCH_DIR:-}
if [ -z "$torch" ]; then
  for py in python3 python; do
    torch=$($py -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null || true)
    [ -n "$torch" ] && break
  done
fi
[ -n "$torch" ] || { log "FAIL: no LibTorch: set ADAMBENCH_TORCH_DIR or install PyTorch for python3"; exit 1; }
log "LibTorch CMake prefix: $torch"

# Header-only dependencies: the carried copies first, then the system's.
deps=""
[ -d .gpu-deps/include ] && deps=$PWD/.gpu-deps/include
for h in fmt/format.h nlohmann/json.hpp toml++/toml.h CLI/CLI.hpp; do
  if [ -n "$deps" ] && [ -f "$deps/$h" ]; then continue; fi
  [ -f "/usr/include/$h" ] || [ -f "/usr/local/include/$h" ] || {
    log "FAIL: $h not found: run scripts/vendor-headers.sh where the Debian packages are, and carry .gpu-deps/"; exit 1; }
done
log "headers: ${deps:-system}"

# LibTorch's CMake config picks CUDA architectures from TORCH_CUDA_ARCH_LIST (H200: 9.0).
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}
build=${ADAMBENCH_GPU_BUILD:-build-gpu}
jobs=$(nproc)
log "configure + build ($jobs jobs) into $build"
if ! cmake -S cmake/gpu_check -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
     -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_PREFIX_PATH="$torch" -DADAMBENCH_DEPS_INCLUDE="$deps" \
     -DTORCH_CUDA_ARCH_LIST="$TORCH_CUDA_ARCH_LIST" ${ADAMBENCH_CMAKE_ARGS:-} >"$out/configure.log" 2>&1; then
  tail -40 "$out/configure.log"; log "FAIL: configure (configure.log)"; exit 1
fi
if ! cmake --build "$build" -j "$jobs" >"$out/build.log" 2>&1; then
  grep -E "error|Error" "$out/build.log" | head -40; log "FAIL: build (build.log)"; exit 1
fi
log "built"

status=0
set +e
"$build/adambench-cuda-device-test" 2>&1 | tee "$out/device_test.txt"
rc=${PIPESTATUS[0]}
case $rc in
  0) log "device test: ok" ;;
  77) log "device test: NO GPU (exit 77): nothing below runs on a device"; status=1 ;;
  *) log "device test: FAILED (exit $rc)"; status=1 ;;
esac

"$build/adambench-gpu" list >"$out/impls.txt" 2>&1
cat "$out/impls.txt"

"$build/adambench-gpu" agree suites/gpu.toml --quiet --out "$out" 2>&1 | tee "$out/agree.txt"
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] && log "agreement: $(grep -E '^agree:' "$out/agree.txt")" ||
  { log "agreement: FAILED (exit $rc): $(grep -E '^agree:' "$out/agree.txt")"; status=1; }

timeout 300 "$build/adambench-gpu-bench" --out "$out" --models suites/models --graph --reps 15 2>&1 | tee "$out/gpu_bench.log"
rc=${PIPESTATUS[0]}
if [ "$rc" = 0 ] && [ -f "$out/gpu_speed.json" ]; then log "benchmark: wrote gpu_speed.json"
else log "benchmark: FAILED or skipped (exit $rc, see gpu_bench.log)"; status=1; fi
[ -f "$out/gpu_speed.txt" ] && cat "$out/gpu_speed.txt" >>"$out/summary.txt"
log "done, exit $status"
exit $status
