// The Eigen kernel's exact division by a per-step constant (impls/eigen/eigen_adam_kernel.h),
// compiled with the kernel's own flags (tests/CMakeLists.txt) so the SIMD specialisations are the
// ones the shipped kernel runs.
#include "core/step_scalars.h"
#include "impls/eigen/eigen_adam_kernel.h"

#include <bit>
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <vector>

using namespace adambench;

namespace {

// The divisors the kernel sees: sqrt(bias_correction2) rounded to float for beta2 = 0.999 and
// 0.95 over the first 20,000 steps, plus 1 and the significand extremes.
std::vector<float> divisors() {
  std::vector<float> c{1.0f, std::nextafter(1.0f, 0.0f), std::nextafter(0.5f, 1.0f), 0.5f};
  for (double b2 : {0.999, 0.95})
    for (int t = 1; t <= 20000; t += (t < 100 ? 1 : 97))
      c.push_back(static_cast<float>(adam_step_scalars_at(t, 1e-3, 0.9, b2, 0.0).bc2_sqrt));
  return c;
}

// Dividends: every exponent (subnormals, 0, inf, NaN included) with random significands and signs,
// and the values sqrt(v) takes.
std::vector<float> dividends() {
  std::mt19937 rng(7);
  std::vector<float> x;
  for (std::uint32_t e = 0; e < 256; ++e)
    for (int k = 0; k < 64; ++k) {
      std::uint32_t u = (e << 23) | (rng() & 0x7fffffu) | (k % 2 ? 0x80000000u : 0u);
      x.push_back(std::bit_cast<float>(u));
    }
  for (float f : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-45f, 1.17549435e-38f, 3.4028235e38f}) x.push_back(f);
  while (x.size() % 16) x.push_back(1.0f);
  return x;
}

bool same(float a, float b) { return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b) || (std::isnan(a) && std::isnan(b)); }

// Lanes of `packet` where run() differs from IEEE division, over every divisor and dividend.
template <typename packet, typename Div>
int mismatches(Div div) {
  constexpr int w = Eigen::internal::unpacket_traits<packet>::size;
  int bad = 0;
  const std::vector<float> xs = dividends();
  for (float c : divisors()) {
    const packet cp = Eigen::internal::pset1<packet>(c);
    for (std::size_t i = 0; i < xs.size(); i += w) {
      float out[w];
      Eigen::internal::pstoreu(out, div(Eigen::internal::ploadu<packet>(xs.data() + i), cp, 1.0 / static_cast<double>(c)));
      for (int k = 0; k < w; ++k) bad += !same(out[k], xs[i + k] / c);
    }
  }
  return bad;
}

template <typename packet>
void check_exact() {
  using eigen_impl::exact_div_by_constant;
  CHECK(mismatches<packet>([](const packet& x, const packet& c, double r) { return exact_div_by_constant<packet>::run(x, c, r); }) == 0);
  // The same sweep tells a float reciprocal (x * (1/c) in float) from a division: it can fail.
  CHECK(mismatches<packet>([](const packet& x, const packet&, double r) {
          return Eigen::internal::pmul(x, Eigen::internal::pset1<packet>(static_cast<float>(r)));
        }) > 0);
}

}  // namespace

TEST_CASE("the Eigen kernel's division by sqrt(bias_correction2) is IEEE division, bit for bit") {
  check_exact<Eigen::internal::Packet4f>();
#if defined(__AVX__)
  check_exact<Eigen::internal::Packet8f>();
#endif
#if defined(__AVX512F__)
  check_exact<Eigen::internal::Packet16f>();
#endif
}
