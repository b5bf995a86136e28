#pragma once
/// Internals shared by the gate's files (not installed): row bookkeeping and per-kind comparisons.
#include "gate/compare.h"
#include "gate/result_kind.h"

#include <string>
#include <vector>

namespace adambench::gate_detail {

/// Adds a row and counts it under its verdict ("missing" counts as a regression unless allowed).
void add_row(gate_report& rep, const gate_options& o, std::string kind, std::string key, std::string verdict,
             std::string detail);
/// A baseline result with no usable counterpart: regression, or warning under --allow-missing.
void add_missing(gate_report& rep, const gate_options& o, const std::string& kind, const std::string& key,
                 const std::string& why);
/// A suite's short name: "embedded:ci", "suites/ci.toml" and "/x/ci.toml" are all "ci".
std::string suite_name(const std::string& source);

/// A JSON number, or NaN for anything else (null, a string).
double number_or_nan(const nlohmann::json& j);
/// Adds a history figure; a NaN value is left out.
void put_figure(std::vector<history::figure>& f, std::string bench, std::string metric, double v, int reps = 0);
/// Training figures (converge, sweep): accuracy higher is better; loss, steps to target, failures lower.
int training_direction(const std::string& benchmark, const std::string& metric);

using doc_list = std::vector<const nlohmann::json*>;
void compare_agree(const doc_list& base, const doc_list& cand, const gate_options& o, gate_report& rep);
void compare_speed(const doc_list& base, const doc_list& cand, const gate_options& o, gate_report& rep);
void compare_converge(const doc_list& base, const doc_list& cand, const gate_options& o, gate_report& rep);
void compare_count(const doc_list& base, const doc_list& cand, const gate_options& o, gate_report& rep);

}  // namespace adambench::gate_detail
