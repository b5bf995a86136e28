#include "adam_reference.h"
#include "core/agreement_metrics.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>

using namespace adambench;

// Hand-derived from torch/optim/adam.py (PyTorch 2.x, _single_tensor_adam).
TEST_CASE("reference: one Adam step from zeros matches the hand-computed value") {
  reference_adam r(adam_config{});
  r.init({{1.0}});
  r.step({{0.5}});
  const double m = 0.1 * 0.5, v = 0.001 * 0.25, bc1 = 0.1, bc2 = 1 - 0.999;
  const double want = 1.0 - (1e-3 / bc1) * (m / (std::sqrt(v) / std::sqrt(bc2) + 1e-8));
  CHECK(r.state().params[0][0] == Approx(want).epsilon(1e-15));
  CHECK(r.state().m[0][0] == Approx(m).epsilon(1e-15));
  CHECK(r.state().v[0][0] == Approx(v).epsilon(1e-15));
  CHECK(r.state().step == 1);
}

TEST_CASE("reference: eps is added after the bias correction of sqrt(v)") {
  // With g tiny relative to eps the two placements differ by a factor of sqrt(bc2) in eps.
  reference_adam r(adam_config{}.with_eps(1e-3));
  r.init({{0.0}});
  r.step({{1e-3}});
  const double want = -(1e-3 / 0.1) * (1e-4 / (std::sqrt(1e-9) / std::sqrt(0.001) + 1e-3));
  CHECK(r.state().params[0][0] == Approx(want).epsilon(1e-14));
}

TEST_CASE("reference: Adam's L2 goes into the gradient, AdamW's decay into the parameter") {
  reference_adam adam(adam_config{}.with_lr(0.1).with_weight_decay(0.5));
  adam.init({{2.0}});
  adam.step({{0.0}});
  // g = 0 + 0.5 * 2 = 1: a full Adam step of size lr against the sign of p
  CHECK(adam.state().params[0][0] == Approx(2.0 - 0.1 * (1.0 / (1.0 + 1e-8))).epsilon(1e-14));
  CHECK(adam.state().m[0][0] == Approx(0.1).epsilon(1e-14));

  reference_adam adamw(adam_config{}.with_algo(algo::adamw).with_lr(0.1).with_weight_decay(0.5));
  adamw.init({{2.0}});
  adamw.step({{0.0}});
  CHECK(adamw.state().params[0][0] == 2.0 * (1 - 0.1 * 0.5));  // zero gradient: decay only
  CHECK(adamw.state().m[0][0] == 0.0);
}

TEST_CASE("reference: amsgrad keeps the running max of v and uses it") {
  reference_adam r(adam_config{}.with_amsgrad(true));
  r.init({{1.0}});
  r.step({{10.0}});
  const double v1 = r.state().v[0][0];
  r.step({{0.0}});
  CHECK(r.state().v[0][0] < v1);
  CHECK(r.state().vmax[0][0] == v1);
}

TEST_CASE("reference: maximize negates the gradient") {
  reference_adam a(adam_config{}), b(adam_config{}.with_maximize(true));
  a.init({{1.0}});
  b.init({{1.0}});
  a.step({{-0.3}});
  b.step({{0.3}});
  CHECK(a.state().params[0][0] == b.state().params[0][0]);
  CHECK(b.state().params[0][0] > 1.0);
}

TEST_CASE("reference: NaN and inf gradients propagate as in torch.optim") {
  reference_adam r(adam_config{});
  r.init({{1.0, 1.0}});
  r.step({{std::nan(""), INFINITY}});
  CHECK(std::isnan(r.state().params[0][0]));
  CHECK(std::isnan(r.state().m[0][0]));
  CHECK(std::isinf(r.state().m[0][1]));
  CHECK(std::isnan(r.state().params[0][1]));  // inf / inf
  r.step({{0.1, 0.1}});
  // lerp_(m = inf, g, 0.1) = inf + 0.1 * (g - inf) = NaN (mul_/add_ would keep inf)
  CHECK(std::isnan(r.state().m[0][1]));
  CHECK(std::isinf(r.state().v[0][1]));
}

TEST_CASE("reference: aten_lerp uses ATen's two branches") {
  CHECK(aten_lerp(1.0, 3.0, 0.25) == 1.0 + 0.25 * 2.0);
  CHECK(aten_lerp(1.0, 3.0, 0.75) == 3.0 - 2.0 * 0.25);
  CHECK(aten_lerp(5.0, 7.0, 1.0) == 7.0);  // beta1 = 0: m becomes g exactly
}

