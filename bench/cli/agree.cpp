// `adambench agree`: every implementation against the float64 reference (docs/agreement.md).
#include "agree/agree.h"
#include "agree/agree_suite.h"
#include "cli/command.h"

namespace adambench {
namespace {

command_run agree_options_of(CLI::App& c, int& threads) {
  struct state {
    std::string suite = "default";
    std::vector<std::string> dtypes;
    int seeds = 0;
    run_options run;
  };
  auto a = std::make_shared<state>();
  c.add_option("suite", a->suite, "suite file (TOML) or the name of a shipped suite (default: default)");
  c.add_option("--impl", a->run.impls, "implementations to run (repeatable; default: the suite's list)");
  c.add_option("--dtype", a->dtypes, "float32, float64, bfloat16, float16 (default: the suite's list)");
  c.add_option("--seeds", a->seeds, "run seeds 0..N-1 instead of the suite's")->check(int_at_least(1));
  c.add_option("--out", a->run.out, "folder for agree.json (checked as writable before the run)");
  c.add_flag("--quiet", a->run.quiet, "no progress lines");
  c.add_option("--shard", a->run.shard, "run the I-th of N interleaved slices of the cases (join with `adambench merge`)");
  c.add_option("--filter", a->run.filter, "run only cases whose name matches this regular expression (searched)");
  c.add_flag("--allow-empty", a->run.allow_empty, "exit 0, not 3, when every selected case was skipped");
  add_threads(&c, threads);
  return [a](const command_env& env) {
    const agree_suite suite = read_suite(a->suite, parse_agree_suite);
    agree_options o;
    o.impls = a->run.impls;
    for (auto& d : a->dtypes) o.dtypes.push_back(parse_dtype(d));
    if (a->seeds > 0) o.seed_count = a->seeds;
    o.threads = env.threads;
    o.out = a->run.out_dir();
    o.quiet = a->run.quiet;
    o.shard = a->run.shard_slice();
    o.filter = a->run.filter;
    o.allow_empty = a->run.allow_empty;
    a->run.prepare(env.reg);
    return run_agree(suite, env.reg, o);
  };
}

ADAMBENCH_REGISTER_COMMAND("agree", "every implementation against the float64 reference", 10, agree_options_of);

}  // namespace
}  // namespace adambench
