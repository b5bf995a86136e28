#include "cli/cli.h"

#include "cli/check_cli.h"
#include "cli/gate_cli.h"
#include "cli/history_cli.h"
#include "cli/sweep_cli.h"
#include "core/suite.h"
#include "runners/agree.h"
#include "runners/context.h"
#include "runners/converge.h"
#include "runners/replay.h"
#include "runners/speed.h"

#include "core/results.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <climits>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <regex>
#include <thread>
#include <torch/version.h>  // a macro header: no LibTorch compile cost
#include <unistd.h>

namespace adambench {
namespace {

// Integer options: "--threads must be ≥ 1" rather than CLI11's range with a 309-digit bound.
CLI::Validator int_at_least(long long lo) {
  return CLI::Validator(
      [lo](std::string& s) -> std::string {
        long long v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        const std::string shown = s.size() > 24 ? s.substr(0, 24) + "..." : s;
        if (ec == std::errc::result_out_of_range || (ec == std::errc() && end == s.data() + s.size() && v > INT_MAX))
          return fmt::format("must be ≤ {} (got {})", INT_MAX, shown);
        if (ec != std::errc() || end != s.data() + s.size()) return fmt::format("must be an integer (got '{}')", shown);
        if (v < lo) return fmt::format("must be ≥ {} (got {})", lo, v);
        return {};
      },
      "");  // the help shows INT; the bound is in the error
}

// `--filter REGEX` is ECMAScript, searched in case names; a bad pattern is bad input.
void check_regex(const std::string& re, const char* flag) {
  try {
    std::regex r(re);
  } catch (const std::regex_error& e) {
    throw input_error(fmt::format("{} '{}': not a regular expression ({})", flag, re, e.what()));
  }
}

// `--out` is tested before a run that may take hours: create it, write and remove a probe file.
// Failing is the environment's fault, not the input's: io_error, exit 4.
void check_out_dir(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw io_error(fmt::format("--out {}: cannot create the folder: {}", dir.string(), ec.message()));
  const fs::path probe = dir / fmt::format(".adambench-write-test.{}", ::getpid());
  {
    std::ofstream f(probe);
    if (!(f << "x") || !f.flush()) {
      fs::remove(probe, ec);
      throw io_error(fmt::format("--out {}: folder is not writable", dir.string()));
    }
  }
  fs::remove(probe, ec);
}

}  // namespace

int cli_main(int argc, char** argv, const registry& reg) {
  CLI::App app{"adambench: correctness, speed and convergence of Adam/AdamW implementations"};
  app.require_subcommand(1);
  app.set_version_flag("--version", fmt::format("adambench {} (commit {}, LibTorch {})", build_info().value("adambench_version", "?"),
                                                git_commit(), TORCH_VERSION));
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const char* threads_help = "CPU threads for OpenMP and LibTorch (default: all hardware threads)";
  app.add_option("--threads", threads, threads_help)->check(int_at_least(1));
  // Global options may also follow the subcommand (`agree --threads 2`): each runner declares them too.
  auto add_globals = [&](CLI::App* c) { c->add_option("--threads", threads, threads_help)->check(int_at_least(1)); };

  // agree
  auto* agree = app.add_subcommand("agree", "every implementation against the float64 reference");
  std::string suite_path = "default";
  std::vector<std::string> impls, dtypes;
  int seeds = 0;
  std::string out_dir;
  bool quiet = false;
  agree->add_option("suite", suite_path, "suite file (TOML) or the name of a shipped suite (default: default)");
  agree->add_option("--impl", impls, "implementations to run (repeatable; default: the suite's list)");
  agree->add_option("--dtype", dtypes, "float32, float64, bfloat16, float16 (default: the suite's list)");
  agree->add_option("--seeds", seeds, "run seeds 0..N-1 instead of the suite's")->check(int_at_least(1));
  agree->add_option("--out", out_dir, "folder for agree.json (checked as writable before the run)");
  agree->add_flag("--quiet", quiet, "no progress lines");
  std::string agree_shard, agree_filter;
  bool agree_allow_empty = false;
  agree->add_option("--shard", agree_shard, "run the I-th of N interleaved slices of the cases (join with `adambench merge`)");
  agree->add_option("--filter", agree_filter, "run only cases whose name matches this regular expression (searched)");
  agree->add_flag("--allow-empty", agree_allow_empty, "exit 0, not 3, when every selected case was skipped");
  add_globals(agree);

  // replay
  auto* replay = app.add_subcommand("replay", "run an implementation over recorded gradients (numpy.savez trace)");
  replay_options ro;
  std::string trace, algo_s = "adam", out_file, impl_name;
  std::int64_t steps = -1;
  replay->add_option("trace", trace, "TRACE.npz with p0, p1, ... and g0, g1, ... (gK: (T, *shape of pK))")->required();
  replay->add_option("--impl", impl_name, "implementation name")->required();
  replay->add_option("--algo", algo_s, "adam or adamw");
  replay->add_option("--lr", ro.config.lr, "learning rate");
  replay->add_option("--beta1", ro.config.beta1);
  replay->add_option("--beta2", ro.config.beta2);
  replay->add_option("--eps", ro.config.eps);
  replay->add_option("--weight-decay", ro.config.weight_decay);
  replay->add_flag("--amsgrad", ro.config.amsgrad);
  replay->add_flag("--maximize", ro.config.maximize);
  replay->add_option("--steps", steps, "replay the first T steps (default: all)");
  replay->add_option("--out", out_file, "RESULT.npz: final pK, mK, vK (and vmaxK)")->required();
  replay->add_flag("--compare", ro.compare, "also run the reference and print agreement metrics (exit 1 if they disagree)");
  add_globals(replay);

  // speed
  auto* speed = app.add_subcommand("speed", "step throughput against the machine's bandwidth (Google Benchmark)");
  speed->allow_extras();  // Google Benchmark's own --benchmark_* flags pass through
  speed->footer("Other arguments go to Google Benchmark, e.g. --benchmark_filter=REGEX --benchmark_repetitions=9\n"
                "--benchmark_min_time=SECONDS --benchmark_enable_random_interleaving=true. See docs/speed.md.");
  std::string sp_suite = "smoke", sp_out;
  std::vector<std::string> sp_impls;
  bool sp_pin = false, sp_quiet = false, sp_allow_empty = false;
  std::string sp_filter;
  speed->add_option("suite", sp_suite, "suite file (TOML) with a [speed] table, or a shipped suite's name (default: smoke)");
  speed->add_option("--impl", sp_impls, "implementations to time (repeatable; default: the suite's list)");
  speed->add_option("--out", sp_out, "folder for speed.json (Google Benchmark JSON) and speed.txt (summary; checked as writable first)");
  speed->add_option("--filter", sp_filter, "time only benchmarks whose name (IMPL/ALGO/SHAPE/threads:T) matches this regex (--benchmark_filter)");
  speed->add_flag("--quiet", sp_quiet, "no progress lines (speed prints none: its table is its result)");
  speed->add_flag("--allow-empty", sp_allow_empty, "exit 0, not 3, when every implementation's benchmark was skipped");
  add_globals(speed);
  speed->add_flag("--pin", sp_pin, "pin OpenMP thread k to CPU k (sched_setaffinity)");
  std::string sp_shard;
  speed->add_option("--shard", sp_shard, "run the I-th of N interleaved slices of the shape lists (join with `adambench merge`)");

  // converge
  auto* converge = app.add_subcommand("converge", "train workloads with every implementation: curves, steps to target, drift");
  std::string cv_suite = "smoke", cv_out, cv_data, cv_text;
  std::vector<std::string> cv_impls, cv_cases;
  int cv_seeds = 0;
  bool cv_quiet = false, cv_allow_empty = false;
  converge->add_option("suite", cv_suite, "suite file (TOML) with a [converge] table, or a shipped suite's name (default: smoke)");
  converge->add_option("--impl", cv_impls, "implementations to train with (repeatable; sgd-momentum is the baseline; default: the suite's)");
  converge->add_option("--filter,--case", cv_cases, "run only cases whose name matches this regex (repeatable: any; --case is an alias)");
  converge->add_option("--seeds", cv_seeds, "run seeds 0..N-1 instead of the suite's")->check(int_at_least(1));
  converge->add_flag("--allow-empty", cv_allow_empty, "exit 0, not 3, when every run was skipped");
  add_globals(converge);
  converge->add_option("--data-dir", cv_data, "MNIST-format folder (default: /usr/share/datasets/fashion-mnist)");
  converge->add_option("--text", cv_text, "text corpus for char_lm (default: /usr/share/common-licenses/GPL-3)");
  converge->add_option("--out", cv_out, "folder for converge.json and curves/*.csv (checked as writable before the run)");
  std::string cv_tb;
  converge->add_option("--tensorboard", cv_tb, "folder for TensorBoard event files, one per run (docs/tensorboard.md)");
  converge->add_flag("--quiet", cv_quiet, "no progress lines");
  std::string cv_shard, cv_model, cv_model_data;
  converge->add_option("--model", cv_model, "TorchScript module (.pt) to train instead of the suite's cases (needs --data; docs/extending.md)");
  converge->add_option("--data", cv_model_data, "npz with x_train, y_train, x_val, y_val for --model");
  converge->add_option("--shard", cv_shard, "run the I-th of N interleaved slices of the cases (join with `adambench merge`)");

  // list
  auto* list = app.add_subcommand("list", "implementations in this build and what they support");

  // compare, merge, ab, calibrate (bench/cli/gate_cli.cpp)
  auto gate = add_gate_commands(app);
  auto hist = add_history_commands(app);  // history add/show/check (bench/cli/history_cli.cpp)
  auto sweep = add_sweep_commands(app);  // bench/cli/sweep_cli.cpp
  auto check = add_check_commands(app);  // bench/cli/check_cli.cpp

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11 says "--threads: must be ≥ 1"; the project's wording is "--threads must be ≥ 1".
    const std::string what = std::regex_replace(std::string(e.what()), std::regex("^(--[A-Za-z0-9-]+): must"), "$1 must");
    fmt::print(stderr, "adambench: {}\n", what.substr(0, what.find('\n')));
    return 2;
  }

