// Speed results (Google Benchmark JSON with adambench's context and rows, docs/speed.md) as the
// gate, merge and history see them. Google Benchmark's format has no "kind": its facts are the
// "adambench.*" strings of its context.
#include "core/stats.h"
#include "gate/gate_detail.h"
#include "gate/result_kind.h"

#include <algorithm>
#include <map>
#include <set>

namespace adambench {

namespace {

using nlohmann::json;
using namespace gate_detail;

std::map<std::string, std::string> speed_setup(const json& j) {
  const json& c = j["context"];
  return {{"suite", suite_name(str_or(c, "adambench.suite", "?"))},
          {"thread counts", str_or(c, "adambench.thread_counts", "?")},
          {"thread pinning", str_or(c, "adambench.pinned", "?")}};
}

piece_facts speed_pieces(const json& j) {
  const json& c = j["context"];
  return {str_or(c, "adambench.suite", "?"), str_or(c, "adambench.build.git_commit", "?"), str_or(c, "adambench.thread_counts", "?"),
          str_or(c, "adambench.shard", "1/1"), str_or(c, "adambench.run_id", "")};
}

// Each repeated run's entries keep their own run numbers, shifted past the runs before it.
long long speed_renumber_runs(json& doc, long long offset) {
  long long most = 1;
  for (auto& b : doc["benchmarks"]) {
    const long long r = b.contains("adambench_run") ? b["adambench_run"].get<long long>() : 1;
    most = std::max(most, r);
    b["adambench_run"] = offset + r;
  }
  return most;
}

void speed_history_head(const json& j, history::parsed_result& r) {
  const json& ctx = j.contains("context") && j["context"].is_object() ? j["context"] : json::object();
  r.commit = str_or(ctx, "adambench.build.git_commit", "unknown");
  r.created = str_or(ctx, "adambench.created", str_or(ctx, "date", ""));
  r.hostname = str_or(ctx, "adambench.machine.hostname", str_or(ctx, "host_name", ""));
  r.suite = str_or(ctx, "adambench.suite", "");
  r.shard = str_or(ctx, "adambench.shard", "");
  r.machine = json::object();
  r.build = json::object();
  for (auto& [k, v] : ctx.items()) {
    if (k.starts_with("adambench.machine.")) r.machine[k.substr(18)] = v;
    if (k.starts_with("adambench.build.")) r.build[k.substr(16)] = v;
  }
}

double to_ns(double t, const std::string& unit) {
  if (unit == "us") return t * 1e3;
  if (unit == "ms") return t * 1e6;
  if (unit == "s") return t * 1e9;
  return t;
}

// The median over repetitions of every benchmark's time and counters.
void speed_figures(const json& j, std::vector<history::figure>& out) {
  static const std::set<std::string> standard{"family_index", "per_family_instance_index", "repetitions", "repetition_index",
                                              "threads", "iterations", "real_time", "cpu_time"};
  // Repetitions of one benchmark: "iteration" rows; a file with aggregates only uses its median row.
  std::map<std::string, std::vector<const json*>> reps, medians;
  for (auto& b : j["benchmarks"]) {
    if (!b.is_object()) continue;
    std::string name = b.value("run_name", b.value("name", ""));
    if (name.empty()) continue;
    if (name.size() > 10 && name.ends_with("/real_time")) name.resize(name.size() - 10);
    const std::string type = b.value("run_type", "iteration");
    if (type == "iteration") reps[name].push_back(&b);
    else if (b.value("aggregate_name", "") == "median") medians[name].push_back(&b);
  }
  for (auto& [name, m] : medians)
    if (!reps.count(name)) reps[name] = m;
  for (auto& [name, rows] : reps) {
    if (rows.front()->value("error_occurred", false)) continue;  // a benchmark that skipped itself
    const std::string key = "speed/" + name;
    // A row above the limit (docs/speed.md) is a measurement problem: its fractions are not results.
    const json& first = *rows.front();
    const bool over_limit = first.contains("over_limit") && first["over_limit"].is_boolean() && first["over_limit"].get<bool>();
    std::map<std::string, std::vector<double>> vals;
    for (auto* r : rows) {
      const std::string unit = r->value("time_unit", "ns");
      if (r->contains("real_time")) vals["time_ns"].push_back(to_ns(number_or_nan((*r)["real_time"]), unit));
      if (r->contains("cpu_time")) vals["cpu_time_ns"].push_back(to_ns(number_or_nan((*r)["cpu_time"]), unit));
      for (auto& [k, v] : r->items())
        if (v.is_number() && !standard.count(k)) vals[k].push_back(v.get<double>());  // counters, e.g. params_per_second
    }
    const int n = static_cast<int>(rows.size());
    if (over_limit) vals.erase("probe_fraction"), vals.erase("limit_fraction");
    for (auto& [metric, v] : vals) put_figure(out, key, metric, stats::median(v), n);
    put_figure(out, key, "repetitions", n, n);
  }
}

int speed_direction(const std::string& benchmark, const std::string& metric) {
  if (benchmark.starts_with("speed/probe/")) return 0;  // the machine's bandwidth, not the code's speed
  if (metric == "time_ns") return -1;
  if (metric == "params_per_second" || metric == "probe_fraction") return +1;
  // Memory per step (bytes, footprint): less is better; bandwidth (bytes_per_second) is neutral.
  if ((metric.find("memory") != std::string::npos || metric.find("bytes") != std::string::npos) && metric.find("per_second") == std::string::npos)
    return -1;
  return 0;
}

}  // namespace

const result_kind& speed_result_kind() {
  static const result_kind k = [] {
    result_kind d;
    d.name = "speed";
    d.order = 2;
    d.kind_field = false;
    d.compare = gate_detail::compare_speed;
    d.setup = speed_setup;
    d.shard_lists = {"benchmarks", "adambench_rows"};  // shards also join the harness's per-row summary
    d.repeat_lists = {"benchmarks"};                   // repeated runs of one build keep the first run's
    d.pieces = speed_pieces;
    d.renumber_runs = speed_renumber_runs;
    d.history_list = "benchmarks";
    d.history_head = speed_history_head;
    d.figures = speed_figures;
    d.direction = speed_direction;
    return d;
  }();
  return k;
}

}  // namespace adambench
