#pragma once
/// Result kinds: what the gate, merge and history need of each kind of result file, one descriptor
/// per kind in its folder (bench/KIND/KIND_kind.cpp), compiled into the gate library (no LibTorch).
/// The table of kinds is generated from those files (bench/gate/CMakeLists.txt), so adding a kind
/// is adding its folder and its schema, never a branch in the gate, merge or history.
#include "gate/compare.h"

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace adambench {

namespace history {

/// One figure of one run: a number (value; NaN is not stored) or a text (e.g. a curve digest).
struct figure {
  std::string benchmark, metric;
  double value = 0;
  bool has_value = true;
  std::string text;
  int repetitions = 0;  ///< samples the value is the median of (speed repetitions, seeds); 0 unknown
};

/// A result file read for the store: its identity (content hash), context and figures.
struct parsed_result {
  std::string path, kind, hash, commit, created, hostname, suite, shard;
  nlohmann::json machine, build;
  bool interrupted = false, merged = false;
  std::vector<figure> figures;
};

}  // namespace history

/// What must agree between the pieces of one sharded run (merge).
struct piece_facts {
  std::string suite, build, threads, shard, run_id;
};

/// One result kind. Null functions take the standard reading of adambench's own result files
/// (gate_detail::standard_setup, standard_pieces, standard_history_head).
struct result_kind {
  std::string name;  ///< the file's "kind" (also its schema: schemas/NAME.schema.json)
  int order = 0;     ///< where the kind appears in lists of kinds (messages)
  /// false: the format has no "kind" field (Google Benchmark JSON) and a file holding the
  /// history_list array is of this kind.
  bool kind_field = true;
  /// gate: baseline against candidate; null: the kind is not gated.
  void (*compare)(const std::vector<const nlohmann::json*>& base, const std::vector<const nlohmann::json*>& cand,
                  const gate_options& o, gate_report& rep) = nullptr;
  /// gate: the facts two compared results must share ("suite", "threads", ...: name to value).
  std::map<std::string, std::string> (*setup)(const nlohmann::json& doc) = nullptr;
  std::vector<std::string> shard_lists;   ///< merge: the arrays shards concatenate (empty: not mergeable)
  std::vector<std::string> repeat_lists;  ///< merge: the arrays repeated runs of one build concatenate
  piece_facts (*pieces)(const nlohmann::json& doc) = nullptr;  ///< merge: a piece's facts
  /// merge of repeated runs: numbers this run's entries past `offset` runs; returns the runs it holds.
  long long (*renumber_runs)(nlohmann::json& doc, long long offset) = nullptr;
  std::string history_list;  ///< history: the array a kept result holds (empty: not kept)
  /// history: the file's identity (commit, created, host, suite, shard, machine, build).
  void (*history_head)(const nlohmann::json& doc, history::parsed_result& r) = nullptr;
  /// history: the figures of one file.
  void (*figures)(const nlohmann::json& doc, std::vector<history::figure>& out) = nullptr;
  /// history: which way is better for a figure: -1 lower, +1 higher, 0 neutral (null: all neutral).
  int (*direction)(const std::string& benchmark, const std::string& metric) = nullptr;
};

/// Every result kind of this build, in `order`.
const std::vector<const result_kind*>& result_kinds();
/// The kind named `name`, or null.
const result_kind* find_result_kind(const std::string& name);
/// Names of the kinds for which `has` holds, in order.
std::vector<std::string> result_kind_names(bool (*has)(const result_kind&));

namespace gate_detail {
/// Suite and threads, from an adambench result's "suite" and "context.threads".
std::map<std::string, std::string> standard_setup(const nlohmann::json& doc);
/// Suite, build commit, threads, shard and run id of an adambench result.
piece_facts standard_pieces(const nlohmann::json& doc);
/// Commit, creation time, host, suite, shard, machine and build of an adambench result.
void standard_history_head(const nlohmann::json& doc, history::parsed_result& r);
/// A JSON string field, or `fallback` when it is missing or not a string.
std::string str_or(const nlohmann::json& j, const char* key, const std::string& fallback);
}  // namespace gate_detail

}  // namespace adambench
