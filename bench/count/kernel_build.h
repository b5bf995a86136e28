#pragma once
/// What the CPU kernels (the Eigen implementation, the probe) were compiled for: this file's
/// translation unit gets the same flags (ADAMBENCH_KERNEL_FLAGS in CMakeLists.txt), so its
/// predefined macros are theirs. `adambench count` records these and refuses a build that Valgrind
/// cannot run (docs/speed.md, "Counted speed").
#include <string>

namespace adambench {

/// The kernels' compile flags as CMake passed them, e.g. "-O3 -fno-math-errno -ffp-contract=off -march=x86-64-v3".
std::string kernel_flags();
/// The kernels' x86-64 level and instruction sets, e.g. "x86-64-v3 (AVX2 FMA BMI2 F16C AVX SSE4.2)".
std::string kernel_isa();
/// Whether the kernels may use AVX-512 (EVEX) instructions, which Valgrind 3.19 cannot decode.
bool kernel_uses_avx512();

}  // namespace adambench
