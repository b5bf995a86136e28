#include "adambench/cli.h"

#include "check/check_cli.h"
#include "count/count_cli.h"
#include "cli/gate_cli.h"
#include "history/history_cli.h"
#include "sweep/sweep_cli.h"
#include "tune/tune_cli.h"
#include "agree/agree_suite.h"
#include "core/suite.h"
#include "speed/speed_suite.h"
#include "agree/agree.h"
#include "shared/context.h"
#include "converge/converge.h"
#include "check/replay.h"
#include "speed/speed.h"

#include "core/results.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <climits>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <memory>
#include <optional>
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

// Names given with --impl must exist, --out must be writable and ADAMBENCH_RUN_ID well formed,
// before any work starts.
void check_before_run(const std::vector<std::string>& impls, const std::optional<std::filesystem::path>& out, const registry& reg) {
  for (auto& n : impls) reg.at(n);  // unknown names fail before any work
  run_id();
  if (out) check_out_dir(*out);
}

// A suite file, or the name of a shipped suite, read and parsed by `parse`.
template <class Parse>
auto read_suite(const std::string& path_or_name, Parse parse) {
  std::string source;
  std::string text = load_suite_text(path_or_name, source);
  return parse(text, source);
}

// --threads: before the subcommand, and after it (`agree --threads 2`): each subcommand declares it too.
void add_threads(CLI::App* c, int& threads) {
  c->add_option("--threads", threads, "CPU threads for OpenMP and LibTorch (default: all hardware threads)")->check(int_at_least(1));
}

// ---- agree ----

struct agree_cli {
  CLI::App* cmd = nullptr;
  std::string suite = "default";
  std::vector<std::string> impls, dtypes;
  int seeds = 0;
  std::string out, shard, filter;
  bool quiet = false, allow_empty = false;
};

void add_agree(CLI::App& app, agree_cli& a, int& threads) {
  a.cmd = app.add_subcommand("agree", "every implementation against the float64 reference");
  a.cmd->add_option("suite", a.suite, "suite file (TOML) or the name of a shipped suite (default: default)");
  a.cmd->add_option("--impl", a.impls, "implementations to run (repeatable; default: the suite's list)");
  a.cmd->add_option("--dtype", a.dtypes, "float32, float64, bfloat16, float16 (default: the suite's list)");
  a.cmd->add_option("--seeds", a.seeds, "run seeds 0..N-1 instead of the suite's")->check(int_at_least(1));
  a.cmd->add_option("--out", a.out, "folder for agree.json (checked as writable before the run)");
  a.cmd->add_flag("--quiet", a.quiet, "no progress lines");
  a.cmd->add_option("--shard", a.shard, "run the I-th of N interleaved slices of the cases (join with `adambench merge`)");
  a.cmd->add_option("--filter", a.filter, "run only cases whose name matches this regular expression (searched)");
  a.cmd->add_flag("--allow-empty", a.allow_empty, "exit 0, not 3, when every selected case was skipped");
  add_threads(a.cmd, threads);
}

int run_agree_command(const agree_cli& a, const registry& reg, int threads) {
  agree_suite suite = read_suite(a.suite, parse_agree_suite);
  agree_options o;
  o.impls = a.impls;
  for (auto& d : a.dtypes) o.dtypes.push_back(parse_dtype(d));
  if (a.seeds > 0) o.seed_count = a.seeds;
  o.threads = threads;
  if (!a.out.empty()) o.out = a.out;
  o.quiet = a.quiet;
  if (!a.shard.empty()) o.shard = parse_shard(a.shard);
  if (!a.filter.empty()) check_regex(a.filter, "--filter");
  o.filter = a.filter;
  o.allow_empty = a.allow_empty;
  check_before_run(o.impls, o.out, reg);
  return run_agree(suite, reg, o);
}

// ---- replay ----

struct replay_cli {
  CLI::App* cmd = nullptr;
  replay_options ro;
  std::string trace, algo = "adam", out, impl;
  std::int64_t steps = -1;
};

void add_replay(CLI::App& app, replay_cli& r, int& threads) {
  r.cmd = app.add_subcommand("replay", "run an implementation over recorded gradients (numpy.savez trace)");
  auto* c = r.cmd;
  adam_config& cfg = r.ro.config;
  c->add_option("trace", r.trace, "TRACE.npz with p0, p1, ... and g0, g1, ... (gK: (T, *shape of pK))")->required();
  c->add_option("--impl", r.impl, "implementation name")->required();
  c->add_option("--algo", r.algo, "adam or adamw");
  c->add_option("--lr", cfg.lr, "learning rate");
  c->add_option("--beta1", cfg.beta1);
  c->add_option("--beta2", cfg.beta2);
  c->add_option("--eps", cfg.eps);
  c->add_option("--weight-decay", cfg.weight_decay);
  c->add_flag("--amsgrad", cfg.amsgrad);
  c->add_flag("--maximize", cfg.maximize);
  c->add_option("--steps", r.steps, "replay the first T steps (default: all)");
  c->add_option("--out", r.out, "RESULT.npz: final pK, mK, vK (and vmaxK)")->required();
  c->add_flag("--compare", r.ro.compare, "also run the reference and print agreement metrics (exit 1 if they disagree)");
  add_threads(c, threads);
}

