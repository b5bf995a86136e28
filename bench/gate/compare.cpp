// The gate's frame: what may be compared with what, coverage, and each kind's comparison (result_kind).
#include "gate/compare.h"

#include "adambench/errors.h"
#include "gate/gate_detail.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>
#include <set>

namespace adambench {

using nlohmann::json;

namespace gate_detail {

void add_row(gate_report& rep, const gate_options& o, std::string kind, std::string key, std::string verdict, std::string detail) {
  if (verdict == "missing") verdict = o.allow_missing ? "warning" : "regression";
  if (verdict == "regression") ++rep.regressions;
  else if (verdict == "improvement") ++rep.improvements;
  else if (verdict == "inconclusive") ++rep.inconclusive;
  else if (verdict == "warning") ++rep.warnings;
  else if (verdict == "new") ++rep.added;
  else ++rep.unchanged;
  rep.rows.push_back({std::move(kind), std::move(key), std::move(verdict), std::move(detail)});
}

void add_missing(gate_report& rep, const gate_options& o, const std::string& kind, const std::string& key, const std::string& why) {
  add_row(rep, o, kind, key, "missing", why + (o.allow_missing ? " (allowed by --allow-missing)" : ""));
}

std::string suite_name(const std::string& source) {
  std::string s = source;
  if (s.rfind("embedded:", 0) == 0) s = s.substr(9);
  if (auto slash = s.find_last_of('/'); slash != std::string::npos) s = s.substr(slash + 1);
  if (s.size() > 5 && s.compare(s.size() - 5, 5, ".toml") == 0) s.resize(s.size() - 5);
  return s;
}

}  // namespace gate_detail

namespace {

using namespace gate_detail;

// The facts two results must share to be comparable: suite, threads and run configuration.
std::map<std::string, std::string> setup_of(const loaded_result& r) {
  const result_kind* k = find_result_kind(r.kind);
  return k && k->setup ? k->setup(r.json) : standard_setup(r.json);
}

// "a, b, c and d"
std::string and_list(const std::vector<std::string>& v) {
  if (v.size() < 2) return fmt::format("{}", fmt::join(v, ""));
  return fmt::format("{} and {}", fmt::join(v.begin(), v.end() - 1, ", "), v.back());
}

void require_same_setup(const std::vector<const loaded_result*>& files) {
  const auto s0 = setup_of(*files[0]);
  for (const auto* f : files) {
    const auto s = setup_of(*f);
    for (const auto& [what, v0] : s0)
      if (s.at(what) != v0)
        throw input_error(fmt::format("compare: {} and {} differ in {} ('{}' vs '{}'): not comparable", files[0]->path.string(),
                                      f->path.string(), what, v0, s.at(what)));
  }
}

std::set<std::string> kinds_of(const std::vector<loaded_result>& v) {
  std::set<std::string> k;
  for (const auto& r : v) k.insert(r.kind);
  return k;
}

// An interrupted run is incomplete on either side: never a pass, whatever it holds.
void flag_interrupted(const std::vector<const loaded_result*>& files, const char* side, const gate_options& o, gate_report& rep) {
  for (const auto* f : files)
    if (f->json.value("interrupted", false))
      add_row(rep, o, f->kind, f->path.string(), "regression",
              fmt::format("the {} run was interrupted{}: incomplete results are never a pass", side,
                          f->json.contains("stopped_before") ? " before " + str_or(f->json, "stopped_before", "?")
                          : f->json.contains("stopped_at")   ? " at " + str_or(f->json, "stopped_at", "?")
                                                             : ""));
}

void compare_kind(const std::string& kind, const std::vector<const loaded_result*>& b, const std::vector<const loaded_result*>& c,
                  const gate_options& o, gate_report& rep) {
  std::vector<const loaded_result*> both(b);
  both.insert(both.end(), c.begin(), c.end());
  require_same_setup(both);
  flag_interrupted(b, "baseline", o, rep);
  flag_interrupted(c, "candidate", o, rep);
  doc_list bd, cd;
  for (auto* f : b) bd.push_back(&f->json);
  for (auto* f : c) cd.push_back(&f->json);
  const result_kind* k = find_result_kind(kind);
  if (!k || !k->compare)
    throw input_error(fmt::format("compare: {} results are not gated (compare gates {} results)", kind,
                                  and_list(result_kind_names([](const result_kind& d) { return d.compare != nullptr; }))));
  k->compare(bd, cd, o, rep);
}

}  // namespace

gate_report compare_results(const std::vector<loaded_result>& baseline, const std::vector<loaded_result>& candidate, const gate_options& o) {
  const auto kb = kinds_of(baseline), kc = kinds_of(candidate);
  if (kb != kc)
    throw input_error(fmt::format("compare: the baseline holds {} results, the candidate {} results: different kinds are not compared",
                                  fmt::join(kb, "+"), fmt::join(kc, "+")));
  gate_report rep;
  for (const auto& kind : kb) {
    std::vector<const loaded_result*> b, c;
    for (auto& r : baseline)
      if (r.kind == kind) b.push_back(&r);
    for (auto& r : candidate)
      if (r.kind == kind) c.push_back(&r);
    compare_kind(kind, b, c, o, rep);
  }
  if (rep.compared == 0)
    throw input_error(fmt::format("compare: nothing compared: no baseline result met a comparable counterpart in the candidate "
                                  "({} missing or skipped)", rep.regressions + rep.warnings));
  return rep;
}

int gate_exit_code(const gate_report& r) { return r.regressions ? 1 : 0; }

}  // namespace adambench
