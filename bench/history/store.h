#pragma once
/// The history store: every agree, speed, converge and sweep result kept in one SQLite file, one
/// row per run and one per figure, so trends and change points can be computed across commits.
/// Layout, migrations and the change-point method: docs/history.md.
#include "history/detect.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include "gate/result_kind.h"
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

struct sqlite3;

namespace adambench::history {

/// Schema this build writes (PRAGMA user_version); older files are migrated on open.
inline constexpr int schema_version = 2;
/// PRAGMA application_id of a history file ("ADMB"): any other SQLite file is foreign.
inline constexpr std::int32_t application_id = 0x41444d42;

// figure and parsed_result: gate/result_kind.h (each kind's figures live with the kind).

/// The history's reading of a result already read and validated by load_result (gate/compare.h):
/// its identity and figures. Throws input_error naming the file for a kind the history does not keep.
parsed_result parsed_from(const loaded_result& l);
/// Reads agree.json, speed.json (Google Benchmark JSON), converge.json, sweep.json or count.json
/// through load_result (the gate's reader: depth guard, schema validation), then parsed_from.
/// Throws input_error with one line naming the file (and the JSON path of a schema mismatch).
parsed_result parse_result_file(const std::filesystem::path& p);

/// Which way is better for a figure: -1 lower, +1 higher, 0 neutral (never a regression).
int direction_of(const std::string& kind, const std::string& benchmark, const std::string& metric);

/// Commits with a "-dirty" suffix or "unknown" do not identify the source: each such run counts
/// as its own commit ("COMMIT#RUN").
std::string commit_key(const std::string& commit, std::int64_t run_id);

/// One figure's history, oldest run first (runs ordered by creation time, then by id).
struct series {
  std::string kind, benchmark, metric;
  int better = 0;
  struct point {
    std::int64_t run_id = 0;
    std::string commit, created;
    double value = 0;
  };
  std::vector<point> points;
};

/// A change point as stored: the run ids of its ends.
struct stored_change {
  std::string benchmark, metric;
  change_point cp;
  std::int64_t from_run = 0, run = 0;
};

/// An open history file. Opening checks the file (quick_check, application_id, schema version)
/// before anything is written: a corrupt, foreign or newer file throws input_error, untouched.
class store {
 public:
  /// create: make the file when missing. target: the schema to migrate to (tests use older ones).
  static store open(const std::filesystem::path& path, bool create, int target = schema_version);
  store(store&&) noexcept;
  ~store();

  /// Schema version of the file (0: an empty file, nothing stored).
  int version() const { return version_; }
  std::int64_t run_count() const;

  struct add_report {
    int added = 0, duplicates = 0;
  };
  /// Adds results in one transaction (all or none) and recomputes the stored change points.
  add_report add(const std::vector<parsed_result>& results, const detect_options& o = {});

  /// Every numeric figure's history whose "benchmark metric" matches `filter` (ECMAScript regex, search).
  std::vector<series> load_series(const std::string& filter = "") const;
  /// Change points as `add` stored them.
  std::vector<stored_change> stored_changes() const;

  sqlite3* handle() { return db_; }

 private:
  store() = default;
  void migrate(int target);
  void recompute_changes(const detect_options& o);
  sqlite3* db_ = nullptr;
  std::string path_;
  int version_ = 0;
};

}  // namespace adambench::history