  install_interrupt_handler();
  try {
    if (agree->parsed()) {
      std::string source;
      std::string text = load_suite_text(suite_path, source);
      agree_suite suite = parse_agree_suite(text, source);
      agree_options o;
      o.impls = impls;
      for (auto& d : dtypes) o.dtypes.push_back(parse_dtype(d));
      if (seeds > 0) o.seed_count = seeds;
      o.threads = threads;
      if (!out_dir.empty()) o.out = out_dir;
      o.quiet = quiet;
      if (!agree_shard.empty()) o.shard = parse_shard(agree_shard);
      if (!agree_filter.empty()) check_regex(agree_filter, "--filter");
      o.filter = agree_filter;
      o.allow_empty = agree_allow_empty;
      for (auto& n : o.impls) reg.at(n);  // unknown names fail before any work
      if (o.out) check_out_dir(*o.out);
      return run_agree(suite, reg, o);
    }
    if (replay->parsed()) {
      ro.trace = trace;
      ro.impl = impl_name;
      ro.config.kind = parse_algo(algo_s);
      if (steps >= 0) ro.steps = steps;
      ro.out = out_file;
      ro.threads = threads;
      return run_replay(reg, ro);
    }
    if (speed->parsed()) {
      std::string source;
      std::string text = load_suite_text(sp_suite, source);
      speed_suite suite = parse_speed_suite(text, source);
      speed_options so;
      so.impls = sp_impls;
      so.threads = threads;
      if (!sp_out.empty()) so.out = sp_out;
      so.pin = sp_pin;
      if (!sp_shard.empty()) so.shard = parse_shard(sp_shard);
      so.benchmark_args = speed->remaining();
      so.allow_empty = sp_allow_empty;
      if (!sp_filter.empty()) {
        check_regex(sp_filter, "--filter");
        for (auto& a : so.benchmark_args)
          if (a.rfind("--benchmark_filter", 0) == 0) throw input_error("speed: give --filter or --benchmark_filter, not both");
        so.benchmark_args.push_back("--benchmark_filter=" + sp_filter);
      }
      for (auto& n : so.impls) reg.at(n);  // unknown names fail before any work
      if (so.out) check_out_dir(*so.out);
      return run_speed(suite, reg, so);
    }
    if (converge->parsed()) {
      if (cv_model.empty() != cv_model_data.empty()) throw input_error("converge: --model and --data go together");
      converge_suite suite;
      if (!cv_model.empty()) {  // one case in code; the suite argument is not read
        suite.source = "--model " + cv_model;
        suite.impls = {"reference", "eigen", "libtorch"};
        converge_case c;
        c.name = "torchscript";
        c.workload.name = "torchscript";
        c.workload.str = {{"model", cv_model}, {"data", cv_model_data}};
        suite.cases.push_back(c);
      } else {
        std::string source;
        std::string text = load_suite_text(cv_suite, source);
        suite = parse_converge_suite(text, source);
      }
      converge_options co;
      co.impls = cv_impls;
      co.case_filter = cv_cases;
      if (cv_seeds > 0) co.seed_count = cv_seeds;
      co.data_dir = cv_data;
      co.text_file = cv_text;
      co.threads = threads;
      if (!cv_out.empty()) co.out = cv_out;
      if (!cv_tb.empty()) co.tensorboard = cv_tb;
      co.quiet = cv_quiet;
      co.allow_empty = cv_allow_empty;
      if (!cv_shard.empty()) co.shard = parse_shard(cv_shard);
      for (auto& f : co.case_filter) check_regex(f, "--filter");
      for (auto& n : co.impls)
        reg.at(n);  // unknown names fail before any work
      if (co.out) check_out_dir(*co.out);
      return run_converge(suite, reg, co);
    }
    if (auto rc = run_gate_commands(*gate)) return *rc;
    if (auto rc = run_history_commands(*hist)) return *rc;
    if (auto rc = run_sweep_commands(*sweep, reg, threads)) return *rc;
    if (auto rc = run_check_commands(*check)) return *rc;
    if (list->parsed()) {
      for (auto& e : reg.all()) {
        fmt::print("{:<18} {}\n", e.name, e.description);
        for (dtype d : {dtype::float32, dtype::float64}) {
          case_features f;
          f.type = d;
          for (algo a : {algo::adam, algo::adamw}) {
            support s = e.supports(adam_config{}.with_algo(a), f);
            if (!s.ok) fmt::print("{:<18}   {} {}: unavailable: {}\n", "", to_string(a), to_string(d), s.reason);
          }
        }
        support s = e.supports(adam_config{}.with_maximize(true), case_features{});
        if (!s.ok) fmt::print("{:<18}   maximize: unavailable: {}\n", "", s.reason);
      }
      return 0;
    }
  } catch (const input_error& e) {
    fmt::print(stderr, "adambench: {}\n", e.what());
    return 2;
  } catch (const io_error& e) {
    fmt::print(stderr, "adambench: {}\n", e.what());
    return 4;
  } catch (const std::exception& e) {  // no exception escapes main: one line, exit 4
    std::string what = e.what();
    fmt::print(stderr, "adambench: internal error: {}\n", what.substr(0, what.find('\n')));
    return 4;
  }
  return 2;
}

}  // namespace adambench
