#pragma once
/// The convergence runner: every selected implementation trains each workload from the same
/// initial weights and data order (per seed), across batch sizes, seeds and lr schedules; results
/// are curves (CSV), steps/time to a target, divergence, drift from the reference implementation's
/// curve, throughput. docs/convergence.md describes the suite fields, metrics and thresholds.
#include "adambench/config.h"
#include "adambench/optimizer.h"
#include "core/stats.h"
#include "converge/schedules.h"
#include "adambench/workload.h"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace adambench {

enum class lr_scaling { none, linear, sqrt };
/// What a case must show for the run to pass (exit 1 otherwise); "none" only reports.
enum class expectation { none, target, diverge };

/// One expanded [[converge.case]].
struct converge_case {
  std::string name;
  workload_spec workload;
  adam_config config;
  schedule_spec schedule;
  bool t_max_is_run_length = true;  ///< cosine/warmup_cosine t_max not given: the run's length in steps
  std::vector<std::int64_t> batch_sizes{128};
  lr_scaling scaling = lr_scaling::none;
  std::int64_t base_batch = 128;  ///< lr is the lr at this batch size when scaling
  std::int64_t steps = 0;         ///< budget in steps (0: from epochs)
  double epochs = 1.0;            ///< budget in epochs when steps == 0
  std::int64_t eval_every = 0;    ///< steps between evaluations (0: `evals` per run)
  std::int64_t evals = 20;
  std::optional<double> target;   ///< on target_metric
  bool target_is_accuracy = false;///< target_metric = "val_acc" (higher is better) or "val_loss"
  double explode_factor = 1e3;    ///< loss > factor * initial loss counts as divergence
  double sgd_lr = 0.01, sgd_momentum = 0.9;  ///< the sgd-momentum row's lr and momentum (config_for)
  double grad_scale = 1.0;        ///< gradients are multiplied by this before each step (small gradients, eps)
  expectation expect = expectation::none;
  /// Largest allowed max |val_loss - reference's val_loss| over the curve (exit 1 beyond; docs/convergence.md).
  std::optional<double> max_drift;
  std::vector<std::string> impls;     ///< overrides the suite's list when not empty
  std::vector<std::uint64_t> seeds;   ///< overrides the suite's list when not empty
};

struct converge_suite {
  std::string source;
  std::vector<std::string> impls;
  std::vector<std::uint64_t> seeds{0};
  std::vector<converge_case> cases;
};

/// Parses the [converge] part of a suite (arrays in scalar fields expand into one case per value,
/// as in [agree]); throws input_error naming the file, case and field.
converge_suite parse_converge_suite(const std::string& text, const std::string& source);

const char* to_string(lr_scaling s);
/// The learning rate at batch size `batch`: base * (batch/base_batch) (linear), its square root (sqrt), or base.
double scaled_lr(double base, lr_scaling s, std::int64_t batch, std::int64_t base_batch);

/// The configuration implementation `impl` trains with in case `c`: the case's Adam config, or for
/// a non-Adam baseline (sgd-momentum) its registered baseline_config of sgd_lr, sgd_momentum and
/// the case's weight decay.
adam_config config_for(const converge_case& c, const std::string& impl);

using stats::bootstrap_median;
using stats::median_ci;

/// One evaluation of a run: a row of the curve CSV.
struct curve_row {
  std::int64_t step = 0;
  double epoch = 0, lr = 0, train_loss = NAN, val_loss = NAN, val_acc = NAN, wall_s = 0;
};

/// One training run (case x batch size x seed x implementation).
struct run_result {
  std::string impl;
  std::string verdict = "ok";  ///< ok | diverged | skip | error | interrupted
  std::string reason;
  double lr = 0;
  std::int64_t steps_budget = 0, steps_done = 0;
  std::int64_t diverged_at = -1;
  std::int64_t steps_to_target = -1;
  double wall_to_target = NAN;
  std::vector<curve_row> curve;
  std::vector<float> final_params;  ///< kept only until the drift is computed
  double train_s = 0, opt_s = 0, eval_s = 0;
  std::int64_t samples = 0;
  /// Drift from the reference implementation at the same case, batch and seed.
  bool has_drift = false;
  double drift_val = 0, drift_train = 0, drift_acc = 0, drift_l2 = 0, drift_l2_rel = 0;
};

/// A run with where it belongs.
struct run_record {
  std::size_t case_index = 0;  ///< into converge_result::cases
  std::int64_t batch = 0;
  std::uint64_t seed = 0;
  run_result r;
};

