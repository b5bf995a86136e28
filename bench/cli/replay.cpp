// `adambench replay`: an implementation over recorded gradients (docs/replay.md).
#include "check/replay.h"
#include "cli/command.h"

namespace adambench {
namespace {

command_run replay_options_of(CLI::App& c, int& threads) {
  struct state {
    replay_options ro;
    std::string trace, algo = "adam", out, impl;
    std::int64_t steps = -1;
  };
  auto r = std::make_shared<state>();
  adam_config& cfg = r->ro.config;
  c.add_option("trace", r->trace, "TRACE.npz with p0, p1, ... and g0, g1, ... (gK: (T, *shape of pK))")->required();
  c.add_option("--impl", r->impl, "implementation name")->required();
  add_hyperparameters(c, cfg, r->algo);
  c.add_option("--steps", r->steps, "replay the first T steps (default: all)");
  c.add_option("--out", r->out, "RESULT.npz: final pK, mK, vK (and vmaxK)")->required();
  c.add_flag("--compare", r->ro.compare, "also run the reference and print agreement metrics (exit 1 if they disagree)");
  add_threads(&c, threads);
  return [r](const command_env& env) {
    r->ro.trace = r->trace;
    r->ro.impl = r->impl;
    r->ro.config.kind = parse_algo(r->algo);
    if (r->steps >= 0) r->ro.steps = r->steps;
    r->ro.out = r->out;
    r->ro.threads = env.threads;
    return run_replay(env.reg, r->ro);
  };
}

ADAMBENCH_REGISTER_COMMAND("replay", "run an implementation over recorded gradients (numpy.savez trace)", 20, replay_options_of);

}  // namespace
}  // namespace adambench
