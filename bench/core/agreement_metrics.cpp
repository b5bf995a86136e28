#include "core/agreement_metrics.h"

#include "adambench/lowp.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace adambench {

void error_stats::merge(const error_stats& o) {
  max_abs = std::max(max_abs, o.max_abs);
  max_rel = std::max(max_rel, o.max_rel);
  max_ulp = std::max(max_ulp, o.max_ulp);
  max_err_u = std::max(max_err_u, o.max_err_u);
  compared += o.compared;
  if (first_index < 0 && o.first_index >= 0) {
    first_index = o.first_index;
    first_got = o.first_got;
    first_ref = o.first_ref;
  }
  failed += o.failed;
}

namespace {
// Maps a float to an integer so that adjacent representable values differ by 1.
template <typename I, typename F>
I ordered(F x) {
  I i = std::bit_cast<I>(x);
  return i < 0 ? std::numeric_limits<I>::min() - i : i;
}
}  // namespace

double ulp_distance(double a, double b, dtype d) {
  const bool na = std::isnan(a), nb = std::isnan(b);
  if (na || nb) return (na && nb) ? 0.0 : std::numeric_limits<double>::infinity();
  if (is_16bit(d)) {
    const double ra = round_to(d, a), rb = round_to(d, b);
    if (std::isinf(ra) || std::isinf(rb)) return ra == rb ? 0.0 : std::numeric_limits<double>::infinity();
    const auto bits = [&](double x) {
      return static_cast<std::int16_t>(d == dtype::bfloat16 ? lowp::to_bf16_bits(x) : lowp::to_f16_bits(x));
    };
    const std::int64_t ia = ordered<std::int16_t>(bits(ra)), ib = ordered<std::int16_t>(bits(rb));
    return static_cast<double>(ia > ib ? ia - ib : ib - ia);
  }
  if (d == dtype::float32) {
    const float fa = static_cast<float>(a), fb = static_cast<float>(b);
    if (std::isinf(fa) || std::isinf(fb)) return fa == fb ? 0.0 : std::numeric_limits<double>::infinity();
    const auto ia = static_cast<std::int64_t>(ordered<std::int32_t>(fa)), ib = static_cast<std::int64_t>(ordered<std::int32_t>(fb));
    return static_cast<double>(ia > ib ? ia - ib : ib - ia);
  }
  if (std::isinf(a) || std::isinf(b)) return a == b ? 0.0 : std::numeric_limits<double>::infinity();
  const std::int64_t ia = ordered<std::int64_t>(a), ib = ordered<std::int64_t>(b);
  // 128-bit difference: values of opposite sign can be 2^64 apart.
  const __int128 diff = static_cast<__int128>(ia) - static_cast<__int128>(ib);
  return static_cast<double>(diff < 0 ? -diff : diff);
}

error_stats compare_values(const std::vector<double>& got, const std::vector<double>& ref,
                           const std::vector<double>& bound, dtype d, const tolerance& t) {
  error_stats s;
  const std::size_t n = std::min(got.size(), ref.size());
  auto fail = [&](std::size_t i) {
    if (s.first_index < 0) {
      s.first_index = static_cast<std::int64_t>(i);
      s.first_got = got[i];
      s.first_ref = ref[i];
    }
    if (s.bad_indices.size() < 3) s.bad_indices.push_back(static_cast<std::int64_t>(i));
    ++s.failed;
  };
  for (std::size_t i = 0; i < n; ++i) {
    ++s.compared;
    const double g = got[i], r = ref[i];
    if (!std::isfinite(r) || !std::isfinite(g)) {
      const bool same = (std::isnan(r) && std::isnan(g)) || (r == g);
      if (!same) {
        s.max_abs = s.max_rel = s.max_ulp = s.max_err_u = std::numeric_limits<double>::infinity();
        fail(i);
      }
      continue;
    }
    const double abs = std::fabs(g - r);
    const double rel = r != 0 ? abs / std::fabs(r) : (abs == 0 ? 0.0 : std::numeric_limits<double>::infinity());
    const double ulp = ulp_distance(g, round_to(d, r), d);
    s.max_abs = std::max(s.max_abs, abs);
    s.max_rel = std::max(s.max_rel, rel);
    s.max_ulp = std::max(s.max_ulp, ulp);
    const double bi = i < bound.size() ? bound[i] : 0.0;
    double b = t.u * bi;
    if (is_16bit(d)) {
      // One rounding of the float32 master weight (u16 * |master|), whose own error is float32's
      // (8 u32 * bound): u16 * bound alone grows with the steps (bound ~66 |p| after 15 steps let a
      // bfloat16 parameter 10% off pass). b is scaled so that k * b is exactly this allowance.
      const double master = 8.0 * 0x1p-24 * bi;
      b = (t.u * (std::fabs(r) + master) + master) / t.k;
    }
    const bool exact = g == round_to(d, r);
    const double err_u = exact ? 0.0 : b > 0 ? abs / b : std::numeric_limits<double>::infinity();
    s.max_err_u = std::max(s.max_err_u, err_u);
    const bool ok = exact || abs <= t.k * b;
    if (!ok) fail(i);
  }
  if (got.size() != ref.size()) {
    s.failed += 1;
    if (s.first_index < 0) s.first_index = static_cast<std::int64_t>(n);
  }
  return s;
}

tolerance tolerance_for(dtype d) {
  // 16-bit parameters (docs/cuda.md): float32 master weights and state, so the stored parameter is
  // the float32 result rounded once to the 16-bit type: |error| <= u16*(|p| + m) + m with
  // m = 8*2^-24*bound (compare_values applies exactly this; k = 2 there is only a scale). The
  // rounding does not accumulate over steps (the master weights carry the exact value on). State
  // (m, v, max_v) stays float32 and is compared with float32's tolerance (state_compare.cpp).
  if (d == dtype::bfloat16) return {2.0, 0x1p-8};
  if (d == dtype::float16) return {2.0, 0x1p-11};
  const double u = d == dtype::float32 ? 0x1p-24 : 0x1p-53;
  return {8.0, u};  // docs/tolerances.md: worst measured 1.9 (float64) and 1.1 (float32)
}

}  // namespace adambench
