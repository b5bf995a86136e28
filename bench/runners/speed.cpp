// Throughput runner on Google Benchmark (docs/speed.md).
//
// Registration order is the interleaving: for each shape (outer), thread count and amsgrad flag,
// the probe comes first, then `libtorch`, then the other implementations, one benchmark each, so
// implementations alternate shape by shape instead of one implementation running everything
// first. `--benchmark_enable_random_interleaving=true` additionally shuffles repetitions across
// benchmarks; the runner then re-binds buffers whenever the benchmark changes (untimed).
#include "runners/speed.h"

#include "core/results.h"
#include "core/stats.h"
#include "runners/alloc_hook.h"
#include "runners/context.h"
#include "runners/probe.h"

#include <algorithm>
#include <array>
#include <benchmark/benchmark.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <map>
#include <regex>
#include <sched.h>
#include <sstream>
#include <unistd.h>

namespace adambench {

extern const std::pair<std::string_view, std::string_view> embedded_models[];
extern const int embedded_model_count;

// ---------------------------------------------------------------------------------------------
// Shapes

shape_list parse_model_file(const std::string& text, const std::string& name, const std::string& source) {
  shape_list out;
  out.name = name;
  out.source = source;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  std::int64_t want_params = -1, want_tensors = -1;
  auto num = [&](const std::string& tok, const char* what) {
    std::size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(tok, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != tok.size() || v < 0)
      throw input_error(fmt::format("{}:{}: {} '{}' is not a non-negative integer", source, lineno, what, tok));
    return static_cast<std::int64_t>(v);
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (auto h = line.find('#'); h != std::string::npos) line.resize(h);
    std::istringstream ls(line);
    std::vector<std::string> tok;
    for (std::string t; ls >> t;) tok.push_back(t);
    if (tok.empty()) continue;
    if (tok[0] == "@params" || tok[0] == "@tensors") {
      if (tok.size() != 2) throw input_error(fmt::format("{}:{}: expected '{} N'", source, lineno, tok[0]));
      (tok[0] == "@params" ? want_params : want_tensors) = num(tok[1], "count");
      continue;
    }
    if (tok[0][0] == '@') throw input_error(fmt::format("{}:{}: unknown directive {}", source, lineno, tok[0]));
    std::int64_t repeat = 1;
    if (tok.back()[0] == '*') {
      repeat = num(tok.back().substr(1), "repeat count");
      if (repeat < 1) throw input_error(fmt::format("{}:{}: repeat count must be >= 1", source, lineno));
      tok.pop_back();
    }
    shape_t s;
    for (std::size_t i = 1; i < tok.size(); ++i) s.push_back(num(tok[i], "dimension"));
    const std::int64_t n = numel_of(s);
    if (n > (std::int64_t{1} << 34)) throw input_error(fmt::format("{}:{}: tensor of {} elements is too large", source, lineno, n));
    for (std::int64_t r = 0; r < repeat; ++r) {
      out.shapes.push_back(s);
      out.numel += n;
    }
    if (out.shapes.size() > 10'000'000) throw input_error(fmt::format("{}:{}: more than 10,000,000 tensors", source, lineno));
  }
  if (out.shapes.empty()) throw input_error(fmt::format("{}: no tensors", source));
  if (want_params >= 0 && want_params != out.numel)
    throw input_error(fmt::format("{}: @params says {} but the tensors hold {}", source, want_params, out.numel));
  if (want_tensors >= 0 && want_tensors != static_cast<std::int64_t>(out.shapes.size()))
    throw input_error(fmt::format("{}: @tensors says {} but the file lists {}", source, want_tensors, out.shapes.size()));
  return out;
}

std::vector<std::string> shipped_models() {
  std::vector<std::string> out;
  for (int i = 0; i < embedded_model_count; ++i) out.emplace_back(embedded_models[i].first);
  return out;
}

shape_list load_model(const std::string& m, const std::filesystem::path& suite_dir) {
  namespace fs = std::filesystem;
  const bool bare = m.find('/') == std::string::npos && fs::path(m).extension().empty();
  if (bare) {
    for (int i = 0; i < embedded_model_count; ++i)
      if (embedded_models[i].first == m) return parse_model_file(std::string(embedded_models[i].second), m, "embedded:" + m);
    std::string known;
    for (auto& n : shipped_models()) known += (known.empty() ? "" : ", ") + n;
    throw input_error(fmt::format("unknown model '{}': shipped models are {} (or give a model file path)", m, known));
  }
  fs::path p = m;
  if (!fs::exists(p) && p.is_relative() && !suite_dir.empty() && fs::exists(suite_dir / p)) p = suite_dir / p;
  std::ifstream f(p);
  if (!fs::is_regular_file(p) || !f) throw input_error(fmt::format("{}: no such model file", m));
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_model_file(ss.str(), p.stem().string(), p.string());
}

shape_list flat_shape(int k) {
  shape_list s;
  const char* unit = k >= 30 ? "G" : k >= 20 ? "M" : k >= 10 ? "K" : "";
  const int shift = k >= 30 ? 30 : k >= 20 ? 20 : k >= 10 ? 10 : 0;
  s.name = fmt::format("flat_{}{}", std::int64_t{1} << (k - shift), unit);
  s.source = "flat";
  s.numel = std::int64_t{1} << k;
  s.shapes = {{s.numel}};
  return s;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Benchmarks

struct bench_spec {
  std::string name;             ///< Google Benchmark's name (before its "/real_time" suffix)
  int shape = 0;
  const impl_entry* impl = nullptr;  ///< null: the probe
  adam_config cfg;
  int threads = 1;
  int probe = -1;               ///< index of the probe benchmark of the same shape/threads/amsgrad
  int libtorch = -1;            ///< index of the `libtorch` benchmark of the same case
  std::vector<int> peers;       ///< the LibTorch CPU peers of the same case (registered before this)
  std::string impl_name() const { return impl ? impl->name : "probe"; }
};

/// A row above this fraction of the limit is a measurement problem, not a result (docs/speed.md).
constexpr double limit_tolerance = 1.03;

/// The LibTorch CPU peers every other implementation is compared with ("vs best LibTorch").
bool is_libtorch_peer(const std::string& name) {
  return name.rfind("libtorch", 0) == 0 && (name.size() < 5 || name.compare(name.size() - 5, 5, "-cuda") != 0);
}

/// Counter-name form of an implementation name: libtorch-fused -> libtorch_fused.
std::string counter_key(std::string s) {
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

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

double min_of(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end()); }
double max_of(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); }

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

/// The buffers of the benchmark being measured: gradients and parameters are shared by every
/// implementation of a shape; the optimizer (with its state) lives while its benchmark runs.
class speed_bench {
 public:
  speed_bench(std::vector<shape_list> shapes, std::vector<bench_spec> specs, std::vector<int> cpus)
      : shapes_(std::move(shapes)), specs_(std::move(specs)), cpus_(std::move(cpus)), rates_(specs_.size()),
        extra_bytes_(specs_.size(), -1) {}

