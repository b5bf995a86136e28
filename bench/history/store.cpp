#include "history/store.h"

#include "adambench/errors.h"
#include "core/results.h"
#include "core/stats.h"
#include "gate/result_kind.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>
#include <regex>
#include <sqlite3.h>
#include <sstream>
#include <functional>
#include <optional>
#include <set>

namespace adambench::history {

namespace fs = std::filesystem;
using nlohmann::json;

int direction_of(const std::string& kind, const std::string& benchmark, const std::string& metric) {
  const result_kind* k = find_result_kind(kind);
  return k && k->direction ? k->direction(benchmark, metric) : 0;
}

std::string commit_key(const std::string& commit, std::int64_t run_id) {
  if (commit.empty() || commit == "unknown" || commit.ends_with("-dirty")) return fmt::format("{}#{}", commit, run_id);
  return commit;
}

parsed_result parsed_from(const loaded_result& l) {
  const json& j = l.json;
  parsed_result r;
  r.path = l.path.string();
  r.kind = l.kind;
  const result_kind* k = find_result_kind(r.kind);
  if (!k || k->history_list.empty())
    throw input_error(fmt::format("{}: result kind '{}' is not kept in the history ({})", r.path, r.kind,
                                  fmt::join(result_kind_names([](const result_kind& d) { return !d.history_list.empty(); }), ", ")));
  // The schema (checked by load_result) fixed the schema version and the kind's list.
  (k->history_head ? k->history_head : gate_detail::standard_history_head)(j, r);
  if (k->figures) k->figures(j, r.figures);
  r.merged = j.contains("merged_from");
  // The same run copied, re-indented or merged from the same shards elsewhere hashes the same.
  json canon = j;
  canon.erase("merged_from");
  r.hash = sha256_hex(canon.dump());
  return r;
}

parsed_result parse_result_file(const fs::path& p) { return parsed_from(load_result(p)); }

// ---- SQLite -------------------------------------------------------------------------------------
namespace {

struct stmt {
  sqlite3_stmt* s = nullptr;
  sqlite3* db;
  stmt(sqlite3* d, const char* sql) : db(d) {
    if (sqlite3_prepare_v2(d, sql, -1, &s, nullptr) != SQLITE_OK) throw io_error(fmt::format("history: {}", sqlite3_errmsg(d)));
  }
  ~stmt() { sqlite3_finalize(s); }
  stmt& bind(int i, const std::string& v) { sqlite3_bind_text(s, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT); return *this; }
  stmt& bind(int i, double v) { sqlite3_bind_double(s, i, v); return *this; }
  stmt& bind(int i, std::int64_t v) { sqlite3_bind_int64(s, i, v); return *this; }
  stmt& bind(int i, int v) { sqlite3_bind_int(s, i, v); return *this; }
  stmt& null(int i) { sqlite3_bind_null(s, i); return *this; }
  bool step() {  // true: a row
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw io_error(fmt::format("history: {}", sqlite3_errmsg(db)));
  }
  void run() { step(); sqlite3_reset(s); }
  std::string text(int i) { auto* t = sqlite3_column_text(s, i); return t ? reinterpret_cast<const char*>(t) : ""; }
  double real(int i) { return sqlite3_column_type(s, i) == SQLITE_NULL ? std::nan("") : sqlite3_column_double(s, i); }
  std::int64_t integer(int i) { return sqlite3_column_int64(s, i); }
};

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown error";
    sqlite3_free(err);
    throw io_error(fmt::format("history: {}", m));
  }
}

