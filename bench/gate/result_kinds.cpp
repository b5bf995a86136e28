// The table of result kinds (generated from bench/*/*_kind.cpp) and what most kinds read alike.
#include "gate/gate_detail.h"
#include "gate/result_kind.h"

#include <algorithm>
#include <cmath>

namespace adambench {

using nlohmann::json;

std::vector<const result_kind*> generated_result_kinds();  // generated/result_kind_table.cpp

const std::vector<const result_kind*>& result_kinds() {
  static const std::vector<const result_kind*> kinds = [] {
    auto v = generated_result_kinds();
    std::stable_sort(v.begin(), v.end(), [](const result_kind* a, const result_kind* b) { return a->order < b->order; });
    return v;
  }();
  return kinds;
}

const result_kind* find_result_kind(const std::string& name) {
  for (const auto* k : result_kinds())
    if (k->name == name) return k;
  return nullptr;
}

std::vector<std::string> result_kind_names(bool (*has)(const result_kind&)) {
  std::vector<std::string> names;
  for (const auto* k : result_kinds())
    if (has(*k)) names.push_back(k->name);
  return names;
}

namespace gate_detail {

std::string str_or(const json& j, const char* key, const std::string& fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::map<std::string, std::string> standard_setup(const json& j) {
  std::string threads = "?";
  if (auto c = j.find("context"); c != j.end() && c->contains("threads") && (*c)["threads"].is_number_integer())
    threads = std::to_string((*c)["threads"].get<long long>());
  return {{"suite", suite_name(str_or(j, "suite", "?"))}, {"threads", threads}};
}

piece_facts standard_pieces(const json& j) {
  piece_facts f{str_or(j, "suite", "?"), "?", "?", str_or(j, "shard", "1/1"), ""};
  if (auto c = j.find("context"); c != j.end() && c->is_object()) {
    if (auto b = c->find("build"); b != c->end() && b->is_object()) f.build = str_or(*b, "git_commit", "?");
    if (auto t = c->find("threads"); t != c->end() && t->is_number_integer()) f.threads = std::to_string(t->get<long long>());
    f.run_id = str_or(*c, "run_id", "");
  }
  return f;
}

void standard_history_head(const json& j, history::parsed_result& r) {
  const json& ctx = j.contains("context") && j["context"].is_object() ? j["context"] : json::object();
  r.machine = ctx.contains("machine") ? ctx["machine"] : json::object();
  r.build = ctx.contains("build") ? ctx["build"] : json::object();
  r.commit = str_or(r.build, "git_commit", "unknown");
  r.created = str_or(ctx, "created", "");
  r.hostname = str_or(r.machine, "hostname", "");
  r.suite = str_or(j, "suite", "");
  r.shard = str_or(j, "shard", "");
  r.interrupted = j.value("interrupted", false);
}

double number_or_nan(const json& j) {
  if (j.is_number()) return j.get<double>();
  return std::nan("");
}

void put_figure(std::vector<history::figure>& f, std::string bench, std::string metric, double v, int reps) {
  history::figure x;
  x.benchmark = std::move(bench);
  x.metric = std::move(metric);
  x.value = v;
  x.has_value = !std::isnan(v);
  x.repetitions = reps;
  if (x.has_value) f.push_back(std::move(x));
}

int training_direction(const std::string&, const std::string& metric) {
  if (metric.find("acc") != std::string::npos) return +1;
  if (metric.find("loss") != std::string::npos || metric.find("steps_to_target") != std::string::npos ||
      metric.find("failure") != std::string::npos || metric.find("diverge") != std::string::npos)
    return -1;
  return 0;
}

}  // namespace gate_detail

}  // namespace adambench