  /// Peak bytes allocated during one step beyond the bound buffers and state (-1: not measured).
  std::int64_t extra_bytes(int i) const { return extra_bytes_[i]; }

  const std::vector<bench_spec>& specs() const { return specs_; }
  const std::vector<shape_list>& shapes() const { return shapes_; }

  void run(benchmark::State& st, int i) {
    if (interrupted.load()) stop_interrupted();
    const bench_spec& b = specs_[i];
    try {
      prepare(i);
    } catch (const std::exception& e) {
      release();
      st.SkipWithError(e.what());
      return;
    }
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
    if (best_peer > 0 && !is_libtorch_peer(b.impl->name)) st.counters["speedup_vs_best_libtorch"] = rate / best_peer;
    if (extra_bytes_[i] >= 0) st.counters["extra_bytes_per_step"] = C(static_cast<double>(extra_bytes_[i]));
    st.SetLabel(fmt::format("{} params in {} tensors, {} B/param", sh.numel, sh.shapes.size(), bpp));
  }

  /// The temporary JSON file to remove when interrupted.
  void set_temp_file(std::filesystem::path p) { tmp_ = std::move(p); }

  /// Google Benchmark cannot be stopped midway (skipping the remaining repetitions trips its
  /// statistics' checks), so the runner stops the process between two repetitions: removes the
  /// temporary JSON, says so and exits 130. Only memory is left, which the exit frees.
  [[noreturn]] void stop_interrupted() {
    std::fflush(stdout);
    std::error_code ec;
    if (!tmp_.empty()) std::filesystem::remove(tmp_, ec);
    fmt::print(stderr, "\nspeed: interrupted; nothing written\n");
    std::fflush(stderr);
    std::_Exit(130);
  }

  /// Frees everything (after the run, or when a benchmark failed to set up).
  void release() {
    opt_.reset();
    probe_.reset();
    bound_ = -1;
    p_.clear();
    g_.clear();
    pv_.clear();
    gv_.clear();
    shape_ = -1;
  }