// Migrations: index i takes a file from version i to i + 1. Never edit one that has shipped.
const char* const migrations[] = {
    // 0 -> 1: runs and their figures.
    R"(CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
       CREATE TABLE runs(id INTEGER PRIMARY KEY, content_hash TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
         commit_id TEXT NOT NULL, created TEXT NOT NULL, added TEXT NOT NULL, hostname TEXT NOT NULL,
         machine TEXT NOT NULL, build TEXT NOT NULL, suite TEXT NOT NULL, shard TEXT NOT NULL,
         merged INTEGER NOT NULL, interrupted INTEGER NOT NULL, source TEXT NOT NULL);
       CREATE TABLE figures(run_id INTEGER NOT NULL REFERENCES runs(id), benchmark TEXT NOT NULL,
         metric TEXT NOT NULL, value REAL, text TEXT, PRIMARY KEY(run_id, benchmark, metric));
       INSERT INTO meta VALUES('format', 'adambench history');)",
    // 1 -> 2: figure direction and sample count, an index for series, stored change points.
    R"(ALTER TABLE figures ADD COLUMN better INTEGER NOT NULL DEFAULT 0;
       ALTER TABLE figures ADD COLUMN repetitions INTEGER NOT NULL DEFAULT 0;
       CREATE INDEX figures_by_name ON figures(benchmark, metric);
       CREATE TABLE change_points(benchmark TEXT NOT NULL, metric TEXT NOT NULL, kind TEXT NOT NULL,
         method TEXT NOT NULL, from_run INTEGER NOT NULL, run_id INTEGER NOT NULL, value_before REAL, value_after REAL,
         rel_change REAL, p REAL, regression INTEGER NOT NULL);)",
};
static_assert(sizeof(migrations) / sizeof(migrations[0]) == schema_version);

}  // namespace

store::store(store&& o) noexcept : db_(o.db_), path_(std::move(o.path_)), version_(o.version_) { o.db_ = nullptr; }
store::~store() {
  if (db_) sqlite3_close(db_);
}