/// Median and interval over seeds, per case x implementation x batch size.
struct aggregate_row {
  std::size_t case_index = 0;
  std::string impl;
  std::int64_t batch = 0;
  double lr = 0;
  median_ci val_loss, val_acc, steps, wall;
  bool has_acc = false;
  double fail_rate = NAN, throughput = NAN, opt_share = NAN;
  int seeds = 0;  ///< seeds counted (0: every run skipped; `note` says why)
  double drift_val = NAN, drift_l2 = NAN;
  bool has_drift = false;
  std::string note;
};

/// Median steps-to-target by batch size for one case x implementation, and where it stops falling.
struct batch_scaling_row {
  std::size_t case_index = 0;
  std::string impl;
  std::vector<std::pair<std::int64_t, double>> points;  ///< batch size, median steps (+inf: never)
  std::optional<std::int64_t> first_reached, stops_falling_at;
};

/// Everything a convergence run computed; the reporters read only this.
struct converge_result {
  std::string source;
  std::vector<converge_case> cases;  ///< after --case, --shard and data-dir overrides
  std::pair<int, int> shard{1, 1};   ///< `--shard I/N`
  bool empty_slice = false;          ///< this shard's slice held no case (N > cases)
  std::vector<run_record> runs;
  std::vector<aggregate_row> aggregates;
  std::vector<batch_scaling_row> scaling;
  std::vector<std::string> unmet;  ///< expectations not met, one line each
  std::string stopped_at;          ///< where an interrupt stopped the run (empty: complete)
  double seconds = 0;
  int count(const std::string& verdict) const;  ///< runs with this verdict
  int reached() const;                          ///< runs that reached their target
};

/// Keeps finished runs beyond one invocation (`adambench tune` and its --resume): asked before
/// each run, told after each run that finished (ok or diverged). A run it returns is not trained again.
class run_store {
 public:
  virtual ~run_store() = default;
  virtual std::optional<run_result> find(const converge_case& c, std::int64_t batch, std::uint64_t seed, const std::string& impl) = 0;
  virtual void keep(const converge_case& c, std::int64_t batch, std::uint64_t seed, const run_result& r) = 0;
};

struct converge_options {
  std::vector<std::string> impls;      ///< overrides suite and case lists when not empty
  std::optional<int> seed_count;       ///< seeds 0..N-1
  std::vector<std::string> case_filter;///< run only cases whose name matches one of these regexes (`--filter`, `--case`)
  std::string data_dir;                ///< overrides the cases' data_dir when not empty
  std::string text_file;               ///< overrides the cases' text when not empty
  int threads = 1;
  std::optional<std::filesystem::path> out;
  bool quiet = false;
  std::pair<int, int> shard{1, 1};     ///< `--shard I/N`: cases i with i % N == I - 1 (after --case)
  bool allow_empty = false;            ///< exit 0 rather than 3 when every run was skipped
  std::optional<std::filesystem::path> tensorboard;  ///< `--tensorboard DIR`: one event file per run
  run_store* store = nullptr;          ///< finished runs to reuse and keep (not owned)
};

/// Checks every case's inputs (files, options, implementation names) before any work: throws input_error.
void check_converge_inputs(const converge_suite& suite, const registry& reg, const converge_options& opt);
/// Trains every run of the suite and computes the per-run results, aggregates and batch scaling.
converge_result compute_converge(const converge_suite& suite, const registry& reg, const converge_options& opt);

/// Reporters (converge/converge_report.cpp): the console table, converge.json and the curves.
void print_converge_summary(const converge_result& res);
/// Relative path of a run's curve CSV under the output folder.
std::string curve_path(const converge_result& res, const run_record& run);
/// The CSV text of a curve (columns: converge_csv_columns).
std::string curve_csv(const std::vector<curve_row>& rows);
/// FNV-1a over the curve without wall_s: equal digests mean bitwise-identical curves.
std::string curve_digest(const std::vector<curve_row>& rows);
/// Writes every run's curve CSV under `out` (curve_path()).
void write_curves(const converge_result& res, const std::filesystem::path& out);
/// converge.json (kind "converge").
nlohmann::json converge_json(const converge_result& res, const converge_options& opt);
/// One TensorBoard event file per run under `dir` (converge/tensorboard_report.cpp): train and
/// validation loss, validation accuracy and lr at every evaluation.
void write_converge_tensorboard(const converge_result& res, const std::filesystem::path& dir);
/// Writes curves/*.csv and converge.json under opt.out, and event files under opt.tensorboard.
void write_converge_outputs(const converge_result& res, const converge_options& opt);
/// Exit code: 0, 1 when an expectation is not met or a run errs, 3 when every run was skipped
/// (0 with allow_empty), 130 when interrupted.
int converge_exit_code(const converge_result& res, bool allow_empty = false);

/// compute_converge, then the reporters. Returns converge_exit_code().
int run_converge(const converge_suite& suite, const registry& reg, const converge_options& opt);

}  // namespace adambench
