#pragma once
/// The sweep runner: hyper-parameter studies around a base convergence case (one factor at a time,
/// or full grids), every point trained by every listed implementation over the listed seeds
/// through the convergence runner, summarised per point (median and bootstrap interval over seeds)
/// and, where a study states a claim (a piece of tuning advice), judged by a written rule.
/// docs/tuning.md describes the suite format, the metrics and the verdict rule.
#include "converge/converge.h"

#include <map>
#include <variant>

namespace adambench {

/// One value of a swept factor, e.g. lr = 0.001 or schedule = "cosine".
struct factor_value {
  std::variant<double, std::int64_t, std::string, bool> v;
  std::string label;  ///< as in point names: "0.001", "cosine"
};

/// A swept factor: a [[converge.case]] field, or beta1, beta2, batch_size, algo (adam | adamw | sgd-momentum).
struct sweep_factor {
  std::string name;
  std::vector<factor_value> values;
};

/// A piece of advice as a comparison of two settings (or, for kind lr_batch_exponent, the slope
/// of the best lr against batch size), judged over seeds by the rule in docs/tuning.md.
struct sweep_claim {
  std::string advice;
  std::string kind = "compare";   ///< compare | lr_batch_exponent
  std::string metric = "final_val_loss";  ///< final_val_loss | final_train_loss | final_val_acc | gap | steps_to_target
  bool higher_is_better = false;
  bool relative = true;           ///< effect as a fraction of b's value (compare), else in the metric's units
  double min_effect = 0.02;       ///< the smallest effect that matters
  std::vector<std::pair<std::string, factor_value>> a, b;  ///< settings of the advised point and of the baseline
};

/// One study: a base case, its factors, how they combine, and an optional claim.
struct sweep_study {
  std::string name;
  converge_case base;
  std::vector<sweep_factor> factors;
  bool grid = false;  ///< false: one factor at a time around the base
  /// mode "list": each point's settings (factors it does not name keep the base's value).
  std::vector<std::vector<std::pair<std::string, factor_value>>> listed;
  std::vector<std::string> impls;
  std::vector<std::uint64_t> seeds;
  std::vector<sweep_claim> claims;
};

struct sweep_suite {
  std::string source;
  std::vector<std::string> impls;
  std::vector<std::uint64_t> seeds{0, 1, 2};
  std::vector<sweep_study> studies;
};

/// Parses the [sweep] part of a suite; throws input_error naming the file, study and field.
/// Relative paths in a study (data_dir, text, a workload's path options) resolve against the
/// folder of `source` when it is a file.
sweep_suite parse_sweep_suite(const std::string& text, const std::string& source);
/// "one_factor", "grid" or "list".
const char* mode_name(const sweep_study& s);

/// A point of a study: its settings, as a convergence case.
struct sweep_point {
  std::size_t study = 0;
  std::vector<std::pair<std::string, factor_value>> settings;  ///< the factors' values here
  bool is_base = false;
  converge_case c;
};
/// The points of every study (base first in one-factor and list mode; the cartesian product in grid mode).
std::vector<sweep_point> sweep_points(const sweep_suite& suite);

/// Per point x implementation: medians and intervals over seeds.
struct point_summary {
  std::size_t point = 0;  ///< into sweep_result::points
  std::string impl;
  int seeds = 0;          ///< seeds that ran (not skipped or interrupted)
  stats::median_ci final_train_loss, final_val_loss, final_val_acc, gap, steps_to_target, time_to_target;
  int diverged = 0;
  std::vector<std::int64_t> diverged_at;  ///< per diverged seed
  std::string skip_reason;
  std::vector<std::size_t> runs;          ///< into sweep_result::conv.runs
};

/// A claim's outcome.
struct claim_result {
  std::size_t study = 0;
  std::size_t claim = 0;  ///< into the study's claims
  std::string impl, compared;
  std::vector<double> per_seed;  ///< the effect at each seed both points ran
  stats::median_ci effect;
  std::string verdict;           ///< holds here | does not hold here | inconclusive
  std::string why;
};

struct sweep_result {
  sweep_suite suite;
  std::vector<sweep_point> points;
  converge_result conv;              ///< one converge case per point
  std::vector<point_summary> summaries;
  std::vector<claim_result> claims;
  bool empty_slice = false;          ///< this shard's slice held no study (N > studies)
};

struct sweep_options {
  converge_options conv;             ///< impls, seeds, data, threads, quiet, out
  std::vector<std::string> study_filter;
  std::pair<int, int> shard{1, 1};   ///< studies i with i % N == I - 1
};

/// Runs every point and computes summaries and claims.
sweep_result compute_sweep(const sweep_suite& suite, const registry& reg, const sweep_options& opt);
/// Per seed, the value of metric `m` (a claim's metric names) of a summary's runs; a failed run
/// counts as the worst value (+inf loss, 0 accuracy).
std::map<std::uint64_t, double> per_seed(const sweep_result& res, const point_summary& s, const std::string& m);
/// The improvement of a over b as claim `c` measures it (> 0: a is better); a failure on one side
/// is -inf or +inf, on both 0.
double paired_effect(double a, double b, const sweep_claim& c);
/// Sets c.effect (median and interval of c.per_seed) and c.verdict by verdict_rule().
void judge_claim(claim_result& c, const sweep_claim& cl);
/// The rule of claim verdicts, as written into sweep.json and docs/tuning.md.
const char* verdict_rule();
/// How an interval over `n` seeds was made, stated honestly for small n.
std::string interval_method(int n);

/// Reporters (sweep/sweep_report.cpp).
void print_sweep_summary(const sweep_result& res);
nlohmann::json sweep_json(const sweep_result& res, const sweep_options& opt);
/// Event files per run (scalars per evaluation and hparams summaries) and the hparams experiment under `dir`.
void write_sweep_tensorboard(const sweep_result& res, const std::filesystem::path& dir);
/// curves/*.csv and sweep.json under opt.conv.out; event files under opt.conv.tensorboard.
void write_sweep_outputs(const sweep_result& res, const sweep_options& opt);
/// compute_sweep, then the reporters. 0; 1 when a run errs; 130 when interrupted.
int run_sweep(const sweep_suite& suite, const registry& reg, const sweep_options& opt);

}  // namespace adambench
