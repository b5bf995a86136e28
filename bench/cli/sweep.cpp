// `adambench sweep`: hyper-parameter studies over seeds, and verdicts on tuning advice (docs/tuning.md).
#include "cli/command.h"
#include "sweep/sweep.h"

namespace adambench {
namespace {

command_run sweep_options_of(CLI::App& c, int&) {
  struct state {
    std::string suite, data, text, tensorboard, model, model_data;
    std::vector<std::string> studies;
    int seeds = 0;
    run_options run;
  };
  auto s = std::make_shared<state>();
  c.add_option("suite", s->suite, "suite file (TOML) with a [sweep] table, or a shipped suite's name (e.g. tuning, tuning-smoke)")->required();
  c.add_option("--out", s->run.out, "folder for sweep.json and curves/*.csv");
  c.add_option("--impl", s->run.impls, "implementations for every study (repeatable; default: the suite's)");
  c.add_option("--study", s->studies, "run only studies whose name contains this (repeatable)");
  c.add_option("--seeds", s->seeds, "run seeds 0..N-1 instead of the suite's")->check(int_at_least(1));
  c.add_option("--data-dir", s->data, "MNIST-format folder (default: /usr/share/datasets/fashion-mnist)");
  c.add_option("--text", s->text, "text corpus for char_lm (default: /usr/share/common-licenses/GPL-3)");
  c.add_option("--shard", s->run.shard, "run the I-th of N interleaved slices of the studies (join with `adambench merge`)");
  c.add_option("--tensorboard", s->tensorboard, "folder for TensorBoard event files (one per run, with hparams; docs/tensorboard.md)");
  c.add_flag("--quiet", s->run.quiet, "no progress lines");
  c.add_flag("--allow-empty", s->run.allow_empty, "exit 0, not 3, when every run was skipped");
  c.add_option("--model", s->model, "TorchScript module (.pt): every study trains it instead of its workload (needs --data)");
  c.add_option("--data", s->model_data, "npz with x_train, y_train, x_val, y_val for --model");
  return [s](const command_env& env) {
    sweep_suite suite = read_suite(s->suite, parse_sweep_suite);
    if (s->model.empty() != s->model_data.empty()) throw input_error("sweep: --model and --data go together");
    if (!s->model.empty())
      for (auto& st : suite.studies) {  // the study's settings stay; only what it trains changes
        workload_spec w;
        w.name = "torchscript";
        w.str = {{"model", s->model}, {"data", s->model_data}};
        if (auto task = st.base.workload.str.find("task"); st.base.workload.name == "torchscript" && task != st.base.workload.str.end())
          w.str["task"] = task->second;
        st.base.workload = w;
      }
    s->run.prepare(env.reg);
    sweep_options o;
    o.conv.impls = s->run.impls;
    if (s->seeds > 0) o.conv.seed_count = s->seeds;
    o.conv.data_dir = s->data;
    o.conv.text_file = s->text;
    o.conv.threads = env.threads;
    o.conv.quiet = s->run.quiet;
    o.conv.allow_empty = s->run.allow_empty;
    o.conv.out = s->run.out_dir();
    if (!s->tensorboard.empty()) o.conv.tensorboard = s->tensorboard;
    o.study_filter = s->studies;
    o.shard = s->run.shard_slice();
    return run_sweep(suite, env.reg, o);
  };
}

ADAMBENCH_REGISTER_COMMAND("sweep", "hyper-parameter studies over seeds, and verdicts on tuning advice (docs/tuning.md)", 110, sweep_options_of);

}  // namespace
}  // namespace adambench
