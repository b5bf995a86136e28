// Compiled with the CPU kernel flags (CMakeLists.txt): the macros below are the kernels' target.
#include "count/kernel_build.h"

#include <vector>

#ifndef ADAMBENCH_KERNEL_FLAGS_TEXT
#define ADAMBENCH_KERNEL_FLAGS_TEXT "unknown"
#endif

namespace adambench {

std::string kernel_flags() { return ADAMBENCH_KERNEL_FLAGS_TEXT; }

bool kernel_uses_avx512() {
#if defined(__AVX512F__)
  return true;
#else
  return false;
#endif
}

std::string kernel_isa() {
  std::vector<const char*> sets;
  int level = 1;  // the x86-64 psABI levels: v2 SSE4.2/POPCNT, v3 AVX2/FMA/BMI2, v4 AVX-512 F/BW/CD/DQ/VL
#if defined(__SSE4_2__) && defined(__POPCNT__) && defined(__SSSE3__)
  level = 2;
#endif
#if defined(__AVX2__) && defined(__FMA__) && defined(__BMI2__) && defined(__F16C__) && defined(__MOVBE__)
  if (level == 2) level = 3;
#endif
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512CD__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
  if (level == 3) level = 4;
#endif
#if defined(__AVX512F__)
  sets.push_back("AVX512F");
#endif
#if defined(__AVX2__)
  sets.push_back("AVX2");
#endif
#if defined(__FMA__)
  sets.push_back("FMA");
#endif
#if defined(__BMI2__)
  sets.push_back("BMI2");
#endif
#if defined(__F16C__)
  sets.push_back("F16C");
#endif
#if defined(__AVX__)
  sets.push_back("AVX");
#endif
#if defined(__SSE4_2__)
  sets.push_back("SSE4.2");
#endif
#if defined(__SSE2__)
  sets.push_back("SSE2");
#endif
  std::string s = level == 1 ? "x86-64" : "x86-64-v" + std::to_string(level);
#if !defined(__x86_64__)
  s = "not x86-64";
#endif
  s += " (";
  for (std::size_t i = 0; i < sets.size(); ++i) s += (i ? " " : "") + std::string(sets[i]);
  return s + ")";
}

}  // namespace adambench
