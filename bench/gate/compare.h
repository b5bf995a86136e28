#pragma once
/// The regression gate: compares candidate results against a baseline, and joins shards.
///   coverage    every baseline result needs its counterpart; missing, newly skipped, errored or
///               interrupted is a regression; results of different kinds, suites, thread counts or
///               configurations are not compared at all (input_error); comparing nothing is too
///   agreement   absolute tolerances (no baseline needed) plus error growth against the baseline
///   speed       whole runs are the samples: a Welch t-test over the runs' medians AND a minimum
///               effect no smaller than the benchmark's measured A/A noise floor (speed_gate.cpp)
///   convergence by a band around the baseline: seed spread plus the rounding drift between correct
///               implementations (docs/convergence.md); bitwise curves with `exact`
///   counted     estimated cycles and simulated DRAM bytes per step from Valgrind (count.json): the
///               same at any load, one run per side; different compilers, flags, ISAs or cache
///               models are not compared (count_gate.cpp)
/// Every file is checked against its JSON Schema (schemas/) before it is read.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace adambench {

/// One result file as read and validated: its kind ("agree", "speed", "converge", ...) and content.
struct loaded_result {
  std::filesystem::path path;
  std::string kind;
  nlohmann::json json;
};

/// Reads one result file and validates it against its kind's schema. Throws input_error with one
/// line (the file, and the JSON path of the first mismatch) for anything else.
loaded_result load_result(const std::filesystem::path& file);
/// Reads result files, or every *.json in a folder (load_result on each).
std::vector<loaded_result> load_results(const std::filesystem::path& file_or_dir);
/// Validates a document built in memory (ab, calibrate, merge) like load_result; `what` names it.
loaded_result checked_result(nlohmann::json doc, const std::string& what);

struct gate_options {
  double min_effect = 0.02;     ///< speed: floor of the minimum effect (the measured noise floor may raise it)
  double alpha = 0.05;          ///< speed: significance level of the t-test over run medians (with the noise floor)
  nlohmann::json noise;         ///< speed: A/A noise floors (an `adambench_noise` object); null: the baseline's
  double growth_factor = 4.0;   ///< agreement error growth flagged beyond this factor...
  double growth_floor_u = 1.0;  ///< ...and above this many u * bound
  bool allow_missing = false;   ///< missing, newly skipped or errored results warn instead of fail
  bool exact = false;           ///< convergence: curves must be bitwise identical (by digest)
  double count_min_effect = 0.01;  ///< counted speed: smallest relative change of a gated count (above its measured spread, docs/speed.md)
};

/// One comparison line. verdict: regression | improvement | no change | inconclusive | pass |
/// warning | new | missing.
struct gate_row {
  std::string kind, key, verdict, detail;
};

struct gate_report {
  std::vector<gate_row> rows;
  int regressions = 0, improvements = 0, inconclusive = 0, warnings = 0, unchanged = 0;
  int compared = 0;  ///< baseline results that met their counterpart and were judged
  int added = 0;     ///< candidate results with no baseline counterpart
};

/// Compares candidate with baseline. Throws input_error when they cannot be compared (kinds,
/// suites, threads or configurations differ) or when nothing was compared.
gate_report compare_results(const std::vector<loaded_result>& baseline, const std::vector<loaded_result>& candidate,
                            const gate_options& opt);
/// The verdict line: "✅ no regression: 632 results compared" or "❌ 3 regressions (...)".
std::string gate_verdict(const gate_report& r);
/// Markdown for a pull-request comment or CI job summary: verdict first, at most 60,000 characters.
std::string gate_markdown(const gate_report& r, const std::string& baseline, const std::string& candidate);
/// Plain-text table for the terminal.
std::string gate_text(const gate_report& r);
/// Exit status of a comparison: 1 with regressions, else 0.
int gate_exit_code(const gate_report& r);

/// Joins the shards of one `--shard I/N` run (same kind, suite, build, threads, run id and N; shards
/// 1..N once each), in shard order. With `run_id`, pieces of any other run are left out, so a stale
/// piece counts as missing. Throws input_error naming a missing or duplicated shard, or the two
/// runs of pieces that differ.
nlohmann::json merge_results(const std::vector<loaded_result>& parts, const std::optional<std::string>& run_id = std::nullopt);
/// Whether a result (a piece, or a merge of pieces) selected nothing: "empty_slice" (speed:
/// context "adambench.empty_slice").
bool selected_nothing(const nlohmann::json& result);
/// Joins repeated whole runs of one build (ab, calibrate): no shard bookkeeping. Speed entries are
/// tagged `adambench_run` (1, 2, ...) so the gate can tell the runs apart.
nlohmann::json merge_repeats(const std::vector<loaded_result>& parts);

/// Speed samples per benchmark from Google Benchmark JSON: the median real time (ns) and median
/// probe fraction of each whole run (entries tagged `adambench_run` by ab/calibrate; untagged
/// entries are one run). Repetitions inside one run are not independent samples: the gate never
/// tests over them. Exposed for tests and the A/A calibration.
struct speed_samples {
  std::vector<double> run_time_ns, run_fraction;  ///< one value per run (fractions: runs that had them)
  int errors = 0;                                 ///< repetitions that reported error_occurred
};
std::vector<std::pair<std::string, speed_samples>> speed_samples_of(const nlohmann::json& gbench);

/// The A/A noise floor of every benchmark over whole runs of one build: the largest relative
/// difference between two runs' medians, of the time and of the probe fraction. Returns an
/// `adambench_noise` object ({"method", "runs", "benchmarks": {name: {"time", "probe_fraction"}}});
/// benchmarks seen in fewer than two runs are left out.
nlohmann::json speed_noise_of(const std::vector<loaded_result>& runs);

}  // namespace adambench
