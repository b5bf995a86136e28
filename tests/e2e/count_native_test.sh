#!/usr/bin/env bash
# `adambench count` in a build whose CPU kernels may use AVX-512 (-march=native on this machine):
# Valgrind 3.19 cannot decode EVEX instructions, so count refuses up front (exit 4, one line naming
# the counting build) instead of dying on SIGILL mid-run. Kernels without AVX-512 are counted.
# usage: count_native_test.sh ADAMBENCH EXPECT_EXIT SOURCE_DIR "KERNEL FLAGS"
CLI=$1 EXPECT=$2 ROOT=$3 FLAGS=${4//;/ }   # CMake passes the flags as a list
source "$(dirname "$0")/lib.sh"
avx512=0
case " $FLAGS " in
  *" -march=native "*) grep -qw avx512f /proc/cpuinfo && avx512=1 ;;
  *" -march=x86-64-v4 "*|*" -march=skylake-avx512 "*|*" -march=icelake"*|*" -march=sapphirerapids "*) avx512=1 ;;
esac
if [ "$avx512" = 1 ]; then
  check "count: an AVX-512 build is refused up front (kernels: $FLAGS)" 4 --stderr-lines 1 -- "$CLI" count "$ROOT/tests/ci/light.toml" --out "$tmp/c"
  cp "$tmp/log" "$tmp/refusal.log"
  assert "count: the refusal names the counting build, nothing is written" bash -c "
    grep -q 'use the counting build: ADAMBENCH_COUNT=1 scripts/setup.sh' '$tmp/refusal.log' && [ ! -e '$tmp/c/count.json' ]"
else
  check "count: kernels without AVX-512 are counted (kernels: $FLAGS)" 0 -- "$CLI" count "$ROOT/tests/ci/light.toml" --out "$tmp/c" --quiet
fi
finish
