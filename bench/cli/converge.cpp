// `adambench converge`: train workloads with every implementation (docs/convergence.md).
#include "cli/command.h"
#include "converge/converge.h"

namespace adambench {
namespace {

struct converge_state {
  std::string suite = "smoke", data, text, tensorboard, model, model_data;
  std::vector<std::string> cases;
  int seeds = 0;
  run_options run;
};

// --model: one case in code; the suite argument is not read.
converge_suite model_suite(const converge_state& v) {
  converge_suite suite;
  suite.source = "--model " + v.model;
  suite.impls = {"reference", "eigen", "libtorch"};
  converge_case c;
  c.name = "torchscript";
  c.workload.name = "torchscript";
  c.workload.str = {{"model", v.model}, {"data", v.model_data}};
  suite.cases.push_back(c);
  return suite;
}

command_run converge_options_of(CLI::App& c, int& threads) {
  auto v = std::make_shared<converge_state>();
  c.add_option("suite", v->suite, "suite file (TOML) with a [converge] table, or a shipped suite's name (default: smoke)");
  c.add_option("--impl", v->run.impls, "implementations to train with (repeatable; sgd-momentum is the baseline; default: the suite's)");
  c.add_option("--filter,--case", v->cases, "run only cases whose name matches this regex (repeatable: any; --case is an alias)");
  c.add_option("--seeds", v->seeds, "run seeds 0..N-1 instead of the suite's")->check(int_at_least(1));
  c.add_flag("--allow-empty", v->run.allow_empty, "exit 0, not 3, when every run was skipped");
  add_threads(&c, threads);
  c.add_option("--data-dir", v->data, "MNIST-format folder (default: /usr/share/datasets/fashion-mnist)");
  c.add_option("--text", v->text, "text corpus for char_lm (default: /usr/share/common-licenses/GPL-3)");
  c.add_option("--out", v->run.out, "folder for converge.json and curves/*.csv (checked as writable before the run)");
  c.add_option("--tensorboard", v->tensorboard, "folder for TensorBoard event files, one per run (docs/tensorboard.md)");
  c.add_flag("--quiet", v->run.quiet, "no progress lines");
  c.add_option("--model", v->model, "TorchScript module (.pt) to train instead of the suite's cases (needs --data; docs/extending.md)");
  c.add_option("--data", v->model_data, "npz with x_train, y_train, x_val, y_val for --model");
  c.add_option("--shard", v->run.shard, "run the I-th of N interleaved slices of the cases (join with `adambench merge`)");
  return [v](const command_env& env) {
    if (v->model.empty() != v->model_data.empty()) throw input_error("converge: --model and --data go together");
    const converge_suite suite = v->model.empty() ? read_suite(v->suite, parse_converge_suite) : model_suite(*v);
    converge_options co;
    co.impls = v->run.impls;
    co.case_filter = v->cases;
    if (v->seeds > 0) co.seed_count = v->seeds;
    co.data_dir = v->data;
    co.text_file = v->text;
    co.threads = env.threads;
    co.out = v->run.out_dir();
    if (!v->tensorboard.empty()) co.tensorboard = v->tensorboard;
    co.quiet = v->run.quiet;
    co.allow_empty = v->run.allow_empty;
    co.shard = v->run.shard_slice();
    for (auto& f : co.case_filter) check_regex(f, "--filter");  // repeatable: checked here, not by prepare
    v->run.prepare(env.reg);
    return run_converge(suite, env.reg, co);
  };
}

ADAMBENCH_REGISTER_COMMAND("converge", "train workloads with every implementation: curves, steps to target, drift", 40, converge_options_of);

}  // namespace
}  // namespace adambench
