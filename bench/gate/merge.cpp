// Joining the pieces of a sharded run, and repeated runs of one build (ab, calibrate).
#include "core/adam_config.h"
#include "gate/compare.h"

#include <algorithm>
#include <fmt/format.h>
#include <map>

namespace adambench {

using nlohmann::json;

namespace {

// The arrays that hold one kind's results: what merging concatenates.
std::vector<std::string> list_fields(const std::string& kind) {
  if (kind == "agree") return {"results"};
  if (kind == "converge") return {"runs", "aggregates", "batch_scaling", "expectations_unmet"};
  if (kind == "speed") return {"benchmarks"};
  if (kind == "sweep") return {"studies", "points", "claims"};  // shards split by study
  if (kind == "count") return {"results"};
  return {};
}

std::string str_or(const json& j, const char* key, const std::string& fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// What must agree between pieces; speed keeps it as "adambench.*" strings in its context.
struct piece_facts {
  std::string suite, build, threads, shard;
};

piece_facts facts_of(const loaded_result& r) {
  const json& j = r.json;
  if (r.kind == "speed") {
    const json& c = j["context"];
    return {str_or(c, "adambench.suite", "?"), str_or(c, "adambench.build.git_commit", "?"),
            str_or(c, "adambench.thread_counts", "?"), str_or(c, "adambench.shard", "1/1")};
  }
  piece_facts f{str_or(j, "suite", "?"), "?", "?", str_or(j, "shard", "1/1")};
  if (auto c = j.find("context"); c != j.end() && c->is_object()) {
    if (auto b = c->find("build"); b != c->end() && b->is_object()) f.build = str_or(*b, "git_commit", "?");
    if (auto t = c->find("threads"); t != c->end() && t->is_number_integer()) f.threads = std::to_string(t->get<long long>());
  }
  // Counted pieces are also one instrument: the same kernel flags and ISA.
  if (r.kind == "count" && j.contains("build") && j["build"].is_object())
    f.build += fmt::format(" ({}; {})", str_or(j["build"], "kernel_flags", "?"), str_or(j["build"], "isa", "?"));
  return f;
}

std::pair<int, int> parse_shard_text(const std::string& s, const std::string& what) {
  int i = 0, n = 0;
  char slash = 0, extra = 0;
  if (std::sscanf(s.c_str(), "%d%c%d%c", &i, &slash, &n, &extra) != 3 || slash != '/' || n < 1 || i < 1 || i > n)
    throw input_error(fmt::format("{}: shard '{}' is not I/N with 1 <= I <= N", what, s));
  return {i, n};
}

void require_same(const loaded_result& first, const loaded_result& p, const char* what, const std::string& a,
                  const std::string& b) {
  if (a != b)
    throw input_error(fmt::format("merge: {} and {} differ in {} ('{}' vs '{}')", first.path.string(), p.path.string(), what, a, b));
}

// Every piece shares kind, suite, build, threads and N; shards 1..N appear exactly once.
void check_pieces(const std::vector<loaded_result>& parts) {
  const loaded_result& first = parts[0];
  const piece_facts f0 = facts_of(first);
  const int n = parse_shard_text(f0.shard, first.path.string()).second;
  std::map<int, std::string> seen;
  for (const auto& p : parts) {
    if (p.kind != first.kind)
      throw input_error(fmt::format("merge: {} is a {} result, {} a {} result", p.path.string(), p.kind, first.path.string(), first.kind));
    const piece_facts f = facts_of(p);
    require_same(first, p, "suite", f0.suite, f.suite);
    require_same(first, p, "build (git commit)", f0.build, f.build);
    require_same(first, p, "threads", f0.threads, f.threads);
    const auto [i, ni] = parse_shard_text(f.shard, p.path.string());
    if (ni != n)
      throw input_error(fmt::format("merge: {} is shard {} but {} is shard {}: different shard counts", p.path.string(), f.shard,
                                    first.path.string(), f0.shard));
    if (auto [it, fresh] = seen.emplace(i, p.path.string()); !fresh)
      throw input_error(fmt::format("merge: shard {}/{} given twice ({} and {})", i, n, it->second, p.path.string()));
  }
  for (int i = 1; i <= n; ++i)
    if (!seen.count(i)) throw input_error(fmt::format("merge: shard {}/{} is missing ({} of {} shards given)", i, n, seen.size(), n));
}

// Concatenates the result lists; summary counts add up (shards hold disjoint cases).
json concatenate(const std::vector<loaded_result>& parts) {
  const std::string& kind = parts[0].kind;
  const auto fields = list_fields(kind);
  if (fields.empty()) throw input_error(fmt::format("merge: {} results cannot be merged", kind));
  json out = parts[0].json;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const json& p = parts[i].json;
    for (const auto& f : fields)
      if (auto it = p.find(f); it != p.end() && it->is_array())
        for (const auto& x : *it) out[f].push_back(x);
    if (p.contains("summary") && out.contains("summary"))
      for (auto& [k, v] : p["summary"].items())
        if (v.is_number() && out["summary"].contains(k) && out["summary"][k].is_number())
          out["summary"][k] = v.is_number_integer() && out["summary"][k].is_number_integer()
                                  ? json(out["summary"][k].get<long long>() + v.get<long long>())
                                  : json(out["summary"][k].get<double>() + v.get<double>());
    if (p.value("interrupted", false)) out["interrupted"] = true;
  }
  out["merged_from"] = json::array();
  for (auto& p : parts) out["merged_from"].push_back(p.path.string());
  return out;
}

}  // namespace

json merge_results(const std::vector<loaded_result>& parts) {
  if (parts.empty()) throw input_error("merge: no inputs");
  check_pieces(parts);
  json out = concatenate(parts);
  out.erase("shard");
  if (out.contains("context") && out["context"].is_object()) out["context"].erase("adambench.shard");
  return out;
}

json merge_repeats(const std::vector<loaded_result>& parts) {
  if (parts.empty()) throw input_error("merge: no inputs");
  for (const auto& p : parts)
    if (p.kind != parts[0].kind)
      throw input_error(fmt::format("{}: a {} result cannot be merged with {} results", p.path.string(), p.kind, parts[0].kind));
  if (parts[0].kind != "speed") return concatenate(parts);
  // Each part's runs keep their own numbers, shifted past the runs of the parts before it.
  std::vector<loaded_result> tagged = parts;
  long long offset = 0;
  for (auto& p : tagged) {
    long long most = 1;
    for (auto& b : p.json["benchmarks"]) {
      const long long r = b.contains("adambench_run") ? b["adambench_run"].get<long long>() : 1;
      most = std::max(most, r);
      b["adambench_run"] = offset + r;
    }
    offset += most;
  }
  return concatenate(tagged);
}

}  // namespace adambench
