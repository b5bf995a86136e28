#pragma once
/// The Eigen implementation: one fused pass over memory per step, SIMD through Eigen's packet
/// primitives, OpenMP threads each taking an equal contiguous share of the whole tensor list
/// (core/work_split.h: many tiny tensors cost as little as one flat buffer), no temporaries.
///
/// The class is a template over `mutant` so the test build can plant known historical bugs
/// (tests/mutants/). The shipped build instantiates mutant::none only.
#include "adambench/optimizer.h"
#include "core/step_scalars.h"
#include "core/work_split.h"

#include <Eigen/Core>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <omp.h>

namespace adambench::eigen_impl {

/// Known historical bugs (docs/tolerances.md lists them), planted only by the test build.
enum class mutant {
  none,
  eps_scaled,           ///< denom = sqrt(v) + eps, step_size = lr*sqrt(bc2)/bc1 (pre PR 22628)
  no_bias_correction,   ///< bc1 = bc2 = 1
  amsgrad_not_stored,   ///< max(max_v, v) used but never written back (PyTorch issue 78807)
  adamw_decay_lr_bc1,   ///< AdamW decay scaled by lr/bc1 instead of lr
  decay_swapped,        ///< L2 for AdamW, decoupled for Adam
  empty_stops,          ///< an empty tensor ends the work list (PyTorch issue 100701)
  bf16_step,            ///< step counter kept in bfloat16: freezes at 256 (torchao PR 4915)
  maximize_ignored,     ///< maximize flag dropped
  simd_tail,            ///< last n mod packet-width elements of each tensor not updated
  off_by_one_step,      ///< bias correction computed from step + 1
  rounding,             ///< m = beta1*m + (1-beta1)*g, not lerp: a correct change of rounding only
  trains_worse,         ///< effective lr scaled by 0.8: trains measurably slower (the gate's band)
  // Speed-only plants for the counted gate (docs/speed.md, "Counted speed"): results unchanged.
  scalar_loop,          ///< the SIMD loop lost: every element through the scalar tail
  extra_v_pass,         ///< an extra read pass over every v before the update
  double_math,          ///< the float update computed in double, element by element
  temp_buffer,          ///< a temporary of every parameter allocated and filled each step
};

inline float round_bf16(float x) {
  // Round-to-nearest-even to bfloat16 (the top 16 bits of a float).
  std::uint32_t u = std::bit_cast<std::uint32_t>(x);
  u += 0x7fffu + ((u >> 16) & 1u);
  return std::bit_cast<float>(u & 0xffff0000u);
}

/// Per-step scalars as the kernel reads them: core/step_scalars.h's float64 values (mutants
/// applied), cast to T inside the kernel.
struct kernel_scalars {
  double decay_mul;   ///< AdamW: 1 - lr*wd
  double wd;          ///< Adam L2 coefficient (0 for AdamW)
  double w1;          ///< lerp weight 1 - beta1
  double beta2, one_minus_beta2;
  double bc2_sqrt;
  double bc2_sqrt_inverse;  ///< 1 / double(T(bc2_sqrt)): exact_div_by_constant's reciprocal, once per step
  double neg_step_size;
  double eps;
};

/// x / c in every lane, for a c fixed during the step (sqrt(bias_correction2)), rounded exactly as
/// IEEE division: float lanes are multiplied by c's float64 reciprocal in float64 and rounded once
/// to float, which equals the correctly rounded float quotient for every x, c (docs/speed.md, "The
/// division by sqrt(bias_correction2)"). An in-cache step is bound by the divider, which sqrt and
/// m / denom keep busy; this takes the third divider operation off it. Other packets: pdiv.
template <typename packet>
struct exact_div_by_constant {
  static EIGEN_ALWAYS_INLINE packet run(const packet& x, const packet& c, double) { return Eigen::internal::pdiv(x, c); }
};
#if defined(__AVX512F__)
template <>
struct exact_div_by_constant<Eigen::internal::Packet16f> {
  static EIGEN_ALWAYS_INLINE __m512 run(const __m512& x, const __m512&, double c_inverse) {
    const __m512d r = _mm512_set1_pd(c_inverse);
    const __m512d lo = _mm512_mul_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(x)), r);
    const __m512d hi = _mm512_mul_pd(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1))), r);
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo))),
                                               _mm256_castps_pd(_mm512_cvtpd_ps(hi)), 1));
  }
};
#endif
#if defined(__AVX__)
template <>
struct exact_div_by_constant<Eigen::internal::Packet8f> {
  static EIGEN_ALWAYS_INLINE __m256 run(const __m256& x, const __m256&, double c_inverse) {
    const __m256d r = _mm256_set1_pd(c_inverse);
    const __m256d lo = _mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(x)), r);
    const __m256d hi = _mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)), r);
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(lo)), _mm256_cvtpd_ps(hi), 1);
  }
};
#endif

