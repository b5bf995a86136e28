#include "tune/tune_cli.h"

#include "core/results.h"
#include "converge/converge_train.h"
#include "tune/tune.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace adambench {

struct tune_cli {
  CLI::App* cmd = nullptr;
  std::string model, data, out, resume, plan = "tune";
  std::vector<std::string> impls;
  int seeds = 0, threads = 0;
  double budget = 0;
  bool quiet = false;
  CLI::App* order = nullptr;
  std::int64_t train = 0, batch = 0, steps = 0;
  std::uint64_t seed = 0;
  std::string order_out;
};

std::shared_ptr<tune_cli> add_tune_commands(CLI::App& app) {
  auto t = std::make_shared<tune_cli>();
  t->cmd = app.add_subcommand("tune", "tune Adam for your own TorchScript model: lr, then each factor around it; settings with verdicts (docs/tuning.md)");
  auto* c = t->cmd;
  c->add_option("--model", t->model, "TorchScript module (.pt) to tune for")->required();
  c->add_option("--data", t->data, "npz with x_train, y_train, x_val, y_val")->required();
  c->add_option("--out", t->out, "folder for tune.md, tune.json, tuned.toml, curves/, tensorboard/ and runs/ (the kept runs)");
  c->add_option("--resume", t->resume, "continue the interrupted tune in this folder (same model and data, by content hash)");
  c->add_option("--impl", t->impls, "Adam implementation to tune with (repeatable; default: the plan's, eigen)");
  c->add_option("--seeds", t->seeds, "seeds 0..N-1 (at least 3; default: the plan's, 3)");
  c->add_option("--budget", t->budget, "minutes: cut the plan to fit (seeds, then shorter grids, shorter runs, stages), or exit 2 when even its smallest form does not");
  c->add_option("--plan", t->plan, "the plan: a TOML file with [tune] and [[tune.stage]], or a shipped plan's name (default: tune)");
  c->add_flag("--quiet", t->quiet, "no progress lines");
  c->add_option("--threads", t->threads, "CPU threads for OpenMP and LibTorch (default: all hardware threads)")->check(CLI::PositiveNumber);
  t->order = app.add_subcommand("data-order", "the sample indices of every minibatch of a training run (one line per step), as adambench draws them");
  t->order->add_option("--train", t->train, "training samples (x_train's first dimension)")->required()->check(CLI::PositiveNumber);
  t->order->add_option("--batch", t->batch, "batch size")->required()->check(CLI::PositiveNumber);
  t->order->add_option("--steps", t->steps, "optimizer steps")->required()->check(CLI::PositiveNumber);
  t->order->add_option("--seed", t->seed, "the run's seed")->required();
  t->order->add_option("--out", t->order_out, "text file (default: standard output)");
  return t;
}

namespace {

int data_order(const tune_cli& t) {
  batch_sampler sampler(t.train, t.batch, t.seed);
  std::string text;
  for (std::int64_t s = 0; s < t.steps; ++s) text += fmt::format("{}\n", fmt::join(sampler.next(), " "));
  if (t.order_out.empty()) fmt::print("{}", text);
  else write_file_atomic(t.order_out, text);
  return 0;
}

}  // namespace

std::optional<int> run_tune_commands(tune_cli& t, const registry& reg, int threads) {
  if (t.order->parsed()) return data_order(t);
  if (!t.cmd->parsed()) return std::nullopt;
  tune_request req;
  req.model = t.model, req.data = t.data, req.plan = t.plan, req.impls = t.impls, req.threads = t.cmd->count("--threads") ? t.threads : threads, req.quiet = t.quiet;
  if (!t.out.empty()) req.out = t.out;
  if (!t.resume.empty()) req.resume = t.resume;
  if (t.cmd->count("--seeds")) req.seeds = t.seeds;
  if (t.cmd->count("--budget")) req.budget_min = t.budget;
  return run_tune(req, reg);
}

}  // namespace adambench
