#pragma once
/// The agreement runner: every implementation against the float64 reference from identical
/// inputs, comparing parameters and all state at chosen steps.
#include "adambench/optimizer.h"
#include "agree/agree_suite.h"
#include "check/state_compare.h"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

namespace adambench {

struct agree_options {
  std::vector<std::string> impls;  ///< overrides the suite's list when not empty
  std::vector<dtype> dtypes;       ///< overrides the suite's list when not empty
  std::optional<int> seed_count;   ///< seeds 0..N-1 instead of the suite's
  int threads = 1;
  std::optional<std::filesystem::path> out;  ///< folder for agree.json
  bool quiet = false;                        ///< no progress lines
  std::pair<int, int> shard{1, 1};           ///< run cases i with i % N == I - 1 (`--shard I/N`)
  std::string filter;                        ///< ECMAScript regex searched in case names (`--filter`); empty: all
  bool allow_empty = false;                  ///< exit 0 rather than 3 when every selected case was skipped
};

/// One check step of one implementation: the comparison of every array and of the step counter.
struct agree_check {
  std::int64_t step = 0;                  ///< steps taken from the case's start
  std::int64_t got_step = 0, want_step = 0;  ///< step counters of the implementation and the reference
  std::vector<state_row> rows;            ///< params, m, v (, max_v): metrics and first failures
  double tolerance_u = 0;                 ///< tolerance_for(dtype).k
  bool ok = true;
};

/// One implementation on one case, dtype and seed.
struct agree_record {
  std::size_t case_index = 0;  ///< into agree_result::cases
  dtype type = dtype::float32;
  std::uint64_t seed = 0;
  std::string impl;
  std::string verdict = "pass";  ///< pass | fail | skip | error
  std::string reason;            ///< why skipped, or the error
  std::string first_mismatch;    ///< the first mismatching values, with the step and tolerance
  std::vector<agree_check> checks;
  double worst_ulp = 0, worst_rel = 0, worst_err_u = 0;  ///< over every check and array
};

/// One cell of the console table: one implementation on one case and dtype, over seeds.
struct agree_cell {
  int pass = 0, fail = 0, skip = 0;
  double err_u = 0;  ///< worst |error| / (u * bound) of the passing runs
};

using agree_key = std::pair<std::string, dtype>;  ///< (case name or implementation, dtype)

/// Everything an agreement run computed; the reporters (agree/agree_report.cpp) read only this.
struct agree_result {
  std::string source;                   ///< the suite's file name or "embedded:NAME"
  std::vector<agree_case> cases;        ///< the suite's cases (records index them)
  std::vector<std::string> impls;       ///< implementations run, in column order
  std::vector<dtype> dtypes;
  int threads = 1;                      ///< CPU threads the implementations were given
  std::pair<int, int> shard{1, 1};      ///< `--shard I/N`
  bool empty_slice = false;             ///< this shard's slice held no case (N > cases)
  std::vector<agree_record> records;    ///< in run order: case, dtype, seed, implementation
  std::vector<agree_key> rows;          ///< (case, dtype) in the order they ran
  std::map<agree_key, std::map<std::string, agree_cell>> cells;  ///< (case, dtype) -> implementation -> cell
  /// (implementation, dtype) -> steps taken -> worst ULP distance and worst |error| / (u * bound) over all cases.
  std::map<agree_key, std::map<std::int64_t, std::pair<double, double>>> growth;
  std::string stopped_at;  ///< the case and dtype an interrupt stopped the run before (empty: complete)
  double seconds = 0;
  int count(const std::string& verdict) const;  ///< records with this verdict
  int failed() const;                           ///< records that failed or erred
  /// The distinct skip reasons of each implementation.
  std::map<std::string, std::set<std::string>> skip_reasons() const;
};

/// Runs every selected case (--filter, then --shard) against the reference; prints progress on
/// stderr only. Throws input_error for an unknown implementation or a filter matching nothing.
agree_result compute_agree(const agree_suite& suite, const registry& reg, const agree_options& opt);

/// Reporters (agree/agree_report.cpp): the console table on stdout, and agree.json.
void print_agree_summary(const agree_result& res);
/// agree.json (kind "agree").
nlohmann::json agree_json(const agree_result& res);
/// Writes agree.json into the folder `out` and says so on stdout.
void write_agree_json(const agree_result& res, const std::filesystem::path& out);
/// Exit code: 0 all agree, 1 any disagrees, 3 nothing was compared (0 with allow_empty, or for an
/// empty shard slice), 130 interrupted.
int agree_exit_code(const agree_result& res, bool allow_empty = false);

/// compute_agree, then the reporters. Returns agree_exit_code().
int run_agree(const agree_suite& suite, const registry& reg, const agree_options& opt);

}  // namespace adambench
