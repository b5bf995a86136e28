// The CUDA implementations' per-element arithmetic (bench/impls/cuda/adam_math.h), compiled here as
// plain C++: float32 against the float64 reference and the Eigen implementation, mixed precision,
// and the bit-exact bfloat16/float16 rounding the host side uses.
#include "adam_reference.h"
#include "core/agreement_metrics.h"
#include "adambench/lowp.h"
#include "impls/cuda/adam_math.h"
#include "impls/cuda/work_list.h"
#include "adambench/optimizer.h"

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>

using namespace adambench;
namespace cm = adambench::cuda_math;

namespace {

// The Eigen implementation's bfloat16 rounding (the usual bit trick), valid for non-NaN floats.
std::uint16_t bf16_bit_trick(float x) {
  std::uint32_t u = std::bit_cast<std::uint32_t>(x);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>(u >> 16);
}

struct run_result {
  adam_state got, want, bound;
};

// Runs adam_math's float32 update over a few tensors for `steps` steps, next to the reference.
run_result run_math(const adam_config& c, int steps, bool random_state, std::uint64_t seed) {
  std::vector<std::size_t> sizes{1, 7, 0, 1023, 15};
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n;
  std::vector<std::vector<float>> p, m, v, vm;
  std::vector<std::vector<double>> p0;
  adam_state s0;
  s0.step = random_state ? 17 : 0;
  for (auto k : sizes) {
    std::vector<float> pk(k), mk(k, 0.f), vk(k, 0.f), vmk(k, 0.f);
    for (auto& x : pk) x = static_cast<float>(n(rng));
    if (random_state)
      for (std::size_t j = 0; j < k; ++j) {
        mk[j] = static_cast<float>(0.3 * n(rng));
        const double a = n(rng);
        vk[j] = static_cast<float>(0.5 * a * a);
        const double b = n(rng);
        vmk[j] = static_cast<float>(static_cast<double>(vk[j]) + 0.5 * b * b);
      }
    p0.emplace_back(pk.begin(), pk.end());
    s0.m.emplace_back(mk.begin(), mk.end());
    s0.v.emplace_back(vk.begin(), vk.end());
    if (c.amsgrad) s0.vmax.emplace_back(vmk.begin(), vmk.end());
    p.push_back(pk); m.push_back(mk); v.push_back(vk); vm.push_back(vmk);
  }
  reference_adam ref(c);
  ref.init(p0);
  if (random_state) ref.load_state(s0);
  std::int64_t t = s0.step;
  for (int s = 0; s < steps; ++s) {
    ++t;
    std::vector<std::vector<double>> g;
    for (auto k : sizes) {
      std::vector<double> gk(k);
      for (auto& x : gk) x = static_cast<double>(static_cast<float>(n(rng)));
      g.push_back(gk);
    }
    ref.step(g);
    const cm::step_scalars sc = cm::make_scalars(c.kind == algo::adamw, c.lr, c.beta1, c.beta2, c.eps, c.weight_decay,
                                                 c.amsgrad, c.maximize, t);
    for (std::size_t i = 0; i < sizes.size(); ++i)
      for (std::size_t j = 0; j < sizes[i]; ++j)
        cm::adam_element(p[i][j], static_cast<float>(g[i][j]), m[i][j], v[i][j], vm[i][j], sc);
  }
  run_result r;
  r.want = ref.state();
  r.bound = ref.bounds();
  r.got.step = t;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    r.got.params.emplace_back(p[i].begin(), p[i].end());
    r.got.m.emplace_back(m[i].begin(), m[i].end());
    r.got.v.emplace_back(v[i].begin(), v[i].end());
    if (c.amsgrad) r.got.vmax.emplace_back(vm[i].begin(), vm[i].end());
  }
  return r;
}

void check_agrees(const run_result& r, bool amsgrad) {
  const tolerance tol = tolerance_for(dtype::float32);
  auto check = [&](const auto& g, const auto& w, const auto& b) {
    REQUIRE(g.size() == w.size());
    for (std::size_t i = 0; i < g.size(); ++i) {
      error_stats e = compare_values(g[i], w[i], b[i], dtype::float32, tol);
      INFO("tensor " << i << " worst error " << e.max_err_u << " u");
      CHECK(e.failed == 0);
    }
  };
  check(r.got.params, r.want.params, r.bound.params);
  check(r.got.m, r.want.m, r.bound.m);
  check(r.got.v, r.want.v, r.bound.v);
  if (amsgrad) check(r.got.vmax, r.want.vmax, r.bound.vmax);
}

}  // namespace