 private:
  void prepare(int i) {
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
      const shape_list& sh = shapes_[b.shape];
      p_.reserve(sh.shapes.size());
      g_.reserve(sh.shapes.size());
      for (std::size_t k = 0; k < sh.shapes.size(); ++k) {
        p_.emplace_back(dtype::float32, sh.shapes[k]);
        g_.emplace_back(dtype::float32, sh.shapes[k]);
        fill(p_.back(), static_cast<std::uint32_t>(k * 2 + 1), 1.0f, 0.5f);
        fill(g_.back(), static_cast<std::uint32_t>(k * 2 + 2), 0.0f, 1e-2f);
        pv_.push_back(p_.back().view());
        gv_.push_back(g_.back().view());
      }
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

  std::vector<shape_list> shapes_;
  std::vector<bench_spec> specs_;
  std::vector<int> cpus_;
  std::vector<std::vector<double>> rates_;  // params/s of every timed run, per benchmark
  std::vector<std::int64_t> extra_bytes_;   // per benchmark, from its armed step
  std::filesystem::path tmp_;
  int shape_ = -1, bound_ = -1;
  std::vector<host_tensor> p_, g_;
  std::vector<tensor_view> pv_, gv_;
  std::unique_ptr<optimizer> opt_;
  std::unique_ptr<bandwidth_probe> probe_;
};

// ---------------------------------------------------------------------------------------------
// Reporting

/// Google Benchmark's console table, plus a copy of every run for the summary.
class collecting_reporter : public benchmark::ConsoleReporter {
 public:
  using benchmark::ConsoleReporter::ConsoleReporter;
  void ReportRuns(const std::vector<Run>& runs) override {
    benchmark::ConsoleReporter::ReportRuns(runs);
    for (auto& r : runs) runs_.push_back(r);
  }
  const std::vector<Run>& runs() const { return runs_; }