template <typename T, mutant M>
class eigen_adam final : public optimizer {
  using packet = typename Eigen::internal::packet_traits<T>::type;
  static constexpr int width = Eigen::internal::unpacket_traits<packet>::size;
  template <typename, mutant>
  friend class eigen_adam;  // the double_math plant steps with eigen_adam<double>'s update_one

 public:
  eigen_adam(const adam_config& c, const impl_options& o) : cfg_(c.validated()), threads_(std::max(1, o.threads)) {}

  void bind(std::span<const tensor_view> params, std::span<const tensor_view> grads) override {
    if (params.size() != grads.size()) throw input_error("eigen: params and grads differ in count");
    tensors_.clear();
    step_ = 0;
    step_bf16_ = 0.0f;
    for (std::size_t i = 0; i < params.size(); ++i) {
      const std::int64_t n = params[i].numel();
      if (grads[i].numel() != n) throw input_error(fmt::format("eigen: grad {} has {} elements, param has {}", i, grads[i].numel(), n));
      tensor t;
      t.p = static_cast<T*>(params[i].data);
      t.g = static_cast<const T*>(grads[i].data);
      t.n = n;
      t.m.assign(n, T(0));
      t.v.assign(n, T(0));
      if (cfg_.amsgrad) t.vmax.assign(n, T(0));
      tensors_.push_back(std::move(t));
    }
    std::vector<std::int64_t> sizes;
    for (auto& t : tensors_) {
      if constexpr (M == mutant::empty_stops)
        if (t.n == 0) break;
      sizes.push_back(t.n);
    }
    split_.assign(sizes, 64 / static_cast<std::int64_t>(sizeof(T)));  // a cache line
  }

  void load_state(const adam_state& s) override {
    if (s.m.size() != tensors_.size() || s.v.size() != tensors_.size() || (cfg_.amsgrad && s.vmax.size() != tensors_.size()))
      throw input_error("eigen: state does not match the bound tensors");
    for (std::size_t i = 0; i < tensors_.size(); ++i) {
      auto& t = tensors_[i];
      for (std::int64_t k = 0; k < t.n; ++k) {
        t.m[k] = static_cast<T>(s.m[i][k]);
        t.v[k] = static_cast<T>(s.v[i][k]);
        if (cfg_.amsgrad) t.vmax[k] = static_cast<T>(s.vmax[i][k]);
      }
    }
    step_ = s.step;
    step_bf16_ = round_bf16(static_cast<float>(s.step));
  }

  void set_lr(double lr) override {
    adam_config c = cfg_;
    c.lr = lr;
    cfg_ = c.validated();
  }

  adam_state read_state() override {
    adam_state s;
    s.step = (M == mutant::bf16_step) ? static_cast<std::int64_t>(step_bf16_) : step_;
    for (auto& t : tensors_) {
      s.params.emplace_back(t.p, t.p + t.n);
      s.m.emplace_back(t.m.begin(), t.m.end());
      s.v.emplace_back(t.v.begin(), t.v.end());
      if (cfg_.amsgrad) s.vmax.emplace_back(t.vmax.begin(), t.vmax.end());
    }
    return s;
  }

