#include "sweep/sweep_cli.h"

#include "cli/gate_cli.h"
#include "core/suite.h"
#include "shared/context.h"
#include "sweep/sweep.h"

namespace adambench {

struct sweep_cli {
  CLI::App* cmd = nullptr;
  std::string suite, out, data, text, shard, tensorboard, model, model_data;
  std::vector<std::string> impls, studies;
  int seeds = 0;
  bool quiet = false, allow_empty = false;
};

std::shared_ptr<sweep_cli> add_sweep_commands(CLI::App& app) {
  auto s = std::make_shared<sweep_cli>();
  s->cmd = app.add_subcommand("sweep", "hyper-parameter studies over seeds, and verdicts on tuning advice (docs/tuning.md)");
  s->cmd->add_option("suite", s->suite, "suite file (TOML) with a [sweep] table, or a shipped suite's name (e.g. tuning, tuning-smoke)")->required();
  s->cmd->add_option("--out", s->out, "folder for sweep.json and curves/*.csv");
  s->cmd->add_option("--impl", s->impls, "implementations for every study (repeatable; default: the suite's)");
  s->cmd->add_option("--study", s->studies, "run only studies whose name contains this (repeatable)");
  s->cmd->add_option("--seeds", s->seeds, "run seeds 0..N-1 instead of the suite's")->check(CLI::PositiveNumber);
  s->cmd->add_option("--data-dir", s->data, "MNIST-format folder (default: /usr/share/datasets/fashion-mnist)");
  s->cmd->add_option("--text", s->text, "text corpus for char_lm (default: /usr/share/common-licenses/GPL-3)");
  s->cmd->add_option("--shard", s->shard, "run the I-th of N interleaved slices of the studies (join with `adambench merge`)");
  s->cmd->add_option("--tensorboard", s->tensorboard, "folder for TensorBoard event files (one per run, with hparams; docs/tensorboard.md)");
  s->cmd->add_flag("--quiet", s->quiet, "no progress lines");
  s->cmd->add_flag("--allow-empty", s->allow_empty, "exit 0, not 3, when every run was skipped");
  s->cmd->add_option("--model", s->model, "TorchScript module (.pt): every study trains it instead of its workload (needs --data)");
  s->cmd->add_option("--data", s->model_data, "npz with x_train, y_train, x_val, y_val for --model");
  return s;
}

std::optional<int> run_sweep_commands(sweep_cli& s, const registry& reg, int threads) {
  if (!s.cmd->parsed()) return std::nullopt;
  std::string source;
  const std::string text = load_suite_text(s.suite, source);
  sweep_suite suite = parse_sweep_suite(text, source);
  if (s.model.empty() != s.model_data.empty()) throw input_error("sweep: --model and --data go together");
  if (!s.model.empty())
    for (auto& st : suite.studies) {  // the study's settings stay; only what it trains changes
      workload_spec w;
      w.name = "torchscript";
      w.str = {{"model", s.model}, {"data", s.model_data}};
      if (auto task = st.base.workload.str.find("task"); st.base.workload.name == "torchscript" && task != st.base.workload.str.end())
        w.str["task"] = task->second;
      st.base.workload = w;
    }
  sweep_options o;
  o.conv.impls = s.impls;
  for (auto& n : o.conv.impls) reg.at(n);  // unknown names fail before any work
  run_id();                                // so does a malformed ADAMBENCH_RUN_ID
  if (s.seeds > 0) o.conv.seed_count = s.seeds;
  o.conv.data_dir = s.data;
  o.conv.text_file = s.text;
  o.conv.threads = threads;
  o.conv.quiet = s.quiet;
  o.conv.allow_empty = s.allow_empty;
  if (!s.out.empty()) {
    o.conv.out = s.out;
    check_out_dir(*o.conv.out);  // writable before hours of training, as every runner checks it
  }
  if (!s.tensorboard.empty()) o.conv.tensorboard = s.tensorboard;
  o.study_filter = s.studies;
  if (!s.shard.empty()) o.shard = parse_shard(s.shard);
  return run_sweep(suite, reg, o);
}

}  // namespace adambench