 private:
  std::vector<Run> runs_;
};

double stat_min(const std::vector<double>& v) { return min_of(v); }
double stat_max(const std::vector<double>& v) { return max_of(v); }

/// One figure with its spread over repetitions.
struct figure {
  double median = std::nan(""), stddev = std::nan(""), lo = std::nan(""), hi = std::nan("");
  bool has() const { return !std::isnan(median); }
};

std::string fmt_time(double us) {
  if (std::isnan(us)) return "-";
  if (us >= 1e6) return fmt::format("{:.3g} s", us / 1e6);
  if (us >= 1e3) return fmt::format("{:.3g} ms", us / 1e3);
  return fmt::format("{:.3g} us", us);
}

/// One row of the summary: an implementation (or the probe) on one case, from the reported runs.
struct row_summary {
  int spec = -1;
  std::string error;                  ///< Google Benchmark's error message, when it failed
  figure time_us, rate, bytes_rate;   ///< time per step; params/s; bytes/s
  figure limit_fraction;              ///< params/s over the probe's (the limit's) median
  bool over_limit = false;            ///< median above limit_tolerance of the limit
  std::string best_peer;              ///< the fastest LibTorch CPU peer of the case
  figure vs_best;                     ///< params/s over best_peer's median
  std::vector<std::pair<std::string, figure>> vs_peers;  ///< over each peer's median
  std::int64_t extra_bytes = -1;      ///< peak bytes allocated by one step (-1: not measured)
  bool present() const { return time_us.has() || !error.empty(); }
};

std::vector<row_summary> summarise(const speed_bench& sb, const std::vector<benchmark::BenchmarkReporter::Run>& runs) {
  // function_name -> aggregate name ("" for a single repetition) -> run
  std::map<std::string, std::map<std::string, const benchmark::BenchmarkReporter::Run*>> by;
  std::map<std::string, std::string> errors;
  for (auto& r : runs) {
    if (r.error_occurred) {
      errors[r.run_name.function_name] = r.error_message;
      continue;
    }
    if (r.run_type == benchmark::BenchmarkReporter::Run::RT_Aggregate) by[r.run_name.function_name][r.aggregate_name] = &r;
    else by[r.run_name.function_name][""] = &r;  // the last repetition; superseded by aggregates
  }
  auto to_us = [](const benchmark::BenchmarkReporter::Run& r) {
    return r.GetAdjustedRealTime() * 1e6 / benchmark::GetTimeUnitMultiplier(r.time_unit);
  };
  auto get = [&](const std::string& name, auto&& value) {
    figure f;
    auto it = by.find(name);
    if (it == by.end()) return f;
    auto& m = it->second;
    auto pick = [&](const char* agg) -> double {
      auto j = m.find(agg);
      if (j == m.end()) return std::nan("");
      return value(*j->second);
    };
    if (m.count("median")) {
      f.median = pick("median");
      f.stddev = pick("stddev");
      f.lo = pick("min");
      f.hi = pick("max");
    } else if (m.count("")) {
      f.median = f.lo = f.hi = value(*m.at(""));
    }
    return f;
  };
  auto counter = [](const char* c) {
    return [c](const benchmark::BenchmarkReporter::Run& r) {
      auto it = r.counters.find(c);
      return it == r.counters.end() ? std::nan("") : it->second.value;
    };
  };
  const auto& specs = sb.specs();
  std::vector<row_summary> rows(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    rows[i].spec = static_cast<int>(i);
    rows[i].time_us = get(specs[i].name, to_us);
    rows[i].rate = get(specs[i].name, counter("params_per_second"));
    rows[i].bytes_rate = get(specs[i].name, counter("bytes_per_second"));
    rows[i].extra_bytes = sb.extra_bytes(static_cast<int>(i));
    if (auto e = errors.find(specs[i].name); e != errors.end()) rows[i].error = e->second;
  }
  // Ratios: the median of this row's repetitions over the median of the other's; the spread is
  // this row's min..max over the same median.
  auto against = [&](const row_summary& r, int other) {
    figure f;
    if (other < 0 || !r.rate.has()) return f;
    const figure& o = rows[other].rate;
    if (!o.has() || o.median <= 0) return f;
    f.median = r.rate.median / o.median;
    f.lo = r.rate.lo / o.median;
    f.hi = r.rate.hi / o.median;
    return f;
  };
  for (auto& r : rows) {
    const bench_spec& b = specs[r.spec];
    if (!b.impl) continue;
    r.limit_fraction = against(r, b.probe);
    r.over_limit = r.limit_fraction.has() && r.limit_fraction.median > limit_tolerance;
    int best = -1;
    for (int j : b.peers) {
      const figure f = against(r, j);
      if (!f.has()) continue;
      r.vs_peers.emplace_back(specs[j].impl->name, f);
      if (best < 0 || rows[j].rate.median > rows[best].rate.median) best = j;
    }
    if (best >= 0 && !is_libtorch_peer(b.impl->name)) {
      r.best_peer = specs[best].impl->name;
      r.vs_best = against(r, best);
    }
  }
  return rows;
}

std::string fmt_bytes(std::int64_t b) {
  if (b < 0) return "-";
  if (b == 0) return "0";
  if (b >= (1 << 20)) return fmt::format("{:.3g} MiB", static_cast<double>(b) / (1 << 20));
  if (b >= (1 << 10)) return fmt::format("{:.3g} KiB", static_cast<double>(b) / (1 << 10));
  return fmt::format("{} B", b);
}

std::string summary_table(const speed_bench& sb, const std::vector<row_summary>& rows, int repetitions) {
  std::string out;
  out += fmt::format(
      "\nSummary: median over {} repetition{} (time: ± stddev; ratios: this row's min..max over the other's median).\n"
      "limit = the probe: Adam's access pattern (reads p, g, m, v; writes p, m, v) without arithmetic, same buffers and\n"
      "threads, the fastest of its variants in each round. vs best LibTorch: over the fastest LibTorch CPU peer of the case.\n"
      "extra/step: peak bytes one step allocates beyond the bound buffers and the optimizer's state (allocation hook).\n",
      repetitions, repetitions == 1 ? "" : "s");
  out += fmt::format("{:<18} {:<16} {:>3} {:<12} {:>24} {:>9} {:>8} {:>20} {:>34} {:>10}  {}\n", "implementation", "shape", "thr", "algo",
                     "time/step", "Gparam/s", "GB/s", "of limit", "vs best LibTorch", "extra/step", "vs each LibTorch");
  // A working set (p, g, m, v and max_v: 4 or 5 floats per parameter) inside the last-level cache
  // measures the cache, not memory: marked with '*'.
  const std::int64_t llc = last_level_cache_bytes();
  bool any_cached = false, any_over = false;
  int last_shape = -1;
  auto ratio = [](const figure& f, bool pct) {
    if (!f.has()) return std::string("-");
    if (pct) return fmt::format("{:.3g}% ({:.3g}..{:.3g})", 100 * f.median, 100 * f.lo, 100 * f.hi);
    return fmt::format("{:.3g}x ({:.3g}..{:.3g})", f.median, f.lo, f.hi);
  };
  for (auto& r : rows) {
    if (!r.present()) continue;  // filtered out
    const bench_spec& b = sb.specs()[r.spec];
    if (b.shape != last_shape && last_shape != -1) out += "\n";
    last_shape = b.shape;
    const figure& t = r.time_us;
    std::string algo_s = b.impl ? fmt::format("{}{}", to_string(b.cfg.kind), b.cfg.amsgrad ? "+ams" : "")
                                : (b.cfg.amsgrad ? "(36 B/param)" : "(28 B/param)");
    std::string ts = !t.has() ? "failed: " + r.error
                              : std::isnan(t.stddev) ? fmt_time(t.median)
                                                     : fmt::format("{} (±{:.1f}%)", fmt_time(t.median), 100.0 * t.stddev / t.median);
    const shape_list& sh = sb.shapes()[b.shape];
    const bool cached = llc > 0 && sh.numel * (b.cfg.amsgrad ? 20 : 16) <= llc;
    any_cached = any_cached || cached;
    std::string frac = b.impl ? ratio(r.limit_fraction, true) : "limit";
    std::string best = r.best_peer.empty() ? "" : fmt::format("{} over {}", ratio(r.vs_best, false), r.best_peer);
    std::string each;
    for (auto& [name, f] : r.vs_peers) each += fmt::format("{}{} {:.3g}x", each.empty() ? "" : ", ", name, f.median);
    if (r.over_limit) {
      // Faster than the limit is not a result: the probe's repetitions were slowed (noise) or the
      // probe is not the limit. The row is shown for what went wrong, without ratios.
      any_over = true;
      frac = fmt::format("!{:.0f}% OVER LIMIT", 100 * r.limit_fraction.median);
      best = "(measurement problem)";
      each.clear();
    }
    out += fmt::format("{:<18} {:<16} {:>3} {:<12} {:>24} {:>9} {:>8} {:>20} {:>34} {:>10}  {}\n", b.impl_name(),
                       sh.name + (cached ? "*" : ""), b.threads, algo_s, ts, r.rate.has() ? fmt::format("{:.3f}", r.rate.median / 1e9) : "-",
                       r.bytes_rate.has() ? fmt::format("{:.1f}", r.bytes_rate.median / 1e9) : "-", frac, best,
                       fmt_bytes(r.extra_bytes), each);
  }
  if (any_cached)
    out += fmt::format("\n* the working set fits in the last-level cache ({} MiB): a cache figure, not a memory one.\n", llc >> 20);
  if (any_over)
    out += fmt::format(
        "\n! above {:.0f}% of the limit: a MEASUREMENT PROBLEM, not a result (the probe's repetitions were slowed by\n"
        "  other load, or the limit is wrong). Rerun on a quieter machine; these rows carry no ratios.\n",
        100 * limit_tolerance);
  return out;
}

/// Adds the summary to Google Benchmark's JSON: on every entry of a row `over_limit` (and
/// `measurement_problem` when true), `limit_fraction`, `vs_best_libtorch` and `best_libtorch`; and
/// the whole summary as `adambench_rows`. Google Benchmark's tools ignore fields they do not know.
void annotate_json(nlohmann::ordered_json& j, const speed_bench& sb, const std::vector<row_summary>& rows) {
  std::map<std::string, const row_summary*> by_name;
  for (auto& r : rows) by_name[sb.specs()[r.spec].name] = &r;
  auto num = [](double x) { return std::isnan(x) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(x); };
  auto fig = [&](const figure& f) { return nlohmann::ordered_json{{"median", num(f.median)}, {"min", num(f.lo)}, {"max", num(f.hi)}}; };
  auto problem = [](const row_summary& r) {
    return fmt::format("{:.1f}% of the limit (above {:.0f}%): a measurement problem, not a result", 100 * r.limit_fraction.median,
                       100 * limit_tolerance);
  };
  if (j.contains("benchmarks") && j["benchmarks"].is_array())
    for (auto& e : j["benchmarks"]) {
      std::string rn = e.value("run_name", std::string());
      for (const char* suffix : {"/real_time", "/manual_time"}) {
        const std::string sfx = suffix;
        if (rn.size() > sfx.size() && rn.compare(rn.size() - sfx.size(), sfx.size(), sfx) == 0) rn.resize(rn.size() - sfx.size());
      }
      auto it = by_name.find(rn);
      if (it == by_name.end() || !sb.specs()[it->second->spec].impl) continue;
      const row_summary& r = *it->second;
      e["over_limit"] = r.over_limit;
      if (r.over_limit) e["measurement_problem"] = problem(r);
      if (r.limit_fraction.has()) e["limit_fraction"] = r.limit_fraction.median;
      if (!r.best_peer.empty() && !r.over_limit) {
        e["vs_best_libtorch"] = r.vs_best.median;
        e["best_libtorch"] = r.best_peer;
      }
    }
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (auto& r : rows) {
    if (!r.present()) continue;
    const bench_spec& b = sb.specs()[r.spec];
    const shape_list& sh = sb.shapes()[b.shape];
    nlohmann::ordered_json o{{"name", b.name},
                     {"impl", b.impl_name()},
                     {"algo", b.impl ? to_string(b.cfg.kind) : "probe"},
                     {"amsgrad", b.cfg.amsgrad},
                     {"shape", sh.name},
                     {"params", sh.numel},
                     {"tensors", sh.shapes.size()},
                     {"threads", b.threads},
                     {"time_us", fig(r.time_us)},
                     {"params_per_second", fig(r.rate)},
                     {"extra_bytes_per_step", r.extra_bytes >= 0 ? nlohmann::ordered_json(r.extra_bytes) : nlohmann::ordered_json(nullptr)}};
    if (!r.error.empty()) o["error"] = r.error;
    if (b.impl) {
      o["limit_fraction"] = fig(r.limit_fraction);
      o["over_limit"] = r.over_limit;
      o["measurement_problem"] = r.over_limit ? nlohmann::ordered_json(problem(r)) : nlohmann::ordered_json(nullptr);
      if (!r.over_limit) {
        o["best_libtorch"] = r.best_peer.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.best_peer);
        o["vs_best_libtorch"] = r.best_peer.empty() ? nlohmann::ordered_json(nullptr) : fig(r.vs_best);
        nlohmann::ordered_json each = nlohmann::ordered_json::object();
        for (auto& [name, f] : r.vs_peers) each[name] = fig(f);
        o["vs_libtorch"] = each;
      }
    }
    out.push_back(o);
  }
  j["adambench_rows"] = out;
}

/// Google Benchmark's JSON file reporter, keeping a copy of every run for the summary.
class collecting_json_reporter : public benchmark::JSONReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    benchmark::JSONReporter::ReportRuns(runs);
    for (auto& r : runs) runs_.push_back(r);
  }
  const std::vector<Run>& runs() const { return runs_; }

 private:
  std::vector<Run> runs_;
};

