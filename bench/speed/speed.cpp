// Throughput runner on Google Benchmark (docs/speed.md): `run_speed` in named steps. The grid
// (speed/speed_grid.cpp) fixes the registration order, which is the interleaving: for each shape,
// thread count and amsgrad flag the probe first, then `libtorch`, then the other implementations,
// so implementations alternate shape by shape instead of one running everything first. The fixture
// (speed/speed_bench.cpp) times each benchmark, the summary (speed/speed_summary.cpp) computes
// the result rows, the reporters (speed/speed_report.cpp) print and write them.
#include "speed/speed.h"

#include "core/results.h"
#include "shared/context.h"
#include "speed/probe.h"
#include "speed/speed_bench.h"
#include "speed/speed_grid.h"
#include "speed/speed_report.h"
#include "speed/speed_summary.h"

#include <algorithm>
#include <benchmark/benchmark.h>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sched.h>
#include <unistd.h>

namespace adambench {
namespace {

namespace fs = std::filesystem;

/// Google Benchmark's reporter `Base`, keeping a copy of every run for the summary.
template <class Base>
class collecting : public Base {
 public:
  using Base::Base;
  void ReportRuns(const std::vector<typename Base::Run>& runs) override {
    Base::ReportRuns(runs);
    for (auto& r : runs) runs_.push_back(r);
  }
  const std::vector<typename Base::Run>& runs() const { return runs_; }

 private:
  std::vector<typename Base::Run> runs_;
};

double stat_min(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end()); }
double stat_max(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); }

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

// The arguments passed through to Google Benchmark, and the planted slowdown's variable.
void check_arguments(const speed_options& opt) {
  const auto& args = opt.benchmark_args;
  if (opt.out && has_flag(args, "benchmark_out"))
    throw input_error("speed: give --out DIR or --benchmark_out=FILE, not both");
  for (auto& a : args)
    if (a.rfind("--benchmark_", 0) != 0 && a.rfind("--v=", 0) != 0)
      throw input_error(fmt::format("speed: unknown argument '{}' (Google Benchmark flags look like --benchmark_NAME=VALUE)", a));

  planted_slowdown("");  // a malformed ADAMBENCH_PLANTED_SLOWDOWN is bad input before anything runs
  if (const char* e = std::getenv("ADAMBENCH_PLANTED_SLOWDOWN"); e && *e)
    fmt::print(stderr, "speed: ADAMBENCH_PLANTED_SLOWDOWN={}: a test-only slowdown is planted in this run\n", e);
}

// --pin: the CPUs this process may run on; empty without --pin.
std::vector<int> pin_cpus(bool pin) {
  std::vector<int> cpus;
  if (pin) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
      for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &set)) cpus.push_back(c);
    if (cpus.empty()) throw input_error("speed: --pin: cannot read this process's CPU set");
  }
  return cpus;
}

// With --out: the folder made, and the temporary file Google Benchmark writes its JSON to.
fs::path temp_json(const speed_options& opt) {
  if (!opt.out) return {};
  std::error_code ec;
  fs::create_directories(*opt.out, ec);
  if (ec) throw input_error(fmt::format("--out {}: {}", opt.out->string(), ec.message()));
  return *opt.out / fmt::format(".speed.json.tmp{}", ::getpid());
}

// Google Benchmark's flags: the suite's settings unless the command line gives them.
std::vector<std::string> benchmark_flags(const speed_suite& suite, const speed_options& opt, const fs::path& tmp) {
  const auto& args = opt.benchmark_args;
  std::vector<std::string> gb = {"adambench speed"};
  auto add_default = [&](const std::string& flag, const std::string& value) {
    if (!has_flag(args, flag)) gb.push_back(fmt::format("--{}={}", flag, value));
  };
  add_default("benchmark_min_time", fmt::format("{}", suite.min_time));
  add_default("benchmark_min_warmup_time", fmt::format("{}", suite.warmup_time));
  add_default("benchmark_repetitions", fmt::format("{}", suite.repetitions));
  add_default("benchmark_time_unit", "us");
  if (suite.repetitions > 1) add_default("benchmark_display_aggregates_only", "true");
  if (!tmp.empty()) {
    gb.push_back("--benchmark_out=" + tmp.string());
    gb.push_back("--benchmark_out_format=json");
  }
  for (auto& a : args) gb.push_back(a);
  return gb;
}

