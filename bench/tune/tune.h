#pragma once
/// `adambench tune`: a staged plan of sweep studies (suites/tune.toml) run on the user's TorchScript
/// model and data. The learning rate first (decades, then refined around the best), then one factor
/// at a time around the best lr; every stage is a sweep study (sweep/sweep.h) whose base the tune
/// fills in: the model, the run length, the values earlier stages picked. Before the first run a
/// few timed steps give the plan's cost, which --budget cuts down. Every finished run is kept under
/// DIR/runs/ (one file each, written whole), so an interrupted tune continues with --resume DIR.
/// docs/tuning.md ("Tune your own model") describes the plan, the rules and the outputs.
#include "sweep/sweep.h"

#include <functional>
#include <toml++/toml.h>

namespace adambench {

/// One stage of the plan: a [[sweep.study]] table without its base, which the tune fills in.
struct tune_stage {
  std::string name;
  toml::table study;                      ///< the stage's sweep keys (vary, mode, points, claim, case fields)
  std::string refine_factor;              ///< `refine = { lr = [ratios] }`: the best value so far times these
  std::vector<double> refine;
  std::string pick;                       ///< a case field whose best value becomes the base of later stages
  std::optional<toml::table> short_vary;  ///< the `vary` used when --budget is short
  std::vector<std::pair<std::string, double>> run_fractions;  ///< integer case fields = fraction x the run's steps
  bool same_epochs = false;               ///< the base counts epochs: every batch size sees the same samples
  bool baseline = false;                  ///< compared with Adam, never recommended (SGD)
  int priority = 0;                       ///< --budget drops the highest first; 0: never dropped
};

/// suites/tune.toml (or --plan FILE), parsed.
struct tune_plan {
  std::string source, text;
  std::vector<std::string> impls{"eigen"};
  std::vector<std::uint64_t> seeds{0, 1, 2};
  toml::table base;                       ///< [[converge.case]] fields of every stage's base
  std::int64_t min_steps = 20;            ///< --budget shortens no run below this
  std::string metric = "final_val_loss";  ///< what "best" means (lower is better; final_val_acc: higher)
  double min_effect = 0.02;               ///< the smallest improvement over the default that matters
  std::vector<tune_stage> stages;
};
/// Parses a plan; throws input_error naming the file, stage and field. Every stage is checked by
/// building its study for a stand-in model.
tune_plan parse_tune_plan(const std::string& text, const std::string& source);

/// The user's model and data: paths (absolute), content hashes (SHA-256) and sizes.
struct tune_inputs {
  std::string model, data, task;
  std::string model_sha256, data_sha256;
  std::int64_t n_train = 0, n_val = 0, n_params = 0;
};

/// A few timed steps of the model, before the plan is made.
struct tune_timing {
  std::string impl;
  std::int64_t batch = 0, steps = 0;
  double load_s = 0, step_s = 0, eval_s = 0;  ///< making the workload, one step at `batch`, one evaluation
  double grad_rms = 0;  ///< median over the weights of each weight's RMS gradient over the timed steps
};

/// What a tune runs, fixed before its first run and kept in DIR/runs/tune.manifest for --resume.
struct tune_settings {
  std::vector<std::string> impls;
  std::vector<std::uint64_t> seeds;
  std::int64_t batch = 0, steps = 0, evals = 0;  ///< the base batch size; steps and evaluations of a run at it
  std::vector<std::string> stages;              ///< kept stages, in plan order
  std::vector<std::string> short_stages;        ///< stages that run their short_vary
  std::vector<std::string> cuts;                ///< what --budget cut, one line each
  std::optional<double> budget_s;
  int threads = 1;
};

/// The values earlier stages picked (factor -> value), the base of later stages.
using tune_picks = std::map<std::string, double>;

/// The study of stage `st` with its base filled in. Throws input_error for a bad plan.
sweep_study tune_stage_study(const tune_plan& plan, const tune_stage& st, const tune_settings& set, const tune_inputs& in,
                             const tune_picks& picks, double grad_rms);
/// The AdamW weight decay whose per-step shrinking matches Adam + L2 with coefficient `l2` when
/// Adam's denominator sqrt(v) is `grad_rms`: wd = l2 / grad_rms (docs/tuning.md, "matched strength").
double matched_adamw_decay(double l2, double grad_rms);

/// The plan's cost: per stage, its points, the runs it adds, how many are reused, and the seconds.
struct tune_estimate {
  struct stage_cost {
    std::string name, what;
    std::size_t points = 0, runs = 0, reused = 0;
    double seconds = 0;
  };
  std::vector<stage_cost> stages;
  std::size_t points = 0, runs = 0, reused = 0;
  double seconds = 0;
};

/// A run's identity: everything that decides its outcome (the model and data by hash, the
/// effective configuration, schedule, steps, evaluations, batch size, seed, implementation, threads).
std::string tune_run_key(const converge_case& c, std::int64_t batch, std::uint64_t seed, const std::string& impl, const tune_inputs& in,
                         int threads);
/// A run's estimated seconds from the timing (step time proportional to the batch size).
double tune_run_seconds(const converge_case& c, std::int64_t batch, const tune_timing& t, std::int64_t n_train);
/// The cost of running `set` (runs already under `have` cost nothing), with stand-in picks: each
/// pick stage's grid value nearest the plan's base value (the number of distinct runs does not depend on it).
tune_estimate estimate_tune(const tune_plan& plan, const tune_settings& set, const tune_inputs& in, const tune_timing& t,
                            const std::function<bool(const std::string&)>& have);
/// `set` cut down until its estimate fits `budget_s`, recording each cut in set.cuts: seeds to 3,
/// then stages by priority, then the short grids, then steps halved down to min_steps. Throws
/// input_error when even the smallest plan does not fit.
tune_settings fit_budget(const tune_plan& plan, tune_settings set, const tune_inputs& in, const tune_timing& t, double budget_s);

/// The best value of one factor over seeds, against the default.
struct tune_recommendation {
  std::string factor;      ///< lr, beta1, beta2, eps, schedule, batch_size ...; a list stage's name
  std::string stage;
  bool baseline = false;   ///< a baseline comparison (SGD): reported, never applied
  std::size_t best = 0;    ///< into sweep.summaries
  std::optional<std::size_t> fallback;  ///< the default's summary (none when the default did not run)
  std::string best_text, default_text;  ///< "lr=0.00178", "schedule=constant"
  std::vector<std::string> grid;        ///< the values compared, in order
  claim_result vs_default;              ///< effect of the best over the default per seed, verdict by the rule
  bool at_edge = false;                 ///< the best is the smallest or largest value of a numeric grid
  bool seeds_agree = true;              ///< the seeds' own best values lie within one grid step
  std::string per_seed_best;            ///< "seed 0: 0.001, seed 1: 0.00178, ..."
  bool applied = false;                 ///< in the recommended settings
};

/// Everything a tune computed; the reporters read only this.
struct tune_result {
  std::string plan_source;
  tune_inputs in;
  tune_timing timing;
  tune_settings settings;
  tune_estimate estimate;
  std::string metric;
  double min_effect = 0.02;
  sweep_result sweep;                   ///< every stage as one study of one sweep
  std::vector<tune_recommendation> recs;
  converge_case recommended;            ///< the tuned case (the base with every applied change)
  std::int64_t recommended_steps = 0;
  double matched_l2 = NAN, matched_wd = NAN;  ///< the decay stage's Adam + L2 coefficient and its AdamW match
  std::size_t reused = 0;               ///< runs taken from DIR/runs/ instead of trained
  std::vector<std::string> notes;
  double seconds = 0;
};

/// The verdict line: the recommended settings, in words.
std::string tune_verdict(const tune_result& r);
/// The optimizer (and scheduler) as PyTorch code with torch.optim's real class names and arguments.
std::string tune_pytorch_snippet(const tune_result& r);
/// The tuned settings as a [[converge.case]] table (a suite of its own with the [converge] header).
std::string tune_converge_case(const tune_result& r);
/// Reporters (tune/tune_report.cpp): DIR/tune.md, DIR/tune.json, the curves, the event files.
nlohmann::json tune_json(const tune_result& r);
std::string tune_markdown(const tune_result& r);
void write_tune_outputs(const tune_result& r, const std::filesystem::path& dir);
void print_tune_plan(const tune_result& r);
void print_tune_summary(const tune_result& r);

/// Finished runs and the plan under DIR/runs/ (tune/tune_store.cpp: no LibTorch, so the readers'
/// fuzz build reads them too).
struct tune_manifest {
  std::string plan_source, plan_text;
  tune_inputs in;
  tune_timing timing;
  tune_settings settings;
};
nlohmann::json tune_manifest_json(const tune_manifest& m);
/// Reads DIR/runs/tune.manifest; throws input_error naming the file and what is wrong.
tune_manifest read_tune_manifest(const std::filesystem::path& file);
/// One finished run as JSON (non-finite numbers as "nan", "inf", "-inf").
nlohmann::json tune_run_json(const std::string& key, const run_result& r);
/// Reads a run file; throws input_error when it is malformed or holds another run than `key`
/// (empty `key`: any run, whose key goes to `key_out`).
run_result read_tune_run(const std::filesystem::path& file, const std::string& key, std::string* key_out = nullptr);
/// SHA-256 of a file's bytes (hex); throws input_error when it cannot be read.
std::string file_sha256(const std::string& path);
/// The file name of a run key under DIR/runs/.
std::string tune_run_file(const std::string& key);

/// What the command line asked for.
struct tune_request {
  std::string model, data, task, plan = "tune";
  std::optional<std::filesystem::path> out, resume;
  std::vector<std::string> impls;
  std::optional<int> seeds;
  std::optional<double> budget_min;
  int threads = 1;
  bool quiet = false;
};
/// The whole tune: checks, timing, plan, stages, outputs. 0 done; 1 a run erred; 130 interrupted.
/// Bad input (model, data, plan, options, budget, a resume folder of another model) throws
/// input_error before anything runs or is written.
int run_tune(const tune_request& req, const registry& reg);

}  // namespace adambench