int run_replay_command(replay_cli& r, const registry& reg, int threads) {
  r.ro.trace = r.trace;
  r.ro.impl = r.impl;
  r.ro.config.kind = parse_algo(r.algo);
  if (r.steps >= 0) r.ro.steps = r.steps;
  r.ro.out = r.out;
  r.ro.threads = threads;
  return run_replay(reg, r.ro);
}

// ---- speed ----

struct speed_cli {
  CLI::App* cmd = nullptr;
  std::string suite = "smoke", out, filter, shard;
  std::vector<std::string> impls;
  bool pin = false, quiet = false, allow_empty = false;
};

void add_speed(CLI::App& app, speed_cli& s, int& threads) {
  s.cmd = app.add_subcommand("speed", "step throughput against the machine's bandwidth (Google Benchmark)");
  auto* c = s.cmd;
  c->allow_extras();  // Google Benchmark's own --benchmark_* flags pass through
  c->footer("Other arguments go to Google Benchmark, e.g. --benchmark_filter=REGEX --benchmark_repetitions=9\n"
            "--benchmark_min_time=SECONDS --benchmark_enable_random_interleaving=true. See docs/speed.md.");
  c->add_option("suite", s.suite, "suite file (TOML) with a [speed] table, or a shipped suite's name (default: smoke)");
  c->add_option("--impl", s.impls, "implementations to time (repeatable; default: the suite's list)");
  c->add_option("--out", s.out, "folder for speed.json (Google Benchmark JSON) and speed.txt (summary; checked as writable first)");
  c->add_option("--filter", s.filter, "time only benchmarks whose name (IMPL/ALGO/SHAPE/threads:T) matches this regex (--benchmark_filter)");
  c->add_flag("--quiet", s.quiet, "no progress lines (speed prints none: its table is its result)");
  c->add_flag("--allow-empty", s.allow_empty, "exit 0, not 3, when every implementation's benchmark was skipped");
  add_threads(c, threads);
  c->add_flag("--pin", s.pin, "pin OpenMP thread k to CPU k (sched_setaffinity)");
  c->add_option("--shard", s.shard, "run the I-th of N interleaved slices of the shape lists (join with `adambench merge`)");
}

int run_speed_command(const speed_cli& s, const registry& reg, int threads) {
  speed_suite suite = read_suite(s.suite, parse_speed_suite);
  speed_options so;
  so.impls = s.impls;
  so.threads = threads;
  if (!s.out.empty()) so.out = s.out;
  so.pin = s.pin;
  if (!s.shard.empty()) so.shard = parse_shard(s.shard);
  so.benchmark_args = s.cmd->remaining();
  so.allow_empty = s.allow_empty;
  if (!s.filter.empty()) {
    check_regex(s.filter, "--filter");
    for (auto& a : so.benchmark_args)
      if (a.rfind("--benchmark_filter", 0) == 0) throw input_error("speed: give --filter or --benchmark_filter, not both");
    so.benchmark_args.push_back("--benchmark_filter=" + s.filter);
  }
  check_before_run(so.impls, so.out, reg);
  return run_speed(suite, reg, so);
}

// ---- converge ----

struct converge_cli {
  CLI::App* cmd = nullptr;
  std::string suite = "smoke", out, data, text, tensorboard, shard, model, model_data;
  std::vector<std::string> impls, cases;
  int seeds = 0;
  bool quiet = false, allow_empty = false;
};

void add_converge(CLI::App& app, converge_cli& v, int& threads) {
  v.cmd = app.add_subcommand("converge", "train workloads with every implementation: curves, steps to target, drift");
  auto* c = v.cmd;
  c->add_option("suite", v.suite, "suite file (TOML) with a [converge] table, or a shipped suite's name (default: smoke)");
  c->add_option("--impl", v.impls, "implementations to train with (repeatable; sgd-momentum is the baseline; default: the suite's)");
  c->add_option("--filter,--case", v.cases, "run only cases whose name matches this regex (repeatable: any; --case is an alias)");
  c->add_option("--seeds", v.seeds, "run seeds 0..N-1 instead of the suite's")->check(int_at_least(1));
  c->add_flag("--allow-empty", v.allow_empty, "exit 0, not 3, when every run was skipped");
  add_threads(c, threads);
  c->add_option("--data-dir", v.data, "MNIST-format folder (default: /usr/share/datasets/fashion-mnist)");
  c->add_option("--text", v.text, "text corpus for char_lm (default: /usr/share/common-licenses/GPL-3)");
  c->add_option("--out", v.out, "folder for converge.json and curves/*.csv (checked as writable before the run)");
  c->add_option("--tensorboard", v.tensorboard, "folder for TensorBoard event files, one per run (docs/tensorboard.md)");
  c->add_flag("--quiet", v.quiet, "no progress lines");
  c->add_option("--model", v.model, "TorchScript module (.pt) to train instead of the suite's cases (needs --data; docs/extending.md)");
  c->add_option("--data", v.model_data, "npz with x_train, y_train, x_val, y_val for --model");
  c->add_option("--shard", v.shard, "run the I-th of N interleaved slices of the cases (join with `adambench merge`)");
}