TEST_CASE("cuda adam_math: float32 update agrees with the float64 reference", "[cuda_math]") {
  for (algo a : {algo::adam, algo::adamw})
    for (double wd : {0.0, 0.01})
      for (bool ams : {false, true})
        for (bool maxi : {false, true})
          for (double b1 : {0.9, 0.0}) {  // both branches of ATen's lerp
            adam_config c = adam_config{}.with_algo(a).with_lr(1e-2).with_weight_decay(wd).with_amsgrad(ams)
                                .with_maximize(maxi).with_betas(b1, 0.999);
            for (bool rs : {false, true}) {
              INFO(c.describe() << (rs ? " random state" : ""));
              check_agrees(run_math(c, 50, rs, 7), ams);
            }
          }
}

TEST_CASE("cuda adam_math: float32 is torch.optim's single-tensor Adam op for op, bit for bit", "[cuda_math]") {
  // torch.optim._single_tensor_adam on float32 CPU tensors, one ATen op at a time (scalars are
  // Python floats, cast to float by each kernel): every rounding happens where PyTorch's does.
  // (Not compared with the Eigen implementation: GCC 12 contracts its C++ a*b+c into FMA under
  // -march=native even in ISO mode, so it rounds differently, within tolerance.)
  auto torch_step = [](float& p, float g, float& m, float& v, float& vmax, const adam_config& c, std::int64_t t) {
    const double bc1 = 1.0 - std::pow(c.beta1, static_cast<double>(t));
    const double bc2 = 1.0 - std::pow(c.beta2, static_cast<double>(t));
    if (c.maximize) g = -g;                                                      // torch.neg
    if (c.kind == algo::adamw) p = p * static_cast<float>(1.0 - c.lr * c.weight_decay);  // param.mul_
    else if (c.weight_decay != 0) g = g + static_cast<float>(c.weight_decay) * p;      // grad.add(param, alpha)
    const float w = static_cast<float>(1.0 - c.beta1);                         // exp_avg.lerp_(grad, w)
    m = (w < 0.5f) ? m + w * (g - m) : g - (g - m) * (1.0f - w);
    v = v * static_cast<float>(c.beta2) + static_cast<float>(1.0 - c.beta2) * g * g;  // mul_, addcmul_
    float vh = v;
    if (c.amsgrad) {
      vmax = (std::isnan(vmax) || std::isnan(v)) ? NAN : std::max(vmax, v);   // torch.maximum
      vh = vmax;
    }
    const float denom = std::sqrt(vh) / static_cast<float>(std::sqrt(bc2)) + static_cast<float>(c.eps);
    p = p + static_cast<float>(-(c.lr / bc1)) * (m / denom);                  // addcdiv_(m, denom, -step_size)
  };
  std::mt19937_64 rng(3);
  std::normal_distribution<float> n;
  for (algo a : {algo::adam, algo::adamw})
    for (bool ams : {false, true})
      for (bool maxi : {false, true})
        for (double b1 : {0.9, 0.0}) {
          adam_config c = adam_config{}.with_algo(a).with_lr(3e-3).with_weight_decay(0.05).with_amsgrad(ams)
                              .with_maximize(maxi).with_betas(b1, 0.999);
          INFO(c.describe());
          std::int64_t differ = 0;
          for (int e = 0; e < 2000; ++e) {
            float p1 = n(rng), m1 = 0, v1 = 0, x1 = 0;
            float p2 = p1, m2 = 0, v2 = 0, x2 = 0;
            for (std::int64_t t = 1; t <= 20; ++t) {
              const float g = n(rng) * std::pow(10.0f, static_cast<float>(e % 9) - 6.0f);
              cm::adam_element(p1, g, m1, v1, x1, cm::make_scalars(a == algo::adamw, c.lr, c.beta1, c.beta2, c.eps,
                                                                    c.weight_decay, ams, maxi, t));
              torch_step(p2, g, m2, v2, x2, c, t);
            }
            differ += p1 != p2 || m1 != m2 || v1 != v2 || (ams && x1 != x2);
          }
          CHECK(differ == 0);
        }
}