  void step() override {
    step_ += 1;
    double t = static_cast<double>(step_);
    if constexpr (M == mutant::bf16_step) {
      step_bf16_ = round_bf16(step_bf16_ + 1.0f);
      t = step_bf16_;
    }
    if constexpr (M == mutant::off_by_one_step) t += 1.0;
    const adam_config& c = cfg_;
    adam_step_scalars sc = adam_step_scalars_at(t, c.lr, c.beta1, c.beta2, c.weight_decay);
    if constexpr (M == mutant::no_bias_correction) sc = adam_step_scalars_from(1.0, 1.0, c.lr, c.beta1, c.beta2, c.weight_decay);
    kernel_scalars s{};
    bool decoupled = c.kind == algo::adamw;
    if constexpr (M == mutant::decay_swapped) decoupled = !decoupled;
    s.decay_mul = decoupled ? sc.decay_mul : 1.0;
    if constexpr (M == mutant::adamw_decay_lr_bc1)
      if (decoupled) s.decay_mul = 1.0 - sc.step_size * c.weight_decay;
    s.wd = decoupled ? 0.0 : c.weight_decay;
    s.w1 = sc.w1;
    s.beta2 = c.beta2;
    s.one_minus_beta2 = sc.one_minus_beta2;
    s.bc2_sqrt = sc.bc2_sqrt;
    s.neg_step_size = -sc.step_size;
    s.eps = c.eps;
    if constexpr (M == mutant::eps_scaled) {
      s.neg_step_size = -(c.lr * sc.bc2_sqrt / sc.bc1);
      s.bc2_sqrt = 1.0;
    }
    if constexpr (M == mutant::trains_worse) s.neg_step_size *= 0.8;
    s.bc2_sqrt_inverse = 1.0 / static_cast<double>(T(s.bc2_sqrt));
    const bool maximize = (M == mutant::maximize_ignored) ? false : c.maximize;
    const bool lerp_low = s.w1 < 0.5;
    if constexpr (M == mutant::extra_v_pass || M == mutant::temp_buffer) planted_pass();
    const int flags = (maximize ? 1 : 0) | (s.wd != 0.0 ? 2 : 0) | (lerp_low ? 4 : 0) | (cfg_.amsgrad ? 8 : 0);
    const int threads = split_.threads_for(threads_);
    // One thread: no parallel region at all (even an if(false) region makes libgomp allocate and
    // free a team on every step, which the speed runner's allocation hook reports).
    if (threads <= 1) return run_share(flags, s, 0, 1);
#pragma omp parallel num_threads(threads)
    run_share(flags, s, omp_get_thread_num(), omp_get_num_threads());
  }

 private:
  struct tensor {
    T* p = nullptr;
    const T* g = nullptr;
    std::int64_t n = 0;
    // Aligned to Eigen's widest packet (64 bytes with AVX-512), like the callers' host tensors: a
    // packet load then never straddles two cache lines (malloc's 16-byte alignment would).
    std::vector<T, Eigen::aligned_allocator<T>> m, v, vmax;
  };

  /// One element, scalar; the packet loop below is the same arithmetic, op for op.
  static inline void update_one(T& p, T g, T& m, T& v, T* vmax, const kernel_scalars& s, bool maximize, bool lerp_low) {
    if (maximize) g = -g;
    p = p * T(s.decay_mul);
    if (s.wd != 0.0) g = g + T(s.wd) * p;  // skipped at 0 like PyTorch: 0 * NaN would poison g
    const T w1 = T(s.w1);
    if constexpr (M == mutant::rounding) m = T(1.0 - s.w1) * m + w1 * g;
    else m = lerp_low ? m + w1 * (g - m) : g - (g - m) * (T(1) - w1);
    v = v * T(s.beta2) + T(s.one_minus_beta2) * g * g;
    T vh = v;
    if (vmax) {
      T mx = (std::isnan(*vmax) || std::isnan(vh)) ? std::numeric_limits<T>::quiet_NaN() : std::max(*vmax, vh);
      if constexpr (M != mutant::amsgrad_not_stored) *vmax = mx;
      vh = mx;
    }
    const T denom = std::sqrt(vh) / T(s.bc2_sqrt) + T(s.eps);
    p = p + T(s.neg_step_size) * (m / denom);
  }

