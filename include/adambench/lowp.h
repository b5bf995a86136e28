#pragma once
/// Bit-exact host conversions for the 16-bit floating-point storage types (bfloat16, float16):
/// round-to-nearest-even from float or double in ONE rounding (no double rounding through float),
/// subnormals, overflow to infinity, NaN kept NaN (quiet, sign kept). Host only; the CUDA kernels
/// use cuda_bf16.h / cuda_fp16.h intrinsics, which round the same way (tests/unit/test_cuda_math.cpp
/// pins these against known values; tests/e2e/cuda_test.sh compares both on a GPU).
#include <bit>
#include <cmath>
#include <cstdint>

namespace adambench::lowp {

/// Format of a binary floating-point storage type with `p` significand bits (implicit bit
/// included) and normal exponents emin..emax.
struct format {
  int p, emin, emax, exp_bits;
};
inline constexpr format bf16_format{8, -126, 127, 8};
inline constexpr format f16_format{11, -14, 15, 5};

/// Rounds x to the format (ties to even), returning the bits of the 16-bit value.
inline std::uint16_t round_bits(double x, const format& f) {
  const int mant_bits = f.p - 1;
  const std::uint16_t sign = std::signbit(x) ? 0x8000u : 0u;
  const std::uint16_t exp_all = static_cast<std::uint16_t>(((1u << f.exp_bits) - 1u) << mant_bits);
  if (std::isnan(x)) return static_cast<std::uint16_t>(sign | exp_all | (1u << (mant_bits - 1)));  // quiet NaN
  const double a = std::fabs(x);
  if (std::isinf(a)) return static_cast<std::uint16_t>(sign | exp_all);
  if (a == 0) return sign;
  int e = std::ilogb(a);
  if (e < f.emin) e = f.emin;                    // subnormal range: fixed quantum 2^(emin - p + 1)
  const double q = std::ldexp(1.0, e - f.p + 1);  // spacing of the format's values around a
  const double n = std::nearbyint(a / q);         // a / q is exact (power-of-two scaling); RNE
  const double r = n * q;
  const double max_finite = std::ldexp(std::ldexp(1.0, f.p) - 1.0, f.emax - f.p + 1);
  if (r > max_finite) return static_cast<std::uint16_t>(sign | exp_all);
  // r is exactly representable: encode it.
  const int er = std::ilogb(r);
  std::uint32_t bits;
  if (r == 0) {
    bits = 0;
  } else if (er < f.emin) {
    bits = static_cast<std::uint32_t>(std::ldexp(r, -(f.emin - f.p + 1)));  // subnormal: mantissa only
  } else {
    const auto mant = static_cast<std::uint32_t>(std::ldexp(r, -(er - mant_bits))) - (1u << mant_bits);
    bits = (static_cast<std::uint32_t>(er - f.emin + 1) << mant_bits) | mant;
  }
  return static_cast<std::uint16_t>(sign | bits);
}

/// The value of 16-bit `bits` in the format, exactly.
inline double value_of(std::uint16_t bits, const format& f) {
  const int mant_bits = f.p - 1;
  const std::uint32_t exp_mask = (1u << f.exp_bits) - 1u;
  const double sign = (bits & 0x8000u) ? -1.0 : 1.0;
  const std::uint32_t ef = (bits >> mant_bits) & exp_mask;
  const std::uint32_t mant = bits & ((1u << mant_bits) - 1u);
  if (ef == exp_mask) return mant ? std::nan("") * sign : sign * INFINITY;
  if (ef == 0) return sign * std::ldexp(static_cast<double>(mant), f.emin - mant_bits);
  return sign * std::ldexp(static_cast<double>(mant | (1u << mant_bits)), static_cast<int>(ef) - 1 + f.emin - mant_bits);
}

inline std::uint16_t to_bf16_bits(double x) { return round_bits(x, bf16_format); }
inline std::uint16_t to_f16_bits(double x) { return round_bits(x, f16_format); }
/// bfloat16 is the top half of a float32: the widening is a shift (NaN payloads kept).
inline float bf16_bits_to_float(std::uint16_t b) { return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16); }
inline float f16_bits_to_float(std::uint16_t b) { return static_cast<float>(value_of(b, f16_format)); }

}  // namespace adambench::lowp
