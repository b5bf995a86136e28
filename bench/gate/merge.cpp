// Joining the pieces of a sharded run, and repeated runs of one build (ab, calibrate).
#include "adambench/errors.h"
#include "gate/compare.h"
#include "gate/result_kind.h"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <optional>

namespace adambench {

using nlohmann::json;

namespace {

using gate_detail::str_or;

// The arrays that hold one kind's results: what merging concatenates (none: not mergeable).
std::vector<std::string> list_fields(const std::string& kind, bool shards) {
  const result_kind* k = find_result_kind(kind);
  if (!k) return {};
  return shards ? k->shard_lists : k->repeat_lists;
}

// What must agree between pieces (result_kind::pieces).
piece_facts facts_of(const loaded_result& r) {
  const result_kind* k = find_result_kind(r.kind);
  return k && k->pieces ? k->pieces(r.json) : gate_detail::standard_pieces(r.json);
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

std::string run_text(const std::string& id) { return id.empty() ? "no run id" : fmt::format("run '{}'", id); }

// With a run id given, pieces of any other run are left out: they count as missing, never as
// present. Returns the pieces kept; `stale` maps each left-out piece's shard ("I/N") to a line
// naming it and its run, for the error that then names the missing shard.
std::vector<loaded_result> of_run(const std::vector<loaded_result>& parts, const std::optional<std::string>& run_id,
                                  std::map<std::string, std::string>& stale) {
  if (!run_id) return parts;
  std::vector<loaded_result> kept;
  for (const auto& p : parts) {
    const piece_facts f = facts_of(p);
    if (f.run_id == *run_id) kept.push_back(p);
    else stale.emplace(f.shard, fmt::format("{} is shard {} of {}", p.path.string(), f.shard, run_text(f.run_id)));
  }
  if (kept.empty())
    throw input_error(fmt::format("merge: none of the {} pieces belongs to run '{}' ({})", parts.size(), *run_id, stale.begin()->second));
  return kept;
}

// Every piece shares kind, suite, build, threads, run and N; shards 1..N appear exactly once.
void check_pieces(const std::vector<loaded_result>& parts, const std::map<std::string, std::string>& stale) {
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
    if (f.run_id != f0.run_id)
      throw input_error(fmt::format("merge: shard {} ({}) is of {} but shard {} ({}) of {}: pieces of different runs", f.shard, p.path.string(),
                                    run_text(f.run_id), f0.shard, first.path.string(), run_text(f0.run_id)));
    const auto [i, ni] = parse_shard_text(f.shard, p.path.string());
    if (ni != n)
      throw input_error(fmt::format("merge: {} is shard {} but {} is shard {}: different shard counts", p.path.string(), f.shard,
                                    first.path.string(), f0.shard));
    if (auto [it, fresh] = seen.emplace(i, p.path.string()); !fresh)
      throw input_error(fmt::format("merge: shard {}/{} given twice ({} and {})", i, n, it->second, p.path.string()));
  }
  for (int i = 1; i <= n; ++i) {
    if (seen.count(i)) continue;
    const auto s = stale.find(fmt::format("{}/{}", i, n));
    throw input_error(fmt::format("merge: shard {}/{} is missing ({} of {} shards{} given{})", i, n, seen.size(), n,
                                  f0.run_id.empty() ? "" : fmt::format(" of run '{}'", f0.run_id),
                                  s == stale.end() ? "" : "; " + s->second + ", left out"));
  }
}

int shard_index(const loaded_result& p) { return parse_shard_text(facts_of(p).shard, p.path.string()).first; }

// Concatenates the result lists onto the head of parts[head]; summary counts add up (shards hold
// disjoint cases).
json concatenate(const std::vector<loaded_result>& parts, const std::vector<std::string>& fields, std::size_t head = 0) {
  if (fields.empty()) throw input_error(fmt::format("merge: {} results cannot be merged", parts[0].kind));
  json out = parts[head].json;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i == head) continue;
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

bool selected_nothing(const json& result) {
  if (auto c = result.find("context"); c != result.end() && c->is_object() && c->contains("adambench.empty_slice")) return true;
  return result.value("empty_slice", false);
}

json merge_results(const std::vector<loaded_result>& parts_in, const std::optional<std::string>& run_id) {
  if (parts_in.empty()) throw input_error("merge: no inputs");
  std::map<std::string, std::string> stale;
  std::vector<loaded_result> parts = of_run(parts_in, run_id, stale);
  check_pieces(parts, stale);
  // Shard order, whatever order the files came in; the head (context, suite, ...) is that of the
  // first piece that selected something, so an empty slice's bare head never stands for the run.
  std::stable_sort(parts.begin(), parts.end(), [](const loaded_result& a, const loaded_result& b) { return shard_index(a) < shard_index(b); });
  std::size_t head = 0;
  while (head + 1 < parts.size() && selected_nothing(parts[head].json)) ++head;
  const bool nothing = selected_nothing(parts[head].json);
  json out = concatenate(parts, list_fields(parts[0].kind, true), head);
  const bool has_context = out.contains("context") && out["context"].is_object();
  out.erase("shard");
  if (has_context) out["context"].erase("adambench.shard");
  if (!nothing) {  // when every piece selected nothing, the merged result says so too (selected_nothing)
    out.erase("empty_slice");
    if (has_context) out["context"].erase("adambench.empty_slice");
  }
  return out;
}

json merge_repeats(const std::vector<loaded_result>& parts) {
  if (parts.empty()) throw input_error("merge: no inputs");
  for (const auto& p : parts)
    if (p.kind != parts[0].kind)
      throw input_error(fmt::format("{}: a {} result cannot be merged with {} results", p.path.string(), p.kind, parts[0].kind));
  const result_kind* k = find_result_kind(parts[0].kind);
  if (!k || !k->renumber_runs) return concatenate(parts, list_fields(parts[0].kind, false));
  // Each part's runs keep their own numbers, shifted past the runs of the parts before it.
  std::vector<loaded_result> tagged = parts;
  long long offset = 0;
  for (auto& p : tagged) offset += k->renumber_runs(p.json, offset);
  return concatenate(tagged, list_fields(parts[0].kind, false));
}

}  // namespace adambench