  /// Thread t's share of the step (of `threads`), with the packet loop compiled for this step's
  /// flags: the loop body then has no branches (measured by `adambench speed`; the arithmetic is the
  /// same op for op).
  void run_share(int flags, const kernel_scalars& s, int t, int threads) {
    switch (flags) {
      case 0: return run_fixed<false, false, false, false>(s, t, threads);
      case 1: return run_fixed<true, false, false, false>(s, t, threads);
      case 2: return run_fixed<false, true, false, false>(s, t, threads);
      case 3: return run_fixed<true, true, false, false>(s, t, threads);
      case 4: return run_fixed<false, false, true, false>(s, t, threads);
      case 5: return run_fixed<true, false, true, false>(s, t, threads);
      case 6: return run_fixed<false, true, true, false>(s, t, threads);
      case 7: return run_fixed<true, true, true, false>(s, t, threads);
      case 8: return run_fixed<false, false, false, true>(s, t, threads);
      case 9: return run_fixed<true, false, false, true>(s, t, threads);
      case 10: return run_fixed<false, true, false, true>(s, t, threads);
      case 11: return run_fixed<true, true, false, true>(s, t, threads);
      case 12: return run_fixed<false, false, true, true>(s, t, threads);
      case 13: return run_fixed<true, false, true, true>(s, t, threads);
      case 14: return run_fixed<false, true, true, true>(s, t, threads);
      default: return run_fixed<true, true, true, true>(s, t, threads);
    }
  }

  template <bool maximize, bool has_wd, bool lerp_low, bool amsgrad>
  void run_fixed(const kernel_scalars& s, int t, int threads) {
    split_.for_each_piece(t, threads, [&](std::size_t i, std::int64_t first, std::int64_t end) {
      tensor& tn = tensors_[i];
      if constexpr (M == mutant::scalar_loop || M == mutant::double_math) return planted_update(tn, first, end - first, s, maximize, lerp_low);
      update_fixed<maximize, has_wd, lerp_low, amsgrad>(tn, first, end - first, s, end == tn.n);
    });
  }

