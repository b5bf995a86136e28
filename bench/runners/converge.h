#pragma once
/// The convergence runner: every selected implementation trains each workload from the same
/// initial weights and data order (per seed), across batch sizes, seeds and lr schedules; results
/// are curves (CSV), steps/time to a target, divergence, drift from the reference implementation's
/// curve, throughput. docs/convergence.md describes the suite fields, metrics and thresholds.
#include "core/adam_config.h"
#include "core/optimizer.h"
#include "core/stats.h"
#include "runners/schedules.h"
#include "workloads/workload.h"

#include <filesystem>
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
  double sgd_lr = 0.01, sgd_momentum = 0.9;
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

/// Name of the SGD-with-momentum baseline row (torch.optim.SGD semantics), converge runner only.
inline constexpr const char* sgd_baseline_name = "sgd-momentum";

using stats::bootstrap_median;
using stats::median_ci;

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
};

/// Checks every case's inputs (files, options, implementation names) before any work: throws input_error.
void check_converge_inputs(const converge_suite& suite, const registry& reg, const converge_options& opt);
/// Runs the suite, prints the summary, writes converge.json and the curves.
/// Returns 0, 1 when a case's `expect` is not met, 3 when every run was skipped (0 with
/// allow_empty), 130 when interrupted.
int run_converge(const converge_suite& suite, const registry& reg, const converge_options& opt);

}  // namespace adambench
