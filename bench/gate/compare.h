#pragma once
/// The regression gate: compares candidate results against a baseline.
///   agreement   absolute tolerances (no baseline needed) plus error growth against the baseline
///   speed       two-sided Mann-Whitney U over repetitions AND a minimum effect size, on time and
///               on the fraction of the in-run bandwidth probe (meaningful across machines)
///   convergence deterministic cases exactly; seeded ones by final metric and steps-to-target
///               with their confidence intervals
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace adambench {

/// One result file as read: its kind ("agree", "speed", "converge") and content.
struct loaded_result {
  std::filesystem::path path;
  std::string kind;
  nlohmann::json json;
};

/// Reads result files, or every *.json in a folder. Throws input_error with one clear line for a
/// missing, truncated or foreign file.
std::vector<loaded_result> load_results(const std::filesystem::path& file_or_dir);

struct gate_options {
  double min_effect = 0.05;     ///< relative change below which speed is "no change"
  double alpha = 0.01;          ///< significance level of the U test
  double growth_factor = 4.0;   ///< agreement error growth flagged beyond this factor...
  double growth_floor_u = 1.0;  ///< ...and above this many u * bound
};

/// One comparison line. verdict: regression | improvement | no change | inconclusive | pass |
/// warning | new | missing.
struct gate_row {
  std::string kind, key, verdict, detail;
};

struct gate_report {
  std::vector<gate_row> rows;
  int regressions = 0, improvements = 0, inconclusive = 0, warnings = 0, unchanged = 0;
};

gate_report compare_results(const std::vector<loaded_result>& baseline, const std::vector<loaded_result>& candidate,
                            const gate_options& opt);
/// Markdown for a pull-request comment or a CI job summary.
std::string gate_markdown(const gate_report& r, const std::string& baseline, const std::string& candidate);
/// Plain-text table for the terminal.
std::string gate_text(const gate_report& r);

/// Joins shards (the same kind, from `--shard I/N` runs) into one result.
nlohmann::json merge_results(const std::vector<loaded_result>& parts);

/// Speed samples per benchmark from Google Benchmark JSON: real time per repetition (ns) and the
/// probe fraction per repetition when present. Exposed for tests and the A/A calibration.
struct speed_samples {
  std::vector<double> time_ns, probe_fraction;
};
std::vector<std::pair<std::string, speed_samples>> speed_samples_of(const nlohmann::json& gbench);

}  // namespace adambench
