// `adambench tune`: Adam tuned for the user's own TorchScript model (docs/tuning.md).
#include "cli/command.h"
#include "tune/tune.h"

namespace adambench {
namespace {

command_run tune_options_of(CLI::App& c, int&) {
  struct state {
    std::string model, data, out, resume, plan = "tune";
    std::vector<std::string> impls;
    int seeds = 0, threads = 0;
    double budget = 0;
    bool quiet = false;
    CLI::App* cmd = nullptr;
  };
  auto t = std::make_shared<state>();
  t->cmd = &c;
  c.add_option("--model", t->model, "TorchScript module (.pt) to tune for")->required();
  c.add_option("--data", t->data, "npz with x_train, y_train, x_val, y_val")->required();
  c.add_option("--out", t->out, "folder for tune.md, tune.json, tuned.toml, curves/, tensorboard/ and runs/ (the kept runs)");
  c.add_option("--resume", t->resume, "continue the interrupted tune in this folder (same model and data, by content hash)");
  c.add_option("--impl", t->impls, "Adam implementation to tune with (repeatable; default: the plan's, eigen)");
  c.add_option("--seeds", t->seeds, "seeds 0..N-1 (at least 3; default: the plan's, 3)");
  c.add_option("--budget", t->budget, "minutes: cut the plan to fit (seeds, then shorter grids, shorter runs, stages), or exit 2 when even its smallest form does not");
  c.add_option("--plan", t->plan, "the plan: a TOML file with [tune] and [[tune.stage]], or a shipped plan's name (default: tune)");
  c.add_flag("--quiet", t->quiet, "no progress lines");
  c.add_option("--threads", t->threads, "CPU threads for OpenMP and LibTorch (default: all hardware threads)")->check(int_at_least(1));
  return [t](const command_env& env) {
    tune_request req;
    req.model = t->model, req.data = t->data, req.plan = t->plan, req.impls = t->impls, req.quiet = t->quiet;
    req.threads = t->cmd->count("--threads") ? t->threads : env.threads;
    if (!t->out.empty()) req.out = t->out;
    if (!t->resume.empty()) req.resume = t->resume;
    if (t->cmd->count("--seeds")) req.seeds = t->seeds;
    if (t->cmd->count("--budget")) req.budget_min = t->budget;
    return run_tune(req, env.reg);
  };
}

ADAMBENCH_REGISTER_COMMAND("tune", "tune Adam for your own TorchScript model: lr, then each factor around it; settings with verdicts (docs/tuning.md)",
                           120, tune_options_of);

}  // namespace
}  // namespace adambench