TEST_CASE("cuda adam_math: non-finite gradients propagate like torch.optim", "[cuda_math]") {
  adam_config c = adam_config{}.with_amsgrad(true);
  auto sc = cm::make_scalars(false, c.lr, c.beta1, c.beta2, c.eps, c.weight_decay, true, false, 1);
  float p = 1.f, m = 0.f, v = 0.f, vm = 0.f;
  cm::adam_element(p, std::numeric_limits<float>::quiet_NaN(), m, v, vm, sc);
  CHECK(std::isnan(p));
  CHECK(std::isnan(m));
  CHECK(std::isnan(vm));  // NaN-propagating max, as torch.maximum
  // +inf gradient: m = inf after one lerp (low branch: 0 + w1*(inf - 0)), then inf - inf = NaN.
  float p2 = 1.f, m2 = 0.f, v2 = 0.f, vm2 = 0.f;
  cm::adam_element(p2, std::numeric_limits<float>::infinity(), m2, v2, vm2, sc);
  CHECK(std::isinf(m2));
  auto sc2 = cm::make_scalars(false, c.lr, c.beta1, c.beta2, c.eps, c.weight_decay, true, false, 2);
  cm::adam_element(p2, 1.f, m2, v2, vm2, sc2);
  CHECK(std::isnan(m2));  // lerp: inf + w1*(1 - inf) = inf - inf
}

TEST_CASE("cuda adam_math: 16-bit parameters with float32 master weights", "[cuda_math]") {
  std::mt19937_64 rng(11);
  std::normal_distribution<float> n;
  const auto sc = cm::make_scalars(true, 1e-2, 0.9, 0.999, 1e-8, 0.01, false, false, 5);
  for (int i = 0; i < 10000; ++i) {
    const float w0 = n(rng), g0 = n(rng), m0 = 0.1f * n(rng), v0 = std::fabs(n(rng));
    cm::bf16 pb, gb;
    cm::store(pb, w0);
    cm::store(gb, g0);
    float master = w0, m = m0, v = v0, vm = 0;
    cm::adam_element_master(pb, master, gb, m, v, vm, sc);
    // The same update on float32 with the gradient as loaded, then one rounding.
    float w = w0, mf = m0, vf = v0, vmf = 0;
    cm::adam_element(w, cm::load(gb), mf, vf, vmf, sc);
    REQUIRE(master == w);
    REQUIRE(m == mf);
    REQUIRE(v == vf);
    REQUIRE(pb.bits == lowp::to_bf16_bits(w));
    cm::f16 ph, gh;
    cm::store(ph, w0);
    cm::store(gh, g0);
    float master2 = w0, m2 = m0, v2 = v0, vm2 = 0;
    cm::adam_element_master(ph, master2, gh, m2, v2, vm2, sc);
    float w2 = w0, mf2 = m0, vf2 = v0, vmf2 = 0;
    cm::adam_element(w2, cm::load(gh), mf2, vf2, vmf2, sc);
    REQUIRE(master2 == w2);
    REQUIRE(ph.bits == lowp::to_f16_bits(w2));
  }
}

