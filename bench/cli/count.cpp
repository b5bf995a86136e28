// `adambench count`: the counted cost of one step under Valgrind (docs/speed.md "Counted speed").
#include "cli/command.h"
#include "count/count.h"
#include "speed/speed_suite.h"

namespace adambench {
namespace {

command_run count_options_of(CLI::App& c, int&) {
  struct state {
    std::string suite = "smoke";
    int steps = 2, warmup = 2;
    run_options run;
  };
  auto s = std::make_shared<state>();
  c.add_option("suite", s->suite, "suite file (TOML) with a [speed] table, or a shipped suite's name (default: smoke)");
  c.add_option("--impl", s->run.impls, "implementations to count (repeatable; default: the suite's list)");
  c.add_option("--filter", s->run.filter, "count only benchmarks whose name (IMPL/ALGO/SHAPE/threads:1) matches this regex (searched)");
  c.add_option("--out", s->run.out, "folder for count.json");
  c.add_option("--steps", s->steps, "steps counted per benchmark after warm-up; figures are per step (default 2)")->check(CLI::Range(1, 1000));
  c.add_option("--warmup", s->warmup, "steps before counting, the last one under the cache simulation (default 2)")->check(CLI::Range(1, 1000));
  c.add_option("--shard", s->run.shard, "count the I-th of N interleaved slices of the shape lists (join with `adambench merge`)");
  c.add_flag("--quiet", s->run.quiet, "no progress lines and no table");
  c.add_flag("--allow-empty", s->run.allow_empty, "exit 0, not 3, when every selected benchmark was skipped");
  return [s](const command_env& env) {
    // Counting is one thread: threads are the timed gate's business (docs/speed.md).
    if (auto* t = env.app.get_option_no_throw("--threads"); t && t->count() > 0 && t->as<int>() != 1)
      throw input_error("count: counts one thread only (--threads 1); thread scaling is the timed gate's business (adambench speed)");
    const speed_suite suite = read_suite(s->suite, parse_speed_suite);
    count_options o;
    o.suite_arg = s->suite;
    o.impls = s->run.impls;
    o.filter = s->run.filter;
    o.out = s->run.out_dir();
    o.steps = s->steps;
    o.warmup = s->warmup;
    o.shard = s->run.shard_slice();
    o.quiet = s->run.quiet;
    o.allow_empty = s->run.allow_empty;
    s->run.prepare(env.reg);
    return run_count(suite, env.reg, o);
  };
}

ADAMBENCH_REGISTER_COMMAND("count", "counted cost of one step under Valgrind (instructions, simulated cache and DRAM traffic; 1 thread)", 150,
                           count_options_of);

}  // namespace
}  // namespace adambench
