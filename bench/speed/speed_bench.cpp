// The speed runner's fixture (speed/speed_bench.h): buffers, the timed loops and the counters.
// `--benchmark_enable_random_interleaving=true` shuffles repetitions across benchmarks; the fixture
// then re-binds buffers whenever the benchmark changes (untimed).
#include "speed/speed_bench.h"

#include "core/stats.h"
#include "speed/alloc_hook.h"
#include "shared/context.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>

namespace adambench {

/// ADAMBENCH_PLANTED_SLOWDOWN=IMPL:FRACTION (test-only, docs/speed.md): the fraction of its own step
/// time that IMPL's timed loop spins after each step; 0 for every other implementation or when unset.
double planted_slowdown(const std::string& impl) {
  const char* e = std::getenv("ADAMBENCH_PLANTED_SLOWDOWN");
  if (!e || !*e) return 0.0;
  const std::string s = e;
  const auto colon = s.rfind(':');
  char* end = nullptr;
  const double f = colon == std::string::npos ? 0.0 : std::strtod(s.c_str() + colon + 1, &end);
  if (colon == std::string::npos || end == s.c_str() + colon + 1 || *end || !(f > 0 && f <= 10))
    throw input_error(fmt::format("ADAMBENCH_PLANTED_SLOWDOWN='{}': expected IMPL:FRACTION with 0 < FRACTION <= 10", s));
  return s.compare(0, colon, impl) == 0 ? f : 0.0;
}

namespace {

/// Counter-name form of an implementation name: libtorch-fused -> libtorch_fused.
std::string counter_key(std::string s) {
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

// Deterministic, cheap values: parameters near 1, gradients in ±5e-3 (no zeros, no subnormals,
// Adam's state stays finite over any number of steps).
void fill(host_tensor& t, std::uint32_t salt, float base, float scale) {
  float* x = static_cast<float*>(t.data());
  const std::int64_t n = t.numel();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint32_t h = (static_cast<std::uint32_t>(i) ^ salt) * 2654435761u;
    x[i] = base + scale * (static_cast<float>((h >> 8) & 1023u) + 0.5f - 512.0f) / 1024.0f;
  }
}

}  // namespace

void make_step_buffers(const shape_list& sh, std::vector<host_tensor>& p, std::vector<host_tensor>& g, std::vector<tensor_view>& pv,
                       std::vector<tensor_view>& gv) {
  p.clear(), g.clear(), pv.clear(), gv.clear();
  p.reserve(sh.shapes.size());
  g.reserve(sh.shapes.size());
  for (std::size_t k = 0; k < sh.shapes.size(); ++k) {
    p.emplace_back(dtype::float32, sh.shapes[k]);
    g.emplace_back(dtype::float32, sh.shapes[k]);
    fill(p.back(), static_cast<std::uint32_t>(k * 2 + 1), 1.0f, 0.5f);
    fill(g.back(), static_cast<std::uint32_t>(k * 2 + 2), 0.0f, 1e-2f);
    pv.push_back(p.back().view());
    gv.push_back(g.back().view());
  }
}

speed_bench::speed_bench(const speed_grid& grid, std::vector<int> cpus)
    : shapes_(grid.shapes), specs_(grid.specs), cpus_(std::move(cpus)), rates_(specs_.size()), extra_bytes_(specs_.size(), -1) {}

speed_bench::~speed_bench() = default;

void speed_bench::run(benchmark::State& st, int i) {
  if (interrupted.load()) stop_interrupted();
  const bench_spec& b = specs_[i];
  try {
    prepare(i);
  } catch (const std::exception& e) {
    release();
    st.SkipWithError(e.what());
    return;
  }
  set_counters(st, i, timed_loop(st, b));
}

// The timed loops: the probe's rounds, the planted slowdown's (test-only), an implementation's steps.
double speed_bench::timed_loop(benchmark::State& st, const bench_spec& b) {
  using clock = std::chrono::steady_clock;
  using C = benchmark::Counter;
  const shape_list& sh = shapes_[b.shape];
  const double n = static_cast<double>(sh.numel);
  double secs = 0;
  if (probe_) {
    // The limit: every variant once per iteration, on the same buffers and threads, in rotating
    // order; the iteration's time is the fastest variant's (manual time), so the probe row is the
    // best of the variants round by round: an upper bound for Adam's access pattern.
    constexpr int nv = bandwidth_probe::variant_count;
    std::array<double, nv> each{};
    std::int64_t round = 0;
    for (auto _ : st) {
      if (interrupted.load(std::memory_order_relaxed)) stop_interrupted();  // a round can be long
      double best = 0;
      for (int j = 0; j < nv; ++j) {
        const int v = static_cast<int>((round + j) % nv);
        // One untimed pass first: the previous variant's streaming stores evict the buffers from
        // the cache, so a cache-resident case would otherwise time every variant cold while the
        // implementations step warm (Eigen measured 107-109% of such a limit on flat 2^20).
        probe_->step(static_cast<bandwidth_probe::variant>(v));
        const auto t0 = clock::now();
        probe_->step(static_cast<bandwidth_probe::variant>(v));
        const double dt = std::chrono::duration<double>(clock::now() - t0).count();
        each[v] += dt;
        best = j == 0 ? dt : std::min(best, dt);
      }
      ++round;
      st.SetIterationTime(best);
      secs += best;
    }
    for (int v = 0; v < nv; ++v)
      if (each[v] > 0)
        st.counters[fmt::format("probe_{}_params_per_second", bandwidth_probe::variant_name(static_cast<bandwidth_probe::variant>(v)))] =
            C(n * static_cast<double>(st.iterations()) / each[v]);
  } else if (const double slow = planted_slowdown(b.impl->name); slow > 0) {
    // Test-only (ADAMBENCH_PLANTED_SLOWDOWN): after each step, spin for `slow` times the step's
    // own time, a real wall-clock slowdown for measuring the speed gate's detection rate.
    const auto t0 = clock::now();
    for (auto _ : st) {
      const auto s0 = clock::now();
      opt_->step();
      const auto s1 = clock::now();
      const auto extra = std::chrono::duration_cast<clock::duration>((s1 - s0) * slow);
      while (clock::now() - s1 < extra) {
      }
      if (interrupted.load(std::memory_order_relaxed)) stop_interrupted();
    }
    secs = std::chrono::duration<double>(clock::now() - t0).count();
  } else {
    const auto t0 = clock::now();
    for (auto _ : st) {
      opt_->step();
      if (interrupted.load(std::memory_order_relaxed)) stop_interrupted();  // nothing is written yet
    }
    secs = std::chrono::duration<double>(clock::now() - t0).count();
  }
  return secs;
}

void speed_bench::set_counters(benchmark::State& st, int i, double secs) {
  using C = benchmark::Counter;
  const bench_spec& b = specs_[i];
  const shape_list& sh = shapes_[b.shape];
  const double n = static_cast<double>(sh.numel);
  const std::int64_t bpp = adam_bytes_per_param(b.cfg.amsgrad);
  st.counters["params_per_second"] = C(n, C::kIsIterationInvariantRate);
  st.counters["bytes_per_second"] = C(n * static_cast<double>(bpp), C::kIsIterationInvariantRate);
  // Plain sizes of the case (not rates), so a reader needs no model file to know what was stepped.
  st.counters["params"] = C(n);
  st.counters["tensors"] = C(static_cast<double>(sh.shapes.size()));
  const double rate = secs > 0 ? n * static_cast<double>(st.iterations()) / secs : 0.0;
  rates_[i].push_back(rate);
  // Against the probe and libtorch of the same case, measured earlier in this run (the median
  // of their timed runs so far; the summary's spread comes from this row's repetitions).
  if (b.impl && b.probe >= 0 && !rates_[b.probe].empty()) st.counters["probe_fraction"] = rate / stats::median(rates_[b.probe]);
  double best_peer = 0;
  for (int j : b.peers)
    if (!rates_[j].empty()) {
      const double pj = stats::median(rates_[j]);
      st.counters["speedup_vs_" + counter_key(specs_[j].impl->name)] = rate / pj;
      best_peer = std::max(best_peer, pj);
    }
  if (best_peer > 0 && !b.impl->traits.libtorch_peer()) st.counters["speedup_vs_best_libtorch"] = rate / best_peer;
  if (b.deepspeed >= 0 && !rates_[b.deepspeed].empty()) st.counters["speedup_vs_deepspeed"] = rate / stats::median(rates_[b.deepspeed]);
  if (extra_bytes_[i] >= 0) st.counters["extra_bytes_per_step"] = C(static_cast<double>(extra_bytes_[i]));
  st.SetLabel(fmt::format("{} params in {} tensors, {} B/param", sh.numel, sh.shapes.size(), bpp));
}

void speed_bench::stop_interrupted() {
  std::fflush(stdout);
  std::error_code ec;
  if (!tmp_.empty()) std::filesystem::remove(tmp_, ec);
  fmt::print(stderr, "\nspeed: interrupted; nothing written\n");
  std::fflush(stderr);
  std::_Exit(130);
}

void speed_bench::release() {
  opt_.reset();
  probe_.reset();
  bound_ = -1;
  p_.clear();
  g_.clear();
  pv_.clear();
  gv_.clear();
  shape_ = -1;
}

void speed_bench::prepare(int i) {
  if (bound_ == i) return;
  opt_.reset();
  probe_.reset();
  bound_ = -1;
  const bench_spec& b = specs_[i];
  if (shape_ != b.shape) {
    p_.clear();
    g_.clear();
    pv_.clear();
    gv_.clear();
    shape_ = -1;
    make_step_buffers(shapes_[b.shape], p_, g_, pv_, gv_);
    shape_ = b.shape;
  }
  if (!cpus_.empty()) pin_openmp_threads(b.threads, cpus_);
  // One untimed step materializes lazily created state (LibTorch) and touches every page.
  // Then one more step with the allocation hook armed: the peak of what that step allocates
  // beyond what already exists (bound buffers, the implementation's state, its caches).
  if (!b.impl) {
    probe_ = std::make_unique<bandwidth_probe>(pv_, gv_, b.cfg.amsgrad, b.threads);
    probe_->step();
    if (alloc_hook::available()) {
      alloc_hook::arm();
      probe_->step();
      extra_bytes_[i] = alloc_hook::disarm();
    }
  } else {
    opt_ = b.impl->make(b.cfg, impl_options{b.threads}, dtype::float32);
    opt_->bind(pv_, gv_);
    opt_->step();
    if (alloc_hook::available()) {
      alloc_hook::arm();
      opt_->step();
      extra_bytes_[i] = alloc_hook::disarm();
    }
  }
  bound_ = i;
}

}  // namespace adambench