TEST_CASE("bfloat16 rounding: known values, ties to even, non-finite", "[cuda_math][lowp]") {
  using lowp::to_bf16_bits;
  CHECK(to_bf16_bits(1.0) == 0x3f80);
  CHECK(to_bf16_bits(-2.0) == 0xc000);
  CHECK(to_bf16_bits(0.0) == 0x0000);
  CHECK(to_bf16_bits(-0.0) == 0x8000);
  CHECK(to_bf16_bits(1.0 + 0x1p-8) == 0x3f80);         // tie: to the even 1.0
  CHECK(to_bf16_bits(1.0 + 3 * 0x1p-8) == 0x3f82);     // tie: to the even 1 + 2^-6
  CHECK(to_bf16_bits(1.0 + 0x1p-8 + 0x1p-30) == 0x3f81);  // above the tie: one rounding, not two via float
  CHECK(to_bf16_bits(3.140625) == 0x4049);
  CHECK(to_bf16_bits(INFINITY) == 0x7f80);
  CHECK(to_bf16_bits(-INFINITY) == 0xff80);
  CHECK(to_bf16_bits(std::numeric_limits<float>::max()) == 0x7f80);  // rounds past the largest bfloat16
  CHECK(to_bf16_bits(0x1.fep127) == 0x7f7f);                          // the largest bfloat16
  CHECK(to_bf16_bits(0x1p-133) == 0x0001);                            // the smallest subnormal
  CHECK(to_bf16_bits(0x1p-134) == 0x0000);                            // half of it: tie to even 0
  CHECK(to_bf16_bits(0x1.8p-133) == 0x0002);                          // 1.5 quanta: tie to even 2
  CHECK(to_bf16_bits(0x1p-149) == 0x0000);
  const std::uint16_t nan = to_bf16_bits(std::nan(""));
  CHECK((nan & 0x7f80) == 0x7f80);
  CHECK((nan & 0x007f) != 0);
  CHECK(std::isnan(lowp::bf16_bits_to_float(nan)));

  // Every finite bfloat16 value round-trips; every midpoint between neighbours goes to the even one.
  for (std::uint32_t b = 0; b < 0x7f80; ++b) {
    for (std::uint32_t s : {0u, 0x8000u}) {
      const auto bits = static_cast<std::uint16_t>(b | s);
      const float x = lowp::bf16_bits_to_float(bits);
      REQUIRE(to_bf16_bits(x) == bits);
      REQUIRE(round_to(dtype::bfloat16, x) == static_cast<double>(x));
      if (b + 1 < 0x7f80) {
        const double next = lowp::bf16_bits_to_float(static_cast<std::uint16_t>((b + 1) | s));
        const double mid = (static_cast<double>(x) + next) / 2;
        const std::uint16_t even = (b & 1) ? static_cast<std::uint16_t>((b + 1) | s) : bits;
        REQUIRE(to_bf16_bits(mid) == even);
      }
    }
  }
  // Random finite floats: the same as the bit trick (which is exact for non-NaN float32 input).
  std::mt19937 rng(5);
  for (int i = 0; i < 1000000; ++i) {
    const float x = std::bit_cast<float>(static_cast<std::uint32_t>(rng()));
    if (std::isnan(x)) continue;
    REQUIRE(to_bf16_bits(x) == bf16_bit_trick(x));
  }
}

TEST_CASE("float16 rounding: known values, ties to even, subnormals, overflow", "[cuda_math][lowp]") {
  using lowp::to_f16_bits;
  CHECK(to_f16_bits(1.0) == 0x3c00);
  CHECK(to_f16_bits(-1.5) == 0xbe00);
  CHECK(to_f16_bits(65504.0) == 0x7bff);
  CHECK(to_f16_bits(65519.0) == 0x7bff);
  CHECK(to_f16_bits(65520.0) == 0x7c00);  // the tie above the largest half: to even, i.e. infinity
  CHECK(to_f16_bits(1e6) == 0x7c00);
  CHECK(to_f16_bits(-INFINITY) == 0xfc00);
  CHECK(to_f16_bits(1.0 + 0x1p-11) == 0x3c00);
  CHECK(to_f16_bits(1.0 + 3 * 0x1p-11) == 0x3c02);
  CHECK(to_f16_bits(0x1p-14) == 0x0400);   // smallest normal
  CHECK(to_f16_bits(0x1p-24) == 0x0001);   // smallest subnormal
  CHECK(to_f16_bits(0x1p-25) == 0x0000);   // tie: to even 0
  CHECK(to_f16_bits(0x1.8p-24) == 0x0002); // tie: to even 2
  CHECK(to_f16_bits(0x1.000002p-25) == 0x0001);
  const std::uint16_t nan = to_f16_bits(std::nan(""));
  CHECK((nan & 0x7c00) == 0x7c00);
  CHECK((nan & 0x03ff) != 0);
  CHECK(std::isnan(lowp::f16_bits_to_float(nan)));
  for (std::uint32_t b = 0; b < 0x7c00; ++b) {
    for (std::uint32_t s : {0u, 0x8000u}) {
      const auto bits = static_cast<std::uint16_t>(b | s);
      const float x = lowp::f16_bits_to_float(bits);
      REQUIRE(to_f16_bits(x) == bits);
      if (b + 1 < 0x7c00) {
        const double next = lowp::f16_bits_to_float(static_cast<std::uint16_t>((b + 1) | s));
        const double mid = (static_cast<double>(x) + next) / 2;
        const std::uint16_t even = (b & 1) ? static_cast<std::uint16_t>((b + 1) | s) : bits;
        REQUIRE(to_f16_bits(mid) == even);
      }
    }
  }
#if defined(__FLT16_MAX__)
  // GCC's _Float16 conversion (libgcc's soft-float, correctly rounded) as an independent oracle.
  std::mt19937 rng(9);
  for (int i = 0; i < 300000; ++i) {
    const float x = std::bit_cast<float>(static_cast<std::uint32_t>(rng()));
    if (std::isnan(x)) continue;
    const _Float16 h = static_cast<_Float16>(x);
    REQUIRE(to_f16_bits(x) == std::bit_cast<std::uint16_t>(h));
    const double d = std::ldexp(static_cast<double>(rng()) / 4294967296.0 + 0.5, static_cast<int>(rng() % 50) - 30);
    REQUIRE(to_f16_bits(d) == std::bit_cast<std::uint16_t>(static_cast<_Float16>(d)));
  }
#endif
}

