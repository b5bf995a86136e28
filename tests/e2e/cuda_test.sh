#!/usr/bin/env bash
# End-to-end tests of the CUDA implementations through the real binary (docs/cuda.md).
#   cuda_test.sh ADAMBENCH EXPECT DEVICE_TEST GPU_BENCH
# Without a GPU it checks that every CUDA case is a recorded skip with its reason (and that the
# 16-bit harness path works with the reference), then exits 77: ctest reports the test skipped.
# With a GPU: device arithmetic bit for bit against the host build, the GPU agreement suite in
# float32, bfloat16 and float16, and a quick run of the GPU benchmark.
CLI=$1 EXPECT=$2 DEVTEST=$3 GPUBENCH=$4
source "$(dirname "$0")/lib.sh"

"$DEVTEST" >"$tmp/dev.log" 2>&1; rc=$?
if [ "$rc" = 77 ]; then
  echo "no GPU: $(cat "$tmp/dev.log")"
  check "without a GPU every CUDA case is a recorded skip" 0 --stdout "agree: [1-9][0-9]* passed, 0 failed, [1-9][0-9]* skipped" -- \
    "$CLI" agree gpu --quiet --impl reference --impl cuda --impl cuda-mt --impl libtorch-fused-cuda \
    --dtype float32 --dtype bfloat16 --dtype float16 --out "$tmp/g"
  assert "skips carry the reason, the reference passes in 16-bit dtypes" $PY - "$tmp/g/agree.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
rs = j["results"]
for r in rs:
    if r["impl"] in ("cuda", "cuda-mt"):
        assert r["verdict"] == "skip" and r["reason"].startswith("no CUDA device"), r
    if r["impl"] == "reference":
        assert r["verdict"] == "pass", r
assert {r["dtype"] for r in rs if r["impl"] == "reference" and r["verdict"] == "pass"} == {"float32", "bfloat16", "float16"}
PY
  check "gpu bench skips without a GPU" 0 --stdout "skipped: no CUDA device" -- "$GPUBENCH" --out "$tmp/b"
  finish || exit 1
  exit 77
fi
check "device arithmetic equals the host build bit for bit" 0 --stdout "^ok" -- "$DEVTEST"
check "GPU agreement: cuda, cuda-mt in float32, bfloat16, float16" 0 --stdout "agree: [1-9][0-9]* passed, 0 failed" -- \
  "$CLI" agree gpu --quiet --impl reference --impl cuda --impl cuda-mt --dtype float32 --dtype bfloat16 --dtype float16
check "GPU benchmark runs (quick)" 0 --stdout "wrote" -- "$GPUBENCH" --quick --reps 3 --out "$tmp/b" \
  --models "$(dirname "$0")/../../suites/models"
finish