// The repetitions the summary speaks of: the suite's, or --benchmark_repetitions.
int repetitions_of(const speed_suite& suite, const std::vector<std::string>& args) {
  int repetitions = suite.repetitions;
  if (has_flag(args, "benchmark_repetitions")) {
    try {
      repetitions = std::stoi(flag_value(args, "benchmark_repetitions"));
    } catch (const std::exception&) {
      throw input_error(fmt::format("speed: bad --benchmark_repetitions '{}'", flag_value(args, "benchmark_repetitions")));
    }
  }
  return repetitions;
}

// Google Benchmark keeps pointers into `gb` (argv[0] names the run): it must outlive the run.
void initialize_benchmark(std::vector<std::string>& gb) {
  std::vector<char*> argv;
  for (auto& s : gb) argv.push_back(s.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(gb.size());
  benchmark::Initialize(&argc, argv.data());
  if (argc > 1) throw input_error(fmt::format("speed: unknown or malformed Google Benchmark flag '{}'", argv[1]));
}

// Harness context next to Google Benchmark's own (machine, build, versions, threads, SIMD, run id).
std::vector<std::pair<std::string, std::string>> harness_context(const speed_suite& suite, const speed_options& opt, const speed_grid& grid,
                                                                 const std::vector<int>& cpus) {
  std::vector<std::pair<std::string, std::string>> ctx;
  flatten(run_context(std::max(1, opt.threads)), "adambench", ctx);
  ctx.emplace_back("adambench.simd", simd_description());
  ctx.emplace_back("adambench.last_level_cache_bytes", std::to_string(last_level_cache_bytes()));
  ctx.emplace_back("adambench.suite", suite.source);
  ctx.emplace_back("adambench.thread_counts", fmt::format("{}", fmt::join(grid.threads, ",")));
  ctx.emplace_back("adambench.pinned", opt.pin ? fmt::format("OpenMP thread k on CPU {}", fmt::join(cpus, ",")) : "no");
  ctx.emplace_back("adambench.interleaving", has_flag(opt.benchmark_args, "benchmark_enable_random_interleaving")
                                                 ? "random (Google Benchmark) over shape-major order"
                                                 : "shape-major: probe, libtorch, others per shape");
  ctx.emplace_back("adambench.schema_version", std::to_string(result_schema_version));
  if (const char* e = std::getenv("ADAMBENCH_PLANTED_SLOWDOWN"); e && *e) ctx.emplace_back("adambench.planted_slowdown", e);
  // merge checks that shards 1..N of one run each arrive exactly once.
  if (opt.shard.second > 1) ctx.emplace_back("adambench.shard", fmt::format("{}/{}", opt.shard.first, opt.shard.second));
  return ctx;
}

void add_context(const speed_suite& suite, const speed_options& opt, const speed_grid& grid, const std::vector<int>& cpus) {
  for (auto& [k, v] : harness_context(suite, opt, grid, cpus)) benchmark::AddCustomContext(k, v);
}

// A --shard I/N slice without a shape list: Google Benchmark would time nothing, so the piece is
// the harness context with no rows, marked "adambench.empty_slice", for the merge to count.
int write_empty_slice(const speed_suite& suite, const speed_options& opt, const speed_grid& grid, const std::vector<int>& cpus) {
  if (opt.out) {
    nlohmann::ordered_json ctx = nlohmann::ordered_json::object();
    for (auto& [k, v] : harness_context(suite, opt, grid, cpus)) ctx[k] = v;
    ctx["adambench.empty_slice"] = "true";
    const nlohmann::ordered_json j{{"context", ctx}, {"benchmarks", nlohmann::ordered_json::array()}, {"adambench_rows", nlohmann::ordered_json::array()}};
    const fs::path path = *opt.out / "speed.json";
    write_file_atomic(path, j.dump(2) + "\n");
    fmt::print("wrote {}\n", path.string());
  }
  return empty_slice("speed", opt.shard);
}

void register_benchmarks(speed_bench& sb, const speed_grid& grid) {
  for (std::size_t i = 0; i < grid.specs.size(); ++i) {
    auto* b = benchmark::RegisterBenchmark(grid.specs[i].name.c_str(),
                                           [&sb, i](benchmark::State& st) { sb.run(st, static_cast<int>(i)); });
    // Wall-clock: OpenMP threads work while the main thread's CPU clock sees one of them. The probe
    // sets each iteration's time itself (the fastest variant of the round).
    if (grid.specs[i].impl) b->UseRealTime();
    else b->UseManualTime();
    b->ComputeStatistics("min", stat_min);
    b->ComputeStatistics("max", stat_max);
  }
  for (auto& s : grid.skipped) fmt::print(stderr, "speed: skipped {}\n", s);
}

/// Runs the registered benchmarks: Google Benchmark's console table unless another format is asked
/// for, its JSON to the temporary file with --out. Returns how many ran and every reported run.
std::pair<std::size_t, std::vector<benchmark::BenchmarkReporter::Run>> run_benchmarks(speed_bench& sb, const speed_options& opt,
                                                                                      const fs::path& tmp, bool console) {
  const auto& args = opt.benchmark_args;
  const bool color = ::isatty(1) && !(has_flag(args, "benchmark_color") && flag_value(args, "benchmark_color") != "true" &&
                                      flag_value(args, "benchmark_color") != "auto");
  collecting<benchmark::ConsoleReporter> display(color ? benchmark::ConsoleReporter::OO_ColorTabular : benchmark::ConsoleReporter::OO_Tabular);
  collecting<benchmark::JSONReporter> file_reporter;
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
  return {ran, opt.out ? file_reporter.runs() : display.runs()};
}

}  // namespace

