#include "check/check_cli.h"

#include "check/check.h"

namespace adambench {

struct check_cli {
  CLI::App* cmd = nullptr;
  check_options opt;
  std::string trace, result, names, algo_s = "adam";
  std::int64_t steps = -1;
};

std::shared_ptr<check_cli> add_check_commands(CLI::App& app) {
  auto c = std::make_shared<check_cli>();
  c->cmd = app.add_subcommand("check", "judge final parameters and state computed elsewhere against the reference (exit 0 agree, 1 disagree)");
  c->cmd->add_option("trace", c->trace, "TRACE.npz: p0.., g0.. (gK: (T, *shape of pK)), optionally m0.., v0.., vmax0.., step")->required();
  c->cmd->add_option("result", c->result, "RESULT.npz: final p0.., m0.., v0.. (vmax0.. with --amsgrad), optional step")->required();
  c->cmd->add_option("--algo", c->algo_s, "adam or adamw");
  c->cmd->add_option("--lr", c->opt.config.lr, "learning rate");
  c->cmd->add_option("--beta1", c->opt.config.beta1);
  c->cmd->add_option("--beta2", c->opt.config.beta2);
  c->cmd->add_option("--eps", c->opt.config.eps);
  c->cmd->add_option("--weight-decay", c->opt.config.weight_decay);
  c->cmd->add_flag("--amsgrad", c->opt.config.amsgrad);
  c->cmd->add_flag("--maximize", c->opt.config.maximize);
  c->cmd->add_option("--steps", c->steps, "the first T steps of the trace (default: all)");
  c->cmd->add_option("--names", c->names, "TOML file mapping roles to array names, e.g. p0 = \"fc.weight\", g0 = \"fc.weight.grad\"");
  return c;
}

std::optional<int> run_check_commands(check_cli& c) {
  if (!c.cmd->parsed()) return std::nullopt;
  c.opt.trace = c.trace;
  c.opt.result = c.result;
  c.opt.names = c.names;
  c.opt.config.kind = parse_algo(c.algo_s);
  if (c.steps >= 0) c.opt.steps = c.steps;
  return run_check(c.opt);
}

}  // namespace adambench