TEST_CASE("reference: load_state resumes at a later step") {
  reference_adam r(adam_config{});
  r.init({{1.0}});
  adam_state s;
  s.step = 300;
  s.m = {{0.2}};
  s.v = {{0.04}};
  r.load_state(s);
  r.step({{0.2}});
  CHECK(r.state().step == 301);
  const double bc1 = 1 - std::pow(0.9, 301), bc2 = 1 - std::pow(0.999, 301);
  const double v = 0.04 * 0.999 + 0.001 * 0.04;
  CHECK(r.state().params[0][0] == Approx(1.0 - (1e-3 / bc1) * 0.2 / (std::sqrt(v) / std::sqrt(bc2) + 1e-8)).epsilon(1e-14));
}

TEST_CASE("reference: bad state and gradients are input errors") {
  reference_adam r(adam_config{});
  r.init({{1.0, 2.0}});
  CHECK_THROWS_AS(r.step({{1.0}}), input_error);
  CHECK_THROWS_AS(r.step({{1.0, 2.0}, {3.0}}), input_error);
  adam_state s;
  s.m = {{0.0}};
  s.v = {{0.0, 0.0}};
  CHECK_THROWS_AS(r.load_state(s), input_error);
  CHECK_THROWS_AS(reference_adam(adam_config{}.with_lr(-1)), input_error);
}

TEST_CASE("reference: running error bounds cover each value and grow with steps") {
  reference_adam r(adam_config{}.with_weight_decay(0.01));
  r.init({{1.0, -0.5, 0.0}});
  double last = 0;
  for (int t = 0; t < 50; ++t) {
    r.step({{0.3, -0.2, 1e-3}});
    for (std::size_t k = 0; k < 3; ++k) {
      CHECK(r.bounds().params[0][k] >= std::fabs(r.state().params[0][k]));
      CHECK(r.bounds().m[0][k] >= std::fabs(r.state().m[0][k]));
      CHECK(r.bounds().v[0][k] >= r.state().v[0][k]);
    }
    CHECK(r.bounds().params[0][0] > last);
    last = r.bounds().params[0][0];
  }
}

// docs/tolerances.md, "Underflow": a plain float32 Adam (torch.optim's op order, each op rounded
// once, gradual underflow) on gradients ~1e-21, where (1-b2)*g^2 is subnormal, agrees with the
// reference only when the bound carries float32's underflow term; without it (float64's term)
// the same correct arithmetic reads as a disagreement of thousands of u.
TEST_CASE("reference: the underflow term keeps correct float32 arithmetic on subnormals agreeing") {
  auto run = [](dtype arithmetic) {
    const adam_config c{};
    std::mt19937_64 rng(1);
    std::normal_distribution<double> n(0.0, 1.0);
    std::vector<float> p(200), m(200, 0.f), v(200, 0.f);
    for (auto& x : p) x = static_cast<float>(n(rng));
    reference_adam ref(c, arithmetic);
    ref.init({std::vector<double>(p.begin(), p.end())});
    for (int t = 1; t <= 20; ++t) {
      std::vector<float> g(p.size());
      for (auto& x : g) x = static_cast<float>(1e-21 * n(rng));
      ref.step({std::vector<double>(g.begin(), g.end())});
      const float b1 = 0.9f, b2 = 0.999f;
      const double bc1 = 1 - std::pow(0.9, t), bc2 = 1 - std::pow(0.999, t);
      for (std::size_t k = 0; k < p.size(); ++k) {
        m[k] = m[k] + (1.f - b1) * (g[k] - m[k]);
        v[k] = v[k] * b2 + (1.f - b2) * (g[k] * g[k]);
        const float denom = std::sqrt(v[k]) / static_cast<float>(std::sqrt(bc2)) + 1e-8f;
        p[k] = p[k] + static_cast<float>(-(1e-3 / bc1)) * (m[k] / denom);
      }
    }
    const tolerance tol = tolerance_for(dtype::float32);
    return compare_values(std::vector<double>(v.begin(), v.end()), ref.state().v[0], ref.bounds().v[0], dtype::float32, tol);
  };
  const error_stats with = run(dtype::float32), without = run(dtype::float64);
  INFO("with the float32 term: " << with.max_err_u << " u; with float64's: " << without.max_err_u << " u");
  CHECK(with.failed == 0);
  CHECK(without.failed > 0);  // the case is hard enough to need the term
}
