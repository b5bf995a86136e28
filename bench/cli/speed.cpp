// `adambench speed`: step throughput against the machine's bandwidth (docs/speed.md).
#include "cli/command.h"
#include "speed/speed.h"
#include "speed/speed_suite.h"

namespace adambench {
namespace {

command_run speed_options_of(CLI::App& c, int& threads) {
  struct state {
    std::string suite = "smoke";
    bool pin = false;
    run_options run;
    CLI::App* cmd = nullptr;
  };
  auto s = std::make_shared<state>();
  s->cmd = &c;
  c.allow_extras();  // Google Benchmark's own --benchmark_* flags pass through
  c.footer("Other arguments go to Google Benchmark, e.g. --benchmark_filter=REGEX --benchmark_repetitions=9\n"
           "--benchmark_min_time=SECONDS --benchmark_enable_random_interleaving=true. See docs/speed.md.");
  c.add_option("suite", s->suite, "suite file (TOML) with a [speed] table, or a shipped suite's name (default: smoke)");
  c.add_option("--impl", s->run.impls, "implementations to time (repeatable; default: the suite's list)");
  c.add_option("--out", s->run.out, "folder for speed.json (Google Benchmark JSON) and speed.txt (summary; checked as writable first)");
  c.add_option("--filter", s->run.filter, "time only benchmarks whose name (IMPL/ALGO/SHAPE/threads:T) matches this regex (--benchmark_filter)");
  c.add_flag("--quiet", s->run.quiet, "no progress lines (speed prints none: its table is its result)");
  c.add_flag("--allow-empty", s->run.allow_empty, "exit 0, not 3, when every implementation's benchmark was skipped");
  add_threads(&c, threads);
  c.add_flag("--pin", s->pin, "pin OpenMP thread k to CPU k (sched_setaffinity)");
  c.add_option("--shard", s->run.shard, "run the I-th of N interleaved slices of the shape lists (join with `adambench merge`)");
  return [s](const command_env& env) {
    const speed_suite suite = read_suite(s->suite, parse_speed_suite);
    speed_options so;
    so.impls = s->run.impls;
    so.threads = env.threads;
    so.out = s->run.out_dir();
    so.pin = s->pin;
    so.shard = s->run.shard_slice();
    so.benchmark_args = s->cmd->remaining();
    so.allow_empty = s->run.allow_empty;
    s->run.prepare(env.reg);
    if (!s->run.filter.empty()) {
      for (auto& a : so.benchmark_args)
        if (a.rfind("--benchmark_filter", 0) == 0) throw input_error("speed: give --filter or --benchmark_filter, not both");
      so.benchmark_args.push_back("--benchmark_filter=" + s->run.filter);
    }
    return run_speed(suite, env.reg, so);
  };
}

ADAMBENCH_REGISTER_COMMAND("speed", "step throughput against the machine's bandwidth (Google Benchmark)", 30, speed_options_of);

}  // namespace
}  // namespace adambench
