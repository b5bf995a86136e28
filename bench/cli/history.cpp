// `adambench history`: results kept across commits in SQLite, add / show / check (docs/history.md).
#include "adambench/errors.h"
#include "cli/command.h"
#include "core/stats.h"
#include "gate/compare.h"
#include "history/store.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>

namespace adambench {
namespace {

using namespace history;

struct history_cli {
  CLI::App *history = nullptr, *add = nullptr, *show = nullptr, *check = nullptr;
  std::string db, filter;
  std::vector<std::string> inputs;
  int since = 1, recent = 0;
  detect_options det;
};

void add_history_options(CLI::App& cmd, history_cli* h) {
  h->history = &cmd;
  h->history->require_subcommand(1);
  h->add = h->history->add_subcommand("add", "store agree, speed, converge or sweep results (all files or none; a run already stored is skipped)");
  h->add->add_option("results", h->inputs, "result files (agree.json, speed.json, converge.json, sweep.json, merged shards) or folders of them")->required();
  h->add->add_option("--db", h->db, "history file (SQLite; created when missing)")->required();
  h->show = h->history->add_subcommand("show", "per-figure trends: latest, best ever, change since N commits, last change point");
  h->show->add_option("--db", h->db, "history file")->required();
  h->show->add_option("--filter", h->filter, "only figures whose \"BENCHMARK METRIC\" matches this regular expression");
  h->show->add_option("--since", h->since, "change against the run N commits back (default 1)")->check(int_at_least(1));
  h->check = h->history->add_subcommand("check", "exit 1 when the newest run sits after a regression step or at the end of a regression drift");
  h->check->add_option("--db", h->db, "history file")->required();
  h->check->add_option("--filter", h->filter, "only figures whose \"BENCHMARK METRIC\" matches this regular expression");
  h->check->add_option("--recent", h->recent, "only steps among the newest N runs count (default: any step not undone since)")->check(int_at_least(0));
  h->check->add_option("--window", h->det.window, "runs on each side of a candidate step (default 8)")->check(CLI::Range(2, 100));
  h->check->add_option("--alpha", h->det.alpha, "level of the U test at each candidate step (default 0.001)")->check(CLI::Range(0.0, 0.5));
  h->check->add_option("--min-effect", h->det.min_effect, "smallest relative change of the median that counts (default 0.05)")->check(CLI::Range(0.0, 10.0));
}

std::string num(double v) {
  if (std::isinf(v)) return v > 0 ? "never" : "-inf";
  if (std::isnan(v)) return "-";
  return fmt::format("{:.4g}", v);
}
std::string pct(double r) {
  if (std::isnan(r)) return "-";
  if (std::isinf(r)) return r > 0 ? "+inf" : "-inf";
  return fmt::format("{:+.1f}%", 100.0 * r);
}
std::string short_commit(const std::string& c) {
  const bool dirty = c.ends_with("-dirty");
  const std::string h = dirty ? c.substr(0, c.size() - 6) : c;
  return (h.size() > 10 ? h.substr(0, 10) : h) + (dirty ? "-dirty" : "");
}

std::string where(const series& s, std::size_t i) {
  const auto& p = s.points[i];
  return fmt::format("run {} of {} (commit {}, {})", i + 1, s.points.size(), short_commit(p.commit), p.created);
}

std::string describe(const series& s, const change_point& c) {
  if (c.kind == "drift")
    return fmt::format("drift {} from {} to {}: median of the first third {} -> last third {} (U test p={:.2g})", pct(c.rel_change),
                       where(s, c.from), where(s, c.index), num(c.before), num(c.after), c.p);
  return fmt::format("step {} at {}: median {} -> {} ({})", pct(c.rel_change), where(s, c.index), num(c.before), num(c.after),
                     c.p >= 0 ? fmt::format("U test p={:.2g}", c.p) : "tail rule: each newer run far beyond the older runs' spread");
}

std::vector<double> values(const series& s) {
  std::vector<double> x;
  for (auto& p : s.points) x.push_back(p.value);
  return x;
}

int show(history_cli& h) {
  store st = store::open(h.db, false);
  auto all = st.load_series(h.filter);
  if (st.run_count() == 0) {
    fmt::print(stderr, "adambench: {}: no runs stored\n", h.db);
    return 3;
  }
  if (all.empty()) {
    fmt::print(stderr, "adambench: {}: no figure matches --filter '{}'\n", h.db, h.filter);
    return 3;
  }
  std::size_t w = 6;
  for (auto& s : all) w = std::max(w, s.benchmark.size() + s.metric.size() + 1);
  const std::string since = fmt::format("vs {} back", h.since);
  fmt::print("{:<{}}  {:>4}  {:>11}  {:>11}  {:>9}  {}\n", "figure", w, "runs", "latest", "best", since, "last change point");
  for (auto& s : all) {
    const auto x = values(s);
    const double latest = x.back();
    std::string best = "-";
    if (s.better != 0) best = num(s.better < 0 ? *std::min_element(x.begin(), x.end()) : *std::max_element(x.begin(), x.end()));
    // Commits in run order; a dirty or unknown build counts as its own commit.
    std::vector<std::string> keys;
    std::vector<std::size_t> group(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::string k = commit_key(s.points[i].commit, s.points[i].run_id);
      if (keys.empty() || keys.back() != k) keys.push_back(k);
      group[i] = keys.size() - 1;
    }
    std::string change = "-";
    if (keys.size() > static_cast<std::size_t>(h.since)) {
      const std::size_t g = keys.size() - 1 - static_cast<std::size_t>(h.since);
      std::vector<double> ref;
      for (std::size_t i = 0; i < x.size(); ++i)
        if (group[i] == g) ref.push_back(x[i]);
      change = pct(relative_change(stats::median(ref), latest));
    }
    auto cps = detect_changes(x, s.better);
    std::string last = "-";
    if (!cps.empty()) {
      auto& c = cps.back();
      last = fmt::format("{} {}{} at run {}", c.kind, pct(c.rel_change), c.regression ? " (regression)" : s.better ? " (improvement)" : "",
                         c.index + 1);
    }
    fmt::print("{:<{}}  {:>4}  {:>11}  {:>11}  {:>9}  {}\n", s.benchmark + " " + s.metric, w, x.size(), num(latest), best, change, last);
  }
  fmt::print("{} figures, {} runs in {}\n", all.size(), st.run_count(), h.db);
  return 0;
}

int check(history_cli& h) {
  store st = store::open(h.db, false);
  if (st.run_count() == 0) {
    fmt::print(stderr, "adambench: {}: no runs stored: nothing checked\n", h.db);
    return 3;
  }
  int checked = 0, alarms = 0, changes = 0;
  for (auto& s : st.load_series(h.filter)) {
    if (s.better == 0) continue;
    const auto x = values(s);
    if (x.size() < static_cast<std::size_t>(h.det.min_history) + 1) continue;
    ++checked;
    auto cps = detect_changes(x, s.better, h.det);
    changes += static_cast<int>(cps.size());
    const change_point* last_step = nullptr;
    for (auto& c : cps)
      if (c.kind == "step") last_step = &c;
    for (auto& c : cps) {
      bool alarm = false;
      if (&c == last_step && c.regression && (h.recent == 0 || c.index + static_cast<std::size_t>(h.recent) >= x.size())) alarm = true;
      if (c.kind == "drift" && c.regression && c.index + 1 == x.size()) alarm = true;
      if (!alarm) continue;
      ++alarms;
      fmt::print("REGRESSION {} {}: {}\n", s.benchmark, s.metric, describe(s, c));
    }
  }
  if (checked == 0) {
    fmt::print(stderr, "adambench: {}: no figure with a direction has {} runs or more: nothing checked\n", h.db, h.det.min_history + 1);
    return 3;
  }
  fmt::print("history check: {} figures, {} change points, {} regressions at the newest run (window {}, alpha {}, min effect {:.0f}%)\n",
             checked, changes, alarms, h.det.window, h.det.alpha, 100.0 * h.det.min_effect);
  return alarms ? 1 : 0;
}

int run_history(history_cli& h) {
  if (h.add->parsed()) {
    // Every file is read and validated (load_result, as compare and merge read) before the history
    // is opened: a bad one adds nothing.
    std::vector<parsed_result> rs;
    for (auto& p : h.inputs) {
      std::error_code ec;
      if (!std::filesystem::is_directory(p, ec)) {
        rs.push_back(parse_result_file(p));
        continue;
      }
      // A folder: every result file in it and below, in name order.
      std::vector<std::filesystem::path> found;
      for (auto& e : std::filesystem::recursive_directory_iterator(p, ec)) {
        const auto n = e.path().filename().string();
        if (e.is_regular_file() && (n == "agree.json" || n == "speed.json" || n == "converge.json" || n == "sweep.json" || n == "count.json"))
          found.push_back(e.path());
      }
      if (ec) throw input_error(fmt::format("{}: cannot list the folder: {}", p, ec.message()));
      if (found.empty()) throw input_error(fmt::format("{}: no agree.json, speed.json, converge.json, sweep.json or count.json in this folder", p));
      std::sort(found.begin(), found.end());
      for (auto& f : found) rs.push_back(parse_result_file(f));
    }
    store st = store::open(h.db, true);
    auto rep = st.add(rs);
    fmt::print("history: added {} runs ({} already stored), {} runs in {}\n", rep.added, rep.duplicates, st.run_count(), h.db);
    return 0;
  }
  if (h.show->parsed()) return show(h);
  if (h.check->parsed()) return check(h);
  return 2;
}

command_run history_options_of(CLI::App& cmd, int&) {
  auto h = std::make_shared<history_cli>();
  add_history_options(cmd, h.get());
  return [h](const command_env&) { return run_history(*h); };
}

ADAMBENCH_REGISTER_COMMAND("history", "results kept across commits in SQLite: add, show trends, check for regressions", 100,
                           history_options_of);

}  // namespace
}  // namespace adambench