TEST_CASE("16-bit dtypes in the harness: names, sizes, storage", "[cuda_math][lowp]") {
  CHECK(parse_dtype("bfloat16") == dtype::bfloat16);
  CHECK(parse_dtype("bf16") == dtype::bfloat16);
  CHECK(parse_dtype("float16") == dtype::float16);
  CHECK(std::string(to_string(dtype::bfloat16)) == "bfloat16");
  CHECK(size_of(dtype::float16) == 2);
  host_tensor t(dtype::bfloat16, {3});
  t.set(0, 1.0 + 0x1p-8 + 0x1p-30);
  CHECK(t.get(0) == 1.0 + 0x1p-7);
  CHECK(ulp_distance(1.0, 1.0 + 0x1p-7, dtype::bfloat16) == 1);
  CHECK(ulp_distance(-0x1p-133, 0x1p-133, dtype::bfloat16) == 2);
  CHECK(tolerance_for(dtype::bfloat16).u == 0x1p-8);
  // The CPU implementations skip 16-bit cases with a reason rather than fail.
  case_features f;
  f.type = dtype::bfloat16;
  for (auto name : {"eigen", "libtorch", "libtorch-foreach", "libtorch-fused"}) {
    support s = default_registry().at(name).supports(adam_config{}, f);
    CHECK_FALSE(s.ok);
    CHECK(s.reason.find("only float32/float64") != std::string::npos);
  }
}

TEST_CASE("cuda-mt work list: every element once, aligned, balanced", "[cuda_math]") {
  using namespace adambench::cuda_impl;
  const std::vector<std::vector<std::int64_t>> lists{
      {}, {0}, {1}, {0, 0, 5, 0}, {1 << 20}, {7, 1023, 0, 1, 4096, 100000, 3},
      {50257 * 768, 1024 * 768, 768, 768, 768 * 2304, 2304}};
  for (const auto& sizes : lists)
    for (int blocks : {1, 3, 132, 1056}) {
      const work_plan w = plan_work(sizes, blocks, 1024);
      const auto base = arena_offsets(sizes);
      std::vector<std::int64_t> covered(sizes.size(), 0);
      std::int64_t total = 0;
      for (auto s : sizes) total += s;
      if (total == 0) {
        CHECK(w.blocks == 0);
        continue;
      }
      REQUIRE(w.blocks >= 1);
      REQUIRE(w.blocks <= blocks);
      REQUIRE(w.item_begin.size() == static_cast<std::size_t>(w.blocks) + 1);
      std::int64_t worst = 0, best = total;
      for (int b = 0; b < w.blocks; ++b) {
        std::int64_t mine = 0;
        for (auto i = w.item_begin[b]; i < w.item_begin[b + 1]; ++i) {
          const work_item& it = w.items[i];
          REQUIRE(it.len > 0);
          REQUIRE(it.offset % 64 == 0);  // vector-aligned start in every array
          REQUIRE(it.offset + it.len <= sizes[it.tensor]);
          REQUIRE(it.offset == covered[it.tensor]);  // in order, no gap, no overlap
          covered[it.tensor] += it.len;
          mine += it.len;
        }
        worst = std::max(worst, mine);
        best = std::min(best, mine);
      }
      for (std::size_t i = 0; i < sizes.size(); ++i) REQUIRE(covered[i] == sizes[i]);
      // Equal shares of the arena: blocks differ by at most one alignment unit plus tensor padding.
      if (sizes.size() == 1) CHECK(worst - best <= 64);
      CHECK(base.back() % 64 == 0);
    }
}