store store::open(const fs::path& path, bool create, int target) {
  store s;
  s.path_ = path.string();
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  if (!exists && !create) throw input_error(fmt::format("{}: no such history file", s.path_));
  if (exists && !fs::is_regular_file(path, ec)) throw input_error(fmt::format("{}: not a regular file", s.path_));
  if (!exists && path.has_parent_path() && !fs::is_directory(path.parent_path(), ec))
    throw input_error(fmt::format("{}: folder {} does not exist", s.path_, path.parent_path().string()));
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(s.path_.c_str(), &s.db_, flags, nullptr) != SQLITE_OK)
    throw input_error(fmt::format("{}: cannot open: {}", s.path_, s.db_ ? sqlite3_errmsg(s.db_) : "out of memory"));
  sqlite3_busy_timeout(s.db_, 60000);  // another `history add` holds the write lock: wait, do not fail
  sqlite3_extended_result_codes(s.db_, 1);
  // Read-only checks first: nothing is written to a file that fails them.
  auto bad = [&](const std::string& why) { return input_error(fmt::format("{}: {}", s.path_, why)); };
  std::vector<std::string> qc;
  {
    sqlite3_stmt* q = nullptr;
    int rc = sqlite3_prepare_v2(s.db_, "PRAGMA quick_check", -1, &q, nullptr);
    if (rc == SQLITE_OK)
      while ((rc = sqlite3_step(q)) == SQLITE_ROW) qc.push_back(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)));
    sqlite3_finalize(q);
    const int primary = rc & 0xff;
    if (primary == SQLITE_NOTADB) throw bad("not an SQLite database (not a history file, or its header is damaged)");
    if (primary == SQLITE_CORRUPT) throw bad("corrupt SQLite database");
    if (primary == SQLITE_BUSY) throw io_error(fmt::format("{}: locked by another process for over 60 s", s.path_));
    if (rc != SQLITE_DONE) throw bad(fmt::format("cannot read: {}", sqlite3_errmsg(s.db_)));
    if (qc.size() != 1 || qc[0] != "ok") {
      // quick_check answers with several lines: one line on stderr names the first problem.
      std::vector<std::string> problems;
      for (auto& row : qc) {
        std::istringstream ls(row);
        for (std::string l; std::getline(ls, l);)
          if (!l.empty() && !l.starts_with("***")) problems.push_back(l);
      }
      throw bad(fmt::format("corrupt SQLite database (quick_check: {}{})", problems.empty() ? "no answer" : problems[0],
                            problems.size() > 1 ? fmt::format(", and {} more problems", problems.size() - 1) : ""));
    }
  }
  auto facts = [&](std::int64_t& app, std::int64_t& ver, std::int64_t& objects) {
    stmt a(s.db_, "PRAGMA application_id");
    a.step();
    app = a.integer(0);
    stmt v(s.db_, "PRAGMA user_version");
    v.step();
    ver = v.integer(0);
    stmt o(s.db_, "SELECT count(*) FROM sqlite_master");
    o.step();
    objects = o.integer(0);
  };
  auto judge = [&](std::int64_t app, std::int64_t ver, std::int64_t objects) {
    if (app == 0 && objects == 0 && ver == 0) return;  // empty: a new history
    if (app != application_id) throw bad(fmt::format("an SQLite database of another application (application_id {:#x}), not an adambench history", app));
    if (ver > schema_version) throw bad(fmt::format("history schema {} is newer than this build reads (up to {})", ver, schema_version));
    if (ver < 1) throw bad("adambench history without a schema version (damaged)");
  };
  std::int64_t app = 0, ver = 0, objects = 0;
  facts(app, ver, objects);
  judge(app, ver, objects);
  s.version_ = static_cast<int>(ver);
  if (s.version_ < target && (create || s.version_ > 0)) {
    // Under the write lock, look again: a concurrent writer may have created or migrated it.
    exec(s.db_, "BEGIN IMMEDIATE");
    try {
      facts(app, ver, objects);
      judge(app, ver, objects);
      s.version_ = static_cast<int>(ver);
      if (s.version_ < target) s.migrate(target);
      exec(s.db_, "COMMIT");
    } catch (...) {
      sqlite3_exec(s.db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
  return s;
}

void store::migrate(int target) {
  const int from = version_;
  if (from == 0) exec(db_, fmt::format("PRAGMA application_id = {}", application_id));
  for (int v = from; v < target; ++v) {
    exec(db_, migrations[v]);
    if (v == 1) {
      // Data step of 1 -> 2: the direction of every figure stored so far.
      std::vector<std::tuple<std::string, std::string, std::string>> names;
      {
        stmt q(db_, "SELECT DISTINCT r.kind, f.benchmark, f.metric FROM figures f JOIN runs r ON r.id = f.run_id");
        while (q.step()) names.emplace_back(q.text(0), q.text(1), q.text(2));
      }
      stmt u(db_, "UPDATE figures SET better = ?1 WHERE benchmark = ?2 AND metric = ?3");
      for (auto& [k, b, m] : names) u.bind(1, direction_of(k, b, m)).bind(2, b).bind(3, m).run();
    }
    exec(db_, fmt::format("PRAGMA user_version = {}", v + 1));
  }
  version_ = target;
  if (from > 0 && target >= 2) recompute_changes(detect_options{});
}

std::int64_t store::run_count() const {
  if (version_ == 0) return 0;
  stmt q(db_, "SELECT count(*) FROM runs");
  q.step();
  return q.integer(0);
}

store::add_report store::add(const std::vector<parsed_result>& results, const detect_options& o) {
  if (version_ < schema_version) throw io_error(fmt::format("{}: history schema {} not migrated", path_, version_));
  add_report rep;
  exec(db_, "BEGIN IMMEDIATE");
  try {
    stmt ins(db_, "INSERT OR IGNORE INTO runs(content_hash, kind, commit_id, created, added, hostname, machine, build, suite, shard,"
                  " merged, interrupted, source) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
    stmt fig(db_, "INSERT OR REPLACE INTO figures(run_id, benchmark, metric, value, text, better, repetitions) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    const std::string now = utc_now();
    for (auto& r : results) {
      ins.bind(1, r.hash).bind(2, r.kind).bind(3, r.commit).bind(4, r.created.empty() ? now : r.created).bind(5, now)
          .bind(6, r.hostname).bind(7, r.machine.dump()).bind(8, r.build.dump()).bind(9, r.suite).bind(10, r.shard)
          .bind(11, r.merged ? 1 : 0).bind(12, r.interrupted ? 1 : 0).bind(13, r.path);
      ins.run();
      if (sqlite3_changes(db_) == 0) {
        ++rep.duplicates;
        continue;
      }
      const std::int64_t id = sqlite3_last_insert_rowid(db_);
      for (auto& f : r.figures) {
        fig.bind(1, id).bind(2, f.benchmark).bind(3, f.metric);
        if (f.has_value) fig.bind(4, f.value); else fig.null(4);
        if (f.text.empty()) fig.null(5); else fig.bind(5, f.text);
        fig.bind(6, direction_of(r.kind, f.benchmark, f.metric)).bind(7, f.repetitions);
        fig.run();
      }
      ++rep.added;
    }
    if (rep.added) recompute_changes(o);
    exec(db_, "COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  return rep;
}

std::vector<series> store::load_series(const std::string& filter) const {
  std::vector<series> out;
  if (version_ == 0) return out;
  std::optional<std::regex> re;
  if (!filter.empty()) {
    try {
      re.emplace(filter, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw input_error(fmt::format("--filter '{}': not a valid regular expression ({})", filter, e.what()));
    }
  }
  stmt q(db_, "SELECT r.kind, f.benchmark, f.metric, f.better, r.id, r.commit_id, r.created, f.value FROM figures f"
              " JOIN runs r ON r.id = f.run_id WHERE f.value IS NOT NULL ORDER BY f.benchmark, f.metric, r.created, r.id");
  while (q.step()) {
    const std::string b = q.text(1), m = q.text(2);
    if (out.empty() || out.back().benchmark != b || out.back().metric != m) {
      if (re && !std::regex_search(b + " " + m, *re)) continue;
      out.push_back({q.text(0), b, m, static_cast<int>(q.integer(3)), {}});
    }
    out.back().points.push_back({q.integer(4), q.text(5), q.text(6), q.real(7)});
  }
  return out;
}

void store::recompute_changes(const detect_options& o) {
  exec(db_, "DELETE FROM change_points");
  stmt ins(db_, "INSERT INTO change_points(benchmark, metric, kind, method, from_run, run_id, value_before, value_after, rel_change, p, regression)"
                " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  for (auto& s : load_series()) {
    std::vector<double> x;
    for (auto& p : s.points) x.push_back(p.value);
    for (auto& c : detect_changes(x, s.better, o)) {
      ins.bind(1, s.benchmark).bind(2, s.metric).bind(3, c.kind).bind(4, c.method)
          .bind(5, s.points[c.from].run_id).bind(6, s.points[c.index].run_id)
          .bind(7, c.before).bind(8, c.after).bind(9, c.rel_change);
      if (c.p < 0) ins.null(10); else ins.bind(10, c.p);
      ins.bind(11, c.regression ? 1 : 0);
      ins.run();
    }
  }
  exec(db_, fmt::format("INSERT OR REPLACE INTO meta VALUES('change_points', '{}')",
                        json{{"window", o.window}, {"alpha", o.alpha}, {"drift_alpha", o.drift_alpha}, {"min_effect", o.min_effect},
                             {"tail_z", o.tail_z}, {"min_history", o.min_history}}.dump()));
}

std::vector<stored_change> store::stored_changes() const {
  std::vector<stored_change> out;
  if (version_ < 2) return out;
  stmt q(db_, "SELECT benchmark, metric, kind, method, from_run, run_id, value_before, value_after, rel_change, p, regression FROM change_points");
  while (q.step()) {
    stored_change c;
    c.benchmark = q.text(0);
    c.metric = q.text(1);
    c.cp.kind = q.text(2);
    c.cp.method = q.text(3);
    c.from_run = q.integer(4);
    c.run = q.integer(5);
    c.cp.before = q.real(6);
    c.cp.after = q.real(7);
    c.cp.rel_change = q.real(8);
    c.cp.p = std::isnan(q.real(9)) ? -1 : q.real(9);
    c.cp.regression = q.integer(10) != 0;
    out.push_back(c);
  }
  return out;
}

}  // namespace adambench::history