int run_speed(const speed_suite& suite, const registry& reg, const speed_options& opt) {
  // Everything that can be wrong with the input fails here, before any benchmark runs.
  const speed_grid grid = build_speed_grid(suite, reg, opt);
  check_arguments(opt);
  std::vector<int> cpus = pin_cpus(opt.pin);
  if (grid.shapes.empty() && opt.shard.second > 1) return write_empty_slice(suite, opt, grid, cpus);
  // Only the bandwidth probe left: nothing of the implementations would be timed.
  if (std::none_of(grid.specs.begin(), grid.specs.end(), [](const bench_spec& b) { return b.impl != nullptr; })) {
    std::vector<std::string> why;
    for (auto& s : grid.skipped) why.push_back(s.substr(s.find(": ") + 2));
    return nothing_checked("speed", why, opt.allow_empty);
  }
  const auto& args = opt.benchmark_args;
  const fs::path tmp = temp_json(opt);
  std::vector<std::string> gb = benchmark_flags(suite, opt, tmp);
  const int repetitions = repetitions_of(suite, args);
  initialize_benchmark(gb);
  add_context(suite, opt, grid, cpus);

  speed_bench sb(grid, std::move(cpus));
  sb.set_temp_file(tmp);
  register_benchmarks(sb, grid);
  const bool console = !has_flag(args, "benchmark_format") || flag_value(args, "benchmark_format") == "console";
  const auto [ran, runs] = run_benchmarks(sb, opt, tmp, console);

  if (interrupted.load()) sb.stop_interrupted();  // during the last benchmark
  const bool listing = has_flag(args, "benchmark_list_tests");
  if (ran == 0 && !listing) {
    // Google Benchmark has said so on stderr, in one line naming the filter.
    std::error_code ec;
    if (!tmp.empty()) fs::remove(tmp, ec);
    return 2;
  }
  const speed_summary sum = summarise(grid, sb.extra_bytes(), runs);
  std::string summary;
  if (console && !listing) {
    summary = speed_summary_table(grid, sum, repetitions);
    fmt::print("{}", summary);
  }
  if (opt.out) {
    // Google Benchmark wrote its JSON to tmp; the summary's fields are added and the whole file
    // written in place of speed.json at once.
    const fs::path final_json = *opt.out / "speed.json";
    write_speed_json(tmp, final_json, grid, sum, listing);
    if (!summary.empty()) write_file_atomic(*opt.out / "speed.txt", summary);
    fmt::print("wrote {}\n", final_json.string());
  }
  return 0;
}

}  // namespace adambench
