#pragma once
/// The per-element Adam/AdamW update of the CUDA implementations, shared with the CPU test build:
/// nvcc compiles it for the device, g++ compiles it as plain C++ (tests/unit/test_cuda_math.cpp),
/// so its arithmetic is unit-tested on every machine.
///
/// Arithmetic: float32 opmath, op for op the order of the Eigen scalar path and torch.optim's
/// for-loop Adam (reference/adam_reference.cpp): ATen's two-branch lerp for m, L2 skipped when wd == 0, NaN-
/// propagating max for amsgrad, eps added after the bias correction of v. Built with
/// --fmad=false and IEEE division/sqrt (nvcc's defaults without --use_fast_math), each operation
/// rounds exactly as on the host, so device and host results are bitwise equal
/// (tests/e2e/cuda_test.sh checks that on a GPU).
///
/// 16-bit parameters/gradients (bfloat16, float16) are loaded to float32, updated against float32
/// master weights and state, and stored back with one round-to-nearest-even.
#include <cstdint>

#include "adambench/lowp.h"  // host conversions (host pass of nvcc and plain C++ alike)
#include "core/step_scalars.h"

#include <cmath>
#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#define ADAM_HD __host__ __device__ __forceinline__
#else
#define ADAM_HD inline
#endif

namespace adambench::cuda_math {

/// Storage types of 16-bit values, the same bits on host and device.
struct bf16 {
  std::uint16_t bits;
};
struct f16 {
  std::uint16_t bits;
};

/// Per-step scalars, computed once per step in double (as torch.optim does) and rounded to float.
struct step_scalars {
  float decay_mul;        ///< AdamW: 1 - lr*wd (1 for Adam)
  float wd;               ///< Adam L2 coefficient (0 for AdamW)
  float w1;               ///< lerp weight 1 - beta1
  float one_minus_w1;     ///< 1 - w1, in float as ATen's lerp computes it
  float beta2, one_minus_beta2;
  float bc2_sqrt;         ///< sqrt(1 - beta2^t)
  float neg_step_size;    ///< -(lr / (1 - beta1^t))
  float eps;
  bool maximize, lerp_low, amsgrad;
};

/// The scalars of step t (t >= 1) of `lr, beta1, beta2, eps, weight_decay`: core/step_scalars.h's
/// float64 values, rounded to float.
inline step_scalars make_scalars(bool adamw, double lr, double beta1, double beta2, double eps, double weight_decay,
                                 bool amsgrad, bool maximize, std::int64_t t) {
  const adam_step_scalars sc = adam_step_scalars_at(static_cast<double>(t), lr, beta1, beta2, weight_decay);
  step_scalars s{};
  s.decay_mul = static_cast<float>(adamw ? sc.decay_mul : 1.0);
  s.wd = static_cast<float>(adamw ? 0.0 : weight_decay);
  s.w1 = static_cast<float>(sc.w1);
  s.one_minus_w1 = 1.0f - s.w1;
  s.beta2 = static_cast<float>(beta2);
  s.one_minus_beta2 = static_cast<float>(sc.one_minus_beta2);
  s.bc2_sqrt = static_cast<float>(sc.bc2_sqrt);
  s.neg_step_size = static_cast<float>(-sc.step_size);
  s.eps = static_cast<float>(eps);
  s.maximize = maximize;
  s.lerp_low = sc.w1 < 0.5;  // ATen's lerp: |weight| < 0.5 picks the first form
  s.amsgrad = amsgrad;
  return s;
}

ADAM_HD float fsqrt(float x) {
#if defined(__CUDA_ARCH__)
  return __fsqrt_rn(x);  // IEEE round-to-nearest whatever the flags
#else
  return std::sqrt(x);
#endif
}

ADAM_HD float fdiv(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}

// Products and sums through round-to-nearest intrinsics on the device: no FMA contraction even if
// the build forgets --fmad=false, so the host and device round identically.
ADAM_HD float fmul(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
ADAM_HD float fadd(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
ADAM_HD float fsub(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}

/// One element. `p` is the float32 parameter (or master weight), `vmax` is read and written only
/// when s.amsgrad.
ADAM_HD void adam_update(float& p, float g, float& m, float& v, float& vmax, const step_scalars& s) {
  if (s.maximize) g = -g;
  p = fmul(p, s.decay_mul);
  if (s.wd != 0.0f) g = fadd(g, fmul(s.wd, p));  // skipped at 0 like PyTorch: 0 * NaN would poison g
  m = s.lerp_low ? fadd(m, fmul(s.w1, fsub(g, m))) : fsub(g, fmul(fsub(g, m), s.one_minus_w1));
  v = fadd(fmul(v, s.beta2), fmul(fmul(s.one_minus_beta2, g), g));
  float vh = v;
  if (s.amsgrad) {
    // torch.maximum: NaN propagates (x != x is NaN-true without <cmath> on the device).
    const float mx = (vmax != vmax || vh != vh) ? (vh != vh ? vh : vmax) : (vmax > vh ? vmax : vh);
    vmax = mx;
    vh = mx;
  }
  const float denom = fadd(fdiv(fsqrt(vh), s.bc2_sqrt), s.eps);
  p = fadd(p, fmul(s.neg_step_size, fdiv(m, denom)));
}

// Conversions between storage and float32 opmath: device intrinsics under nvcc's device pass,
// the bit-exact host functions of adambench/lowp.h otherwise (same rounding: nearest, ties to even).
ADAM_HD float load(float x) { return x; }
ADAM_HD float load(bf16 x) {
#if defined(__CUDA_ARCH__)
  return __bfloat162float(__ushort_as_bfloat16(x.bits));
#else
  return lowp::bf16_bits_to_float(x.bits);
#endif
}
ADAM_HD float load(f16 x) {
#if defined(__CUDA_ARCH__)
  return __half2float(__ushort_as_half(x.bits));
#else
  return lowp::f16_bits_to_float(x.bits);
#endif
}

ADAM_HD void store(float& dst, float x) { dst = x; }
ADAM_HD void store(bf16& dst, float x) {
#if defined(__CUDA_ARCH__)
  dst.bits = __bfloat16_as_ushort(__float2bfloat16_rn(x));
#else
  dst.bits = lowp::to_bf16_bits(x);
#endif
}
ADAM_HD void store(f16& dst, float x) {
#if defined(__CUDA_ARCH__)
  dst.bits = __half_as_ushort(__float2half_rn(x));
#else
  dst.bits = lowp::to_f16_bits(x);
#endif
}

/// A float32 parameter: updated in place.
ADAM_HD void adam_element(float& p, float g, float& m, float& v, float& vmax, const step_scalars& s) {
  adam_update(p, g, m, v, vmax, s);
}

/// A 16-bit parameter with a float32 master weight: the update runs on the master weight, and
/// the 16-bit parameter receives it rounded once (reads master, g, m, v; writes master, m, v, p).
template <typename P>
ADAM_HD void adam_element_master(P& p, float& master, P g, float& m, float& v, float& vmax, const step_scalars& s) {
  float w = master;
  adam_update(w, load(g), m, v, vmax, s);
  master = w;
  store(p, w);
}

/// A 16-bit parameter without master weights (the 22 B/param pattern; benchmark only: the
/// parameter accumulates a 16-bit rounding every step, so it does not meet the agreement tolerance).
template <typename P>
ADAM_HD void adam_element_nomaster(P& p, P g, float& m, float& v, float& vmax, const step_scalars& s) {
  float w = load(p);
  adam_update(w, load(g), m, v, vmax, s);
  store(p, w);
}

}  // namespace adambench::cuda_math
