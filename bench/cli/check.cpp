// `adambench check`: final parameters and state computed elsewhere, judged against the reference (docs/replay.md).
#include "check/check.h"
#include "cli/command.h"

namespace adambench {
namespace {

command_run check_options_of(CLI::App& c, int&) {
  struct state {
    check_options opt;
    std::string trace, result, names, algo = "adam";
    std::int64_t steps = -1;
  };
  auto s = std::make_shared<state>();
  adam_config& cfg = s->opt.config;
  c.add_option("trace", s->trace, "TRACE.npz: p0.., g0.. (gK: (T, *shape of pK)), optionally m0.., v0.., vmax0.., step")->required();
  c.add_option("result", s->result, "RESULT.npz: final p0.., m0.., v0.. (vmax0.. with --amsgrad), optional step")->required();
  add_hyperparameters(c, cfg, s->algo);
  c.add_option("--steps", s->steps, "the first T steps of the trace (default: all)");
  c.add_option("--names", s->names, "TOML file mapping roles to array names, e.g. p0 = \"fc.weight\", g0 = \"fc.weight.grad\"");
  return [s](const command_env&) {
    s->opt.trace = s->trace;
    s->opt.result = s->result;
    s->opt.names = s->names;
    s->opt.config.kind = parse_algo(s->algo);
    if (s->steps >= 0) s->opt.steps = s->steps;
    return run_check(s->opt);
  };
}

ADAMBENCH_REGISTER_COMMAND("check", "judge final parameters and state computed elsewhere against the reference (exit 0 agree, 1 disagree)", 140,
                           check_options_of);

}  // namespace
}  // namespace adambench