  template <bool maximize, bool has_wd, bool lerp_low, bool amsgrad>
  static void update_fixed(tensor& tn, std::int64_t off, std::int64_t len, const kernel_scalars& s, bool last_chunk) {
    using namespace Eigen::internal;
    T* __restrict p = tn.p + off;
    const T* __restrict g = tn.g + off;
    T* __restrict m = tn.m.data() + off;
    T* __restrict v = tn.v.data() + off;
    T* __restrict vm = amsgrad ? tn.vmax.data() + off : nullptr;
    const packet decay = pset1<packet>(T(s.decay_mul)), wd = pset1<packet>(T(s.wd)), w1 = pset1<packet>(T(s.w1)),
                 omw1 = pset1<packet>(T(1) - T(s.w1)), b2 = pset1<packet>(T(s.beta2)),
                 omb2 = pset1<packet>(T(s.one_minus_beta2)), bc2s = pset1<packet>(T(s.bc2_sqrt)),
                 eps = pset1<packet>(T(s.eps)), nss = pset1<packet>(T(s.neg_step_size));
    const std::int64_t vec_end = len - len % width;
    std::int64_t k = 0;
    for (; k < vec_end; k += width) {
      packet gk = ploadu<packet>(g + k);
      if constexpr (maximize) gk = pnegate(gk);
      packet pk = pmul(ploadu<packet>(p + k), decay);
      if constexpr (has_wd) gk = padd(gk, pmul(wd, pk));
      packet mk = ploadu<packet>(m + k);
      if constexpr (M == mutant::rounding) mk = padd(pmul(pset1<packet>(T(1.0 - s.w1)), mk), pmul(w1, gk));
      else if constexpr (lerp_low) mk = padd(mk, pmul(w1, psub(gk, mk)));
      else mk = psub(gk, pmul(psub(gk, mk), omw1));
      packet vk = padd(pmul(ploadu<packet>(v + k), b2), pmul(pmul(omb2, gk), gk));
      packet vh = vk;
      if constexpr (amsgrad) {
        vh = pmax<Eigen::PropagateNaN>(ploadu<packet>(vm + k), vk);
        if constexpr (M != mutant::amsgrad_not_stored) pstoreu(vm + k, vh);
      }
      const packet denom = padd(exact_div_by_constant<packet>::run(psqrt(vh), bc2s, s.bc2_sqrt_inverse), eps);
      pk = padd(pk, pmul(nss, pdiv(mk, denom)));
      pstoreu(m + k, mk);
      pstoreu(v + k, vk);
      pstoreu(p + k, pk);
    }
    if constexpr (M == mutant::simd_tail)
      if (last_chunk) return;
    for (; k < len; ++k) update_one(p[k], g[k], m[k], v[k], vm ? vm + k : nullptr, s, maximize, lerp_low);
  }

  /// The speed plants' loops (test-only): scalar_loop sends every element through update_one;
  /// double_math does the same arithmetic in double and rounds each result to T once.
  static void planted_update(tensor& tn, std::int64_t off, std::int64_t len, const kernel_scalars& s, bool maximize, bool lerp_low) {
    T* vm = tn.vmax.empty() ? nullptr : tn.vmax.data() + off;
    for (std::int64_t k = 0; k < len; ++k) {
      T& p = tn.p[off + k];
      T& m = tn.m[off + k];
      T& v = tn.v[off + k];
      if constexpr (M == mutant::double_math) {
        double pd = p, md = m, vd = v, xd = vm ? double(vm[k]) : 0.0;
        eigen_adam<double, mutant::none>::update_one(pd, tn.g[off + k], md, vd, vm ? &xd : nullptr, s, maximize, lerp_low);
        p = static_cast<T>(pd), m = static_cast<T>(md), v = static_cast<T>(vd);
        if (vm) vm[k] = static_cast<T>(xd);
      } else {
        update_one(p, tn.g[off + k], m, v, vm ? vm + k : nullptr, s, maximize, lerp_low);
      }
    }
  }

  /// The other speed plants (test-only), before the update: a read pass over every v whose sum
  /// escapes, or a temporary of every parameter allocated, filled from the gradients and freed.
  void planted_pass() {
    for (auto& t : tensors_) {
      if constexpr (M == mutant::extra_v_pass) {
        T sum = 0;
        for (std::int64_t k = 0; k < t.n; ++k) sum += t.v[k];
        asm volatile("" : : "g"(&sum) : "memory");
      } else {
        std::vector<T> tmp(t.g, t.g + t.n);
        asm volatile("" : : "g"(tmp.data()) : "memory");
      }
    }
  }

  adam_config cfg_;
  int threads_;
  std::int64_t step_ = 0;
  float step_bf16_ = 0.0f;
  std::vector<tensor> tensors_;
  work_split split_;
};

/// Makes the Eigen optimizer for a dtype, with or without a planted bug.
template <mutant M>
std::unique_ptr<optimizer> make(const adam_config& c, const impl_options& o, dtype d) {
  if (d == dtype::float32) return std::make_unique<eigen_adam<float, M>>(c, o);
  if (d == dtype::float64) return std::make_unique<eigen_adam<double, M>>(c, o);
  throw input_error(fmt::format("eigen: {} unsupported: only float32/float64", to_string(d)));
}

}  // namespace adambench::eigen_impl
