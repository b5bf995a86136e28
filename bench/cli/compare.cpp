// `adambench compare`: results against a baseline, the gate's verdict (docs/gate.md).
#include "cli/command.h"
#include "cli/gate_common.h"

namespace adambench {
namespace {

command_run compare_options_of(CLI::App& c, int&) {
  struct state {
    std::string baseline, candidate, markdown;
    gate_thresholds th;
  };
  auto g = std::make_shared<state>();
  c.add_option("baseline", g->baseline, "result file or folder of them")->required();
  c.add_option("candidate", g->candidate, "result file or folder of them")->required();
  c.add_option("--markdown", g->markdown, "also write a Markdown summary (pull-request comment, CI job summary)");
  c.add_flag("--allow-missing", g->th.opt.allow_missing, "baseline results missing, newly skipped or errored in the candidate warn instead of fail");
  c.add_flag("--exact", g->th.opt.exact, "convergence: curves must be bitwise identical to the baseline's (default: the band of docs/convergence.md)");
  g->th.add(c);
  g->th.add_noise(c);
  return [g](const command_env&) {
    const gate_options o = g->th.options();
    auto b = load_results(g->baseline);
    auto c = load_results(g->candidate);
    return finish(compare_results(b, c, o), g->markdown, g->baseline, g->candidate);
  };
}

ADAMBENCH_REGISTER_COMMAND("compare", "compare results with a baseline: exit 0 no regression, 1 regression, 2 bad input or nothing comparable",
                           60, compare_options_of);

}  // namespace
}  // namespace adambench
