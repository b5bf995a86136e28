#include "adam_reference.h"
#include "core/compare.h"
#include "impls/register_all.h"

#include <catch2/catch.hpp>
#include <random>

using namespace adambench;

namespace {
// Runs `name` for `steps` steps over a few tensors and returns its state (and the reference's).
std::pair<adam_state, adam_state> run(const std::string& name, const adam_config& c, dtype d, int steps, int threads = 1) {
  std::vector<shape_t> shapes{{}, {7}, {0}, {1023}, {3, 5}, {0}};
  std::mt19937_64 rng(42);
  std::normal_distribution<double> n;
  std::vector<host_tensor> p, g;
  std::vector<std::vector<double>> p0;
  for (auto& s : shapes) {
    p.emplace_back(d, s);
    g.emplace_back(d, s);
    for (std::int64_t k = 0; k < p.back().numel(); ++k) p.back().set(k, n(rng));
    std::vector<double> x(p.back().numel());
    for (std::int64_t k = 0; k < p.back().numel(); ++k) x[k] = p.back().get(k);
    p0.push_back(x);
  }
  std::vector<tensor_view> pv, gv;
  for (auto& t : p) pv.push_back(t.view());
  for (auto& t : g) gv.push_back(t.view());
  auto opt = default_registry().at(name).make(c, impl_options{threads}, d);
  opt->bind(pv, gv);
  reference_adam ref(c);
  ref.init(p0);
  for (int t = 0; t < steps; ++t) {
    std::vector<std::vector<double>> gd;
    for (auto& x : g) {
      for (std::int64_t k = 0; k < x.numel(); ++k) x.set(k, n(rng));
      std::vector<double> y(x.numel());
      for (std::int64_t k = 0; k < x.numel(); ++k) y[k] = x.get(k);
      gd.push_back(y);
    }
    opt->step();
    ref.step(gd);
  }
  return {opt->read_state(), ref.state()};
}
}  // namespace

TEST_CASE("every shipped implementation is registered once") {
  auto names = default_registry().names();
  for (const char* n : {"reference", "eigen", "libtorch", "libtorch-foreach", "libtorch-fused"})
    CHECK(std::count(names.begin(), names.end(), n) == 1);
  CHECK_THROWS_WITH(default_registry().at("nope"), Catch::StartsWith("unknown implementation 'nope': known are reference"));
}

TEST_CASE("implementations agree with the reference on a mixed tensor list") {
  auto c = GENERATE(adam_config{}, adam_config{}.with_algo(algo::adamw).with_weight_decay(0.1).with_lr(0.01),
                    adam_config{}.with_amsgrad(true).with_weight_decay(0.01));
  auto d = GENERATE(dtype::float32, dtype::float64);
  for (const char* name : {"reference", "eigen", "libtorch", "libtorch-foreach"}) {
    INFO(name << " " << c.describe() << " " << to_string(d));
    auto [got, want] = run(name, c, d, 5);
    CHECK(got.step == 5);
    for (std::size_t i = 0; i < want.params.size(); ++i) {
      auto e = compare_values(got.params[i], want.params[i], std::vector<double>(want.params[i].size(), 8.0), d, tolerance_for(d));
      CHECK(e.failed == 0);
    }
  }
}

TEST_CASE("eigen is bitwise identical across thread counts") {
  auto a = run("eigen", adam_config{}, dtype::float32, 3, 1).first;
  auto b = run("eigen", adam_config{}, dtype::float32, 3, 2).first;
  CHECK(a.params == b.params);
  CHECK(a.m == b.m);
  CHECK(a.v == b.v);
}

TEST_CASE("libtorch-fused reports why it cannot run rather than failing") {
  support s = default_registry().at("libtorch-fused").supports(adam_config{}, case_features{});
  if (!s.ok) CHECK(s.reason.find("_fused_adam_") != std::string::npos);
}

TEST_CASE("libtorch supports maximize in every version: it steps on the negated gradient") {
  REQUIRE(default_registry().at("libtorch").supports(adam_config{}.with_maximize(true), case_features{}).ok);
  CHECK(default_registry().at("eigen").supports(adam_config{}.with_maximize(true), case_features{}).ok);
  // One step from p = 1 with g = 0.5: Adam moves p by -lr, maximize by +lr (first step: m/sqrt(v) = ±1).
  for (bool mx : {false, true}) {
    host_tensor p(dtype::float64, shape_t{3}), g(dtype::float64, shape_t{3});
    for (int i = 0; i < 3; ++i) {
      p.set(i, 1.0);
      g.set(i, 0.5);
    }
    std::vector<tensor_view> pv{p.view()}, gv{g.view()};
    auto o = default_registry().at("libtorch").make(adam_config{}.with_maximize(mx), impl_options{1}, dtype::float64);
    o->bind(pv, gv);
    o->step();
    CHECK(p.get(0) == Approx(mx ? 1.001 : 0.999).epsilon(1e-9));
    CHECK(g.get(0) == 0.5);  // the caller's gradient is left as it was
  }
}