void flatten(const nlohmann::json& j, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  if (j.is_object()) {
    for (auto& [k, v] : j.items()) flatten(v, prefix + "." + k, out);
  } else {
    out.emplace_back(prefix, j.is_string() ? j.get<std::string>() : j.dump());
  }
}

bool has_flag(const std::vector<std::string>& args, const std::string& flag) {
  for (auto& a : args)
    if (a == "--" + flag || a.rfind("--" + flag + "=", 0) == 0) return true;
  return false;
}

std::string flag_value(const std::vector<std::string>& args, const std::string& flag) {
  std::string v;
  for (auto& a : args)
    if (a.rfind("--" + flag + "=", 0) == 0) v = a.substr(flag.size() + 3);
  return v;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

int run_speed(const speed_suite& suite, const registry& reg, const speed_options& opt) {
  namespace fs = std::filesystem;
  // Everything that can be wrong with the input fails here, before any benchmark runs.
  std::vector<std::string> impl_names = !opt.impls.empty() ? opt.impls : suite.impls;
  std::vector<const impl_entry*> impls;
  for (auto& n : impl_names)
    if (std::none_of(impls.begin(), impls.end(), [&](auto* e) { return e->name == n; })) impls.push_back(&reg.at(n));
  // The LibTorch CPU peers first (`libtorch` first among them), so each row's speedup over them is
  // known in-run.
  std::stable_partition(impls.begin(), impls.end(), [](auto* e) { return is_libtorch_peer(e->name); });
  std::stable_partition(impls.begin(), impls.end(), [](auto* e) { return e->name == "libtorch"; });

  fs::path suite_dir;
  if (suite.source.rfind("embedded:", 0) != 0) suite_dir = fs::path(suite.source).parent_path();
  std::vector<shape_list> shapes;
  for (int k : suite.flat_log2) shapes.push_back(flat_shape(k));
  for (auto& m : suite.models) {
    try {
      shapes.push_back(load_model(m, suite_dir));
    } catch (const input_error& e) {
      throw input_error(fmt::format("{}: speed.models: {}", suite.source, e.what()));
    }
  }
  // --shard I/N: every N-th shape list (each keeps its probe, so a shard stands alone).
  if (opt.shard.second > 1) {
    std::vector<shape_list> mine;
    for (std::size_t i = 0; i < shapes.size(); ++i)
      if (static_cast<int>(i % opt.shard.second) == opt.shard.first - 1) mine.push_back(std::move(shapes[i]));
    shapes = std::move(mine);
  }

  std::vector<int> threads;
  const int n_max = std::max(1, opt.threads);
  if (suite.threads == "all") threads = {n_max};
  else if (suite.threads == "sweep")
    for (int t = 1; t <= n_max; ++t) threads.push_back(t);
  else
    for (int t : suite.thread_list)
      if (t <= n_max && std::find(threads.begin(), threads.end(), t) == threads.end()) threads.push_back(t);
  if (threads.empty()) throw input_error(fmt::format("{}: speed.threads: every count exceeds --threads {}", suite.source, n_max));

  const auto& args = opt.benchmark_args;
  if (opt.out && has_flag(args, "benchmark_out"))
    throw input_error("speed: give --out DIR or --benchmark_out=FILE, not both");
  for (auto& a : args)
    if (a.rfind("--benchmark_", 0) != 0 && a.rfind("--v=", 0) != 0)
      throw input_error(fmt::format("speed: unknown argument '{}' (Google Benchmark flags look like --benchmark_NAME=VALUE)", a));

  planted_slowdown("");  // a malformed ADAMBENCH_PLANTED_SLOWDOWN is bad input before anything runs
  if (const char* e = std::getenv("ADAMBENCH_PLANTED_SLOWDOWN"); e && *e)
    fmt::print(stderr, "speed: ADAMBENCH_PLANTED_SLOWDOWN={}: a test-only slowdown is planted in this run\n", e);

  std::vector<int> cpus;
  if (opt.pin) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
      for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &set)) cpus.push_back(c);
    if (cpus.empty()) throw input_error("speed: --pin: cannot read this process's CPU set");
  }

  // The grid. Names: IMPL/ALGO[+ams]/SHAPE/threads:T (the probe: probe/28B|36B/SHAPE/threads:T).
  std::vector<bench_spec> specs;
  std::vector<std::string> skipped;
  for (std::size_t si = 0; si < shapes.size(); ++si)
    for (int t : threads)
      for (bool ams : suite.amsgrad) {
        bench_spec pb;
        pb.name = fmt::format("probe/{}B/{}/threads:{}", adam_bytes_per_param(ams), shapes[si].name, t);
        pb.shape = static_cast<int>(si);
        pb.cfg.amsgrad = ams;
        pb.threads = t;
        const int probe_index = static_cast<int>(specs.size());
        specs.push_back(pb);
        for (algo a : suite.algos) {
          int lt = -1;
          std::vector<int> peers;
          for (auto* e : impls) {
            bench_spec b;
            b.impl = e;
            b.cfg = adam_config{}.with_algo(a).with_amsgrad(ams).with_weight_decay(suite.weight_decay).validated();
            b.name = fmt::format("{}/{}{}/{}/threads:{}", e->name, to_string(a), ams ? "+ams" : "", shapes[si].name, t);
            b.shape = pb.shape;
            b.threads = t;
            b.probe = probe_index;
            b.libtorch = e->name == "libtorch" ? -1 : lt;
            b.peers = peers;
            case_features f;
            f.type = dtype::float32;
            support s = e->supports(b.cfg, f);
            if (!s.ok) {
              skipped.push_back(fmt::format("{}: {}", b.name, s.reason));
              continue;
            }
            if (e->name == "libtorch") lt = static_cast<int>(specs.size());
            if (is_libtorch_peer(e->name)) peers.push_back(static_cast<int>(specs.size()));
            specs.push_back(b);
          }
        }
      }

  // Only the bandwidth probe left: nothing of the implementations would be timed.
  if (std::none_of(specs.begin(), specs.end(), [](const bench_spec& b) { return b.impl != nullptr; })) {
    std::vector<std::string> why;
    for (auto& s : skipped) why.push_back(s.substr(s.find(": ") + 2));
    return nothing_checked("speed", why, opt.allow_empty);
  }

  // Google Benchmark's flags: the suite's settings unless the command line gives them.
  std::vector<std::string> gb = {"adambench speed"};
  auto add_default = [&](const std::string& flag, const std::string& value) {
    if (!has_flag(args, flag)) gb.push_back(fmt::format("--{}={}", flag, value));
  };
  add_default("benchmark_min_time", fmt::format("{}", suite.min_time));
  add_default("benchmark_min_warmup_time", fmt::format("{}", suite.warmup_time));
  add_default("benchmark_repetitions", fmt::format("{}", suite.repetitions));
  add_default("benchmark_time_unit", "us");
  if (suite.repetitions > 1) add_default("benchmark_display_aggregates_only", "true");
  fs::path tmp, final_json;
  if (opt.out) {
    final_json = *opt.out / "speed.json";
    std::error_code ec;
    fs::create_directories(*opt.out, ec);
    if (ec) throw input_error(fmt::format("--out {}: {}", opt.out->string(), ec.message()));
    tmp = *opt.out / fmt::format(".speed.json.tmp{}", ::getpid());
    gb.push_back("--benchmark_out=" + tmp.string());
    gb.push_back("--benchmark_out_format=json");
  }
  for (auto& a : args) gb.push_back(a);
  int repetitions = suite.repetitions;
  if (has_flag(args, "benchmark_repetitions")) {
    try {
      repetitions = std::stoi(flag_value(args, "benchmark_repetitions"));
    } catch (const std::exception&) {
      throw input_error(fmt::format("speed: bad --benchmark_repetitions '{}'", flag_value(args, "benchmark_repetitions")));
    }
  }
  std::vector<char*> argv;
  for (auto& s : gb) argv.push_back(s.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(gb.size());
  benchmark::Initialize(&argc, argv.data());
  if (argc > 1) throw input_error(fmt::format("speed: unknown or malformed Google Benchmark flag '{}'", argv[1]));

  // Harness context next to Google Benchmark's own (machine, build, versions, threads, SIMD).
  std::vector<std::pair<std::string, std::string>> ctx;
  flatten(run_context(n_max), "adambench", ctx);
  ctx.emplace_back("adambench.simd", simd_description());
  ctx.emplace_back("adambench.last_level_cache_bytes", std::to_string(last_level_cache_bytes()));
  ctx.emplace_back("adambench.suite", suite.source);
  ctx.emplace_back("adambench.thread_counts", fmt::format("{}", fmt::join(threads, ",")));
  ctx.emplace_back("adambench.pinned", opt.pin ? fmt::format("OpenMP thread k on CPU {}", fmt::join(cpus, ",")) : "no");
  ctx.emplace_back("adambench.interleaving", has_flag(args, "benchmark_enable_random_interleaving")
                                                 ? "random (Google Benchmark) over shape-major order"
                                                 : "shape-major: probe, libtorch, others per shape");
  ctx.emplace_back("adambench.schema_version", std::to_string(result_schema_version));
  if (const char* e = std::getenv("ADAMBENCH_PLANTED_SLOWDOWN"); e && *e) ctx.emplace_back("adambench.planted_slowdown", e);
  // merge checks that shards 1..N of one run each arrive exactly once.
  if (opt.shard.second > 1) ctx.emplace_back("adambench.shard", fmt::format("{}/{}", opt.shard.first, opt.shard.second));
  for (auto& [k, v] : ctx) benchmark::AddCustomContext(k, v);

  speed_bench sb(std::move(shapes), std::move(specs), std::move(cpus));
  sb.set_temp_file(tmp);
  for (std::size_t i = 0; i < sb.specs().size(); ++i) {
    auto* b = benchmark::RegisterBenchmark(sb.specs()[i].name.c_str(),
                                           [&sb, i](benchmark::State& st) { sb.run(st, static_cast<int>(i)); });
    // Wall-clock: OpenMP threads work while the main thread's CPU clock sees one of them. The probe
    // sets each iteration's time itself (the fastest variant of the round).
    if (sb.specs()[i].impl) b->UseRealTime();
    else b->UseManualTime();
    b->ComputeStatistics("min", stat_min);
    b->ComputeStatistics("max", stat_max);
  }
  for (auto& s : skipped) fmt::print(stderr, "speed: skipped {}\n", s);

  const bool console = !has_flag(args, "benchmark_format") || flag_value(args, "benchmark_format") == "console";
  const bool color = ::isatty(1) && !(has_flag(args, "benchmark_color") && flag_value(args, "benchmark_color") != "true" &&
                                      flag_value(args, "benchmark_color") != "auto");
  collecting_reporter display(color ? benchmark::ConsoleReporter::OO_ColorTabular : benchmark::ConsoleReporter::OO_Tabular);
  collecting_json_reporter file_reporter;
  std::size_t ran = 0;
  try {
    if (opt.out) ran = benchmark::RunSpecifiedBenchmarks(console ? &display : nullptr, &file_reporter);
    else ran = console ? benchmark::RunSpecifiedBenchmarks(&display) : benchmark::RunSpecifiedBenchmarks();
  } catch (...) {
    benchmark::ClearRegisteredBenchmarks();
    sb.release();
    if (!tmp.empty()) fs::remove(tmp);
    throw;
  }
  benchmark::ClearRegisteredBenchmarks();
  sb.release();
  std::fflush(stdout);

  if (interrupted.load()) sb.stop_interrupted();  // during the last benchmark
  if (ran == 0 && !has_flag(args, "benchmark_list_tests")) {
    // Google Benchmark has said so on stderr, in one line naming the filter.
    std::error_code ec;
    if (!tmp.empty()) fs::remove(tmp, ec);
    return 2;
  }
  const bool listing = has_flag(args, "benchmark_list_tests");
  const std::vector<row_summary> rows = summarise(sb, opt.out ? file_reporter.runs() : display.runs());
  std::string summary;
  if (console && !listing) {
    summary = summary_table(sb, rows, repetitions);
    fmt::print("{}", summary);
  }
  if (opt.out) {
    // Google Benchmark wrote its JSON to tmp; the summary's fields are added and the whole file
    // written in place of speed.json at once.
    std::error_code ec;
    try {
      std::ifstream in(tmp);
      std::stringstream text;
      text << in.rdbuf();
      // Google Benchmark writes NaN (the cv of a counter that is 0 in every repetition) as a bare
      // token, which JSON does not have: null instead.
      static const std::regex non_finite(R"(: (-?nan|-?NaN|-?inf|-?Infinity)([,\n]))");
      // ordered: Google Benchmark's field order stays as it wrote it
      nlohmann::ordered_json j = nlohmann::ordered_json::parse(std::regex_replace(text.str(), non_finite, ": null$2"));
      if (!listing) annotate_json(j, sb, rows);
      write_file_atomic(final_json, j.dump(2) + "\n");
    } catch (const nlohmann::ordered_json::exception& e) {
      fs::remove(tmp, ec);
      throw io_error(fmt::format("cannot read back Google Benchmark's output {}: {}", tmp.string(), e.what()));
    } catch (...) {
      fs::remove(tmp, ec);
      throw;
    }
    fs::remove(tmp, ec);
    if (!summary.empty()) write_file_atomic(*opt.out / "speed.txt", summary);
    fmt::print("wrote {}\n", final_json.string());
  }
  return 0;
}

}  // namespace adambench
