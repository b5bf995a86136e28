#include "adam_reference.h"
#include "core/agreement_metrics.h"
#include "adambench/optimizer.h"
#include "core/step_scalars.h"
#include "check/state_compare.h"

#include <catch2/catch.hpp>
#include <random>

using namespace adambench;

namespace {
struct outcome {
  adam_state got, want, bound;  // the implementation's, the reference's, the reference's error bounds
};
// Runs `name` for `steps` steps over a tensor list and returns its state, the reference's and its
// bounds. Two tensors are large enough (40000, 129x257 = 33153 of 74,199 elements) that the Eigen
// implementation's 2- and 3-thread shares are cut inside them.
outcome run(const std::string& name, const adam_config& c, dtype d, int steps, int threads = 1) {
  std::vector<shape_t> shapes{{}, {7}, {0}, {40000}, {1023}, {129, 257}, {3, 5}, {0}};
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
  return {opt->read_state(), ref.state(), ref.bounds()};
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
  case_features f;
  f.type = d;
  int checked = 0;
  for (const impl_entry& e : default_registry().all()) {
    if (!e.supports(c, f).ok) continue;  // CUDA ones without a GPU; libtorch-fused without a CPU kernel
    INFO(e.name << " " << c.describe() << " " << to_string(d));
    auto r = run(e.name, c, d, 5);
    CHECK(r.got.step == 5);
    // Parameters and state, each element against the reference's own error bound (docs/tolerances.md).
    state_comparison sc = compare_state(r.got, r.want, r.bound, d, c.amsgrad);
    std::string first;
    for (auto& row : sc.rows) first += row.first_values;
    INFO(first);
    CHECK(sc.ok());
    ++checked;
  }
  CHECK(checked >= 4);  // at least reference, eigen, libtorch, libtorch-foreach ran
}

TEST_CASE("the state comparison fails on a perturbed parameter or state element") {
  auto r = run("eigen", adam_config{}.with_amsgrad(true), dtype::float32, 3);
  REQUIRE(compare_state(r.got, r.want, r.bound, dtype::float32, true).ok());
  for (auto member : {&adam_state::params, &adam_state::m, &adam_state::v, &adam_state::vmax}) {
    adam_state bad = r.got;
    // Past the first chunk of the 40000-element tensor. 1e-2 relative: after 3 steps v's bound holds
    // 3 g^2 while v is ~(1 - beta2) g^2, so 8 u * bound allows ~1.4e-3 of v (measured: 1e-3 passes).
    (bad.*member)[3][20000] *= 1 + 1e-2;
    CHECK_FALSE(compare_state(bad, r.want, r.bound, dtype::float32, true).ok());
  }
  adam_state bad_step = r.got;
  bad_step.step += 1;
  CHECK_FALSE(compare_state(bad_step, r.want, r.bound, dtype::float32, true).ok());
}

TEST_CASE("eigen is bitwise identical across thread counts") {
  auto a = run("eigen", adam_config{}, dtype::float32, 3, 1).got;
  for (int threads : {2, 3}) {
    auto b = run("eigen", adam_config{}, dtype::float32, 3, threads).got;
    CHECK(a.params == b.params);
    CHECK(a.m == b.m);
    CHECK(a.v == b.v);
  }
}

TEST_CASE("libtorch-fused reports why it cannot run rather than failing") {
  support s = default_registry().at("libtorch-fused").supports(adam_config{}, case_features{});
  if (s.ok) {  // a LibTorch with a CPU fused kernel: then it must agree
    auto r = run("libtorch-fused", adam_config{}, dtype::float32, 5);
    CHECK(compare_state(r.got, r.want, r.bound, dtype::float32, false).ok());
  } else {
    CHECK(s.reason.find("_fused_adam_") != std::string::npos);
  }
}

TEST_CASE("libtorch supports maximize in every version: it steps on the negated gradient") {
  REQUIRE(default_registry().at("libtorch").supports(adam_config{}.with_maximize(true), case_features{}).ok);
  {  // ... and agrees with the reference over several steps
    auto r = run("libtorch", adam_config{}.with_maximize(true), dtype::float32, 5);
    CHECK(compare_state(r.got, r.want, r.bound, dtype::float32, false).ok());
  }
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

TEST_CASE("step scalars are torch.optim's float64 values, bit for bit") {
  // Python floats as torch/optim/adam.py's _single_tensor_adam computes them for lr=1e-3,
  // betas=(0.9, 0.999), weight_decay=0.01 (printed by /usr/bin/python3 with float.hex()).
  const adam_step_scalars s1 = adam_step_scalars_at(1.0, 1e-3, 0.9, 0.999, 0.01);
  CHECK(s1.bc1 == 0x1.9999999999998p-4);        // 1 - 0.9 ** 1.0
  CHECK(s1.bc2 == 0x1.0624dd2f1aa00p-10);       // 1 - 0.999 ** 1.0
  CHECK(s1.step_size == 0x1.47ae147ae147cp-7);  // lr / bias_correction1
  CHECK(s1.bc2_sqrt == 0x1.030dc4ea03a74p-5);   // math.sqrt(bias_correction2)
  const adam_step_scalars s3 = adam_step_scalars_at(3.0, 1e-3, 0.9, 0.999, 0.01);
  CHECK(s3.bc1 == 0x1.15810624dd2f0p-2);
  CHECK(s3.bc2 == 0x1.88d2aa8fe9a00p-9);
  CHECK(s3.step_size == 0x1.e3a9179dc1a76p-9);
  CHECK(s3.bc2_sqrt == 0x1.c078514eb6c08p-5);
  CHECK(s3.decay_mul == 0x1.fffeb074a771dp-1);  // 1 - lr * weight_decay
  CHECK(s3.w1 == 0x1.9999999999998p-4);         // 1 - beta1
  CHECK(s3.one_minus_beta2 == 0x1.0624dd2f1aa00p-10);
  // The mutants' entry point derives the same values from given bias corrections.
  const adam_step_scalars f = adam_step_scalars_from(s3.bc1, s3.bc2, 1e-3, 0.9, 0.999, 0.01);
  CHECK(f.step_size == s3.step_size);
  CHECK(f.bc2_sqrt == s3.bc2_sqrt);
}

TEST_CASE("the shipped registrations carry the traits the runners read in place of names") {
  const registry& r = default_registry();
  CHECK(r.traits("libtorch").peer == speed_peer::libtorch);
  CHECK(r.traits("libtorch-foreach").peer == speed_peer::libtorch_other);
  CHECK(r.traits("libtorch-fused").peer == speed_peer::libtorch_other);
  CHECK(r.traits("deepspeed-cpu").peer == speed_peer::deepspeed);
  CHECK(r.traits("reference").oracle);
  CHECK(r.all().front().name == "reference");  // the oracle sorts first
  int peers = 0, baselines = 0, oracles = 0;
  for (const impl_entry& e : r.all()) {
    peers += e.traits.peer == speed_peer::libtorch;
    baselines += e.traits.baseline();
    oracles += e.traits.oracle;
    // GPU LibTorch rows are not CPU peers: speed compares CPU implementations with CPU LibTorch.
    if (e.name.ends_with("-cuda")) CHECK(e.traits.peer == speed_peer::none);
  }
  CHECK(peers == 1);
  CHECK(oracles == 1);
  CHECK(baselines == 1);
  const impl_traits& sgd = r.traits("sgd-momentum");
  REQUIRE(sgd.baseline());
  const adam_config c = sgd.baseline_config(0.05, 0.8, 0.01);  // lr, momentum, L2 weight decay
  CHECK(c.lr == 0.05);
  CHECK(c.beta1 == 0.8);
  CHECK(c.weight_decay == 0.01);
  CHECK(r.traits("no-such-impl").peer == speed_peer::none);  // unknown names: no role
}