// --model: one case in code; the suite argument is not read.
converge_suite model_suite(const converge_cli& v) {
  converge_suite suite;
  suite.source = "--model " + v.model;
  suite.impls = {"reference", "eigen", "libtorch"};
  converge_case c;
  c.name = "torchscript";
  c.workload.name = "torchscript";
  c.workload.str = {{"model", v.model}, {"data", v.model_data}};
  suite.cases.push_back(c);
  return suite;
}

int run_converge_command(const converge_cli& v, const registry& reg, int threads) {
  if (v.model.empty() != v.model_data.empty()) throw input_error("converge: --model and --data go together");
  const converge_suite suite = v.model.empty() ? read_suite(v.suite, parse_converge_suite) : model_suite(v);
  converge_options co;
  co.impls = v.impls;
  co.case_filter = v.cases;
  if (v.seeds > 0) co.seed_count = v.seeds;
  co.data_dir = v.data;
  co.text_file = v.text;
  co.threads = threads;
  if (!v.out.empty()) co.out = v.out;
  if (!v.tensorboard.empty()) co.tensorboard = v.tensorboard;
  co.quiet = v.quiet;
  co.allow_empty = v.allow_empty;
  if (!v.shard.empty()) co.shard = parse_shard(v.shard);
  for (auto& f : co.case_filter) check_regex(f, "--filter");
  check_before_run(co.impls, co.out, reg);
  return run_converge(suite, reg, co);
}

// ---- list ----

int run_list(const registry& reg) {
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

// ---- the whole command line ----

// Every subcommand's options; declared in the order the help lists them.
struct command_line {
  CLI::App app{"adambench: correctness, speed and convergence of Adam/AdamW implementations"};
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  agree_cli agree;
  replay_cli replay;
  speed_cli speed;
  converge_cli converge;
  CLI::App* list = nullptr;
  std::shared_ptr<gate_cli> gate;
  std::shared_ptr<history_cli> hist;
  std::shared_ptr<sweep_cli> sweep;
  std::shared_ptr<tune_cli> tune;
  std::shared_ptr<check_cli> check;
  std::shared_ptr<count_cli> count;
};

void add_commands(command_line& cl) {
  CLI::App& app = cl.app;
  app.require_subcommand(1);
  app.set_version_flag("--version", fmt::format("adambench {} (commit {}, LibTorch {})", build_info().value("adambench_version", "?"),
                                                git_commit(), TORCH_VERSION));
  add_threads(&app, cl.threads);
  add_agree(app, cl.agree, cl.threads);
  add_replay(app, cl.replay, cl.threads);
  add_speed(app, cl.speed, cl.threads);
  add_converge(app, cl.converge, cl.threads);
  cl.list = app.add_subcommand("list", "implementations in this build and what they support");
  cl.gate = add_gate_commands(app);        // compare, merge, ab, calibrate (bench/cli/gate_cli.cpp)
  cl.hist = add_history_commands(app);     // history add/show/check (bench/history/history_cli.cpp)
  cl.sweep = add_sweep_commands(app);      // bench/sweep/sweep_cli.cpp
  cl.tune = add_tune_commands(app);        // tune, data-order (bench/tune/tune_cli.cpp)
  cl.check = add_check_commands(app);      // bench/check/check_cli.cpp
  cl.count = add_count_commands(app);      // count, count-worker (bench/count/count_cli.cpp)
}

// nullopt when the command line parsed; otherwise the exit code (help and version: 0; errors: 2).
std::optional<int> parse(CLI::App& app, int argc, char** argv) {
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
  return std::nullopt;
}

// Runs the parsed subcommand; 2 when none ran.
int dispatch(command_line& cl, const registry& reg) {
  if (cl.agree.cmd->parsed()) return run_agree_command(cl.agree, reg, cl.threads);
  if (cl.replay.cmd->parsed()) return run_replay_command(cl.replay, reg, cl.threads);
  if (cl.speed.cmd->parsed()) return run_speed_command(cl.speed, reg, cl.threads);
  if (cl.converge.cmd->parsed()) return run_converge_command(cl.converge, reg, cl.threads);
  if (auto rc = run_gate_commands(*cl.gate)) return *rc;
  if (auto rc = run_history_commands(*cl.hist)) return *rc;
  if (auto rc = run_sweep_commands(*cl.sweep, reg, cl.threads)) return *rc;
  if (auto rc = run_tune_commands(*cl.tune, reg, cl.threads)) return *rc;
  if (auto rc = run_check_commands(*cl.check)) return *rc;
  if (auto rc = run_count_commands(*cl.count, reg)) return *rc;
  if (cl.list->parsed()) return run_list(reg);
  return 2;
}

}  // namespace

int cli_main(int argc, char** argv, const registry& reg) {
  command_line cl;
  add_commands(cl);
  if (auto rc = parse(cl.app, argc, argv)) return *rc;
  install_interrupt_handler();
  try {
    return dispatch(cl, reg);
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
}

}  // namespace adambench
