// Agreement: absolute tolerances decide pass/fail (no baseline needed); against the baseline the
// gate checks coverage and tracks error growth.
#include "adambench/errors.h"
#include "gate/gate_detail.h"

#include <cmath>
#include <fmt/format.h>
#include <map>

namespace adambench::gate_detail {

using nlohmann::json;

namespace {

std::string agree_key(const json& r) {
  return fmt::format("{} {} {} seed {}", r["case"].get<std::string>(), r["impl"].get<std::string>(), r["dtype"].get<std::string>(),
                     r["seed"].get<long long>());
}

// Worst error over every checked array, in u * bound; a non-finite error (JSON null) is infinite.
double worst_err(const json& r) {
  double w = 0;
  for (const auto& c : r["checks"])
    for (const char* a : {"params", "m", "v", "max_v"})
      if (c.contains(a)) {
        const json& e = c[a]["max_err_u"];
        w = std::max(w, e.is_number() ? e.get<double>() : INFINITY);
      }
  return w;
}

// A "pass" must be backed by its checks: a file edited into a pass is not one.
std::string pass_contradiction(const json& r) {
  if (r["checks"].empty()) return "verdict pass without a single check";
  for (const auto& c : r["checks"]) {
    if (!c["ok"].get<bool>()) return fmt::format("verdict pass but the check after {} steps failed", c["step"].get<long long>());
    for (const char* a : {"params", "m", "v", "max_v"})
      if (c.contains(a) && c[a]["failed"].get<long long>() > 0)
        return fmt::format("verdict pass but {} values of {} failed after {} steps", c[a]["failed"].get<long long>(), a,
                           c["step"].get<long long>());
  }
  return {};
}

std::string verdict_of(const json& r) {
  std::string v = r["verdict"].get<std::string>();
  if (v == "pass" && !pass_contradiction(r).empty()) return "fail";
  return v;
}

std::string failure_detail(const json& r) {
  if (auto c = pass_contradiction(r); r["verdict"] == "pass" && !c.empty()) return c;
  return r.value("first_mismatch", r.value("reason", "disagrees with the reference"));
}

std::map<std::string, const json*> index_of(const doc_list& files, const char* side) {
  std::map<std::string, const json*> m;
  for (auto* f : files)
    for (const auto& r : (*f)["results"])
      if (!m.emplace(agree_key(r), &r).second)
        throw input_error(fmt::format("compare: the {} holds {} twice (a shard merged twice?)", side, agree_key(r)));
  return m;
}

void judge_pair(const std::string& k, const json& b, const json& c, const gate_options& o, gate_report& rep, int& passed) {
  if (b.value("config", "") != c.value("config", ""))
    throw input_error(fmt::format("compare: {}: configurations differ ('{}' vs '{}'): not comparable", k, b.value("config", ""),
                                  c.value("config", "")));
  const std::string bv = verdict_of(b), cv = verdict_of(c);
  if (cv == "skip") {
    if (bv != "skip") add_missing(rep, o, "agree", k, "newly skipped: " + c.value("reason", "no reason given"));
    return;  // skipped on both sides: nothing compared
  }
  ++rep.compared;
  if (cv == "error") return add_missing(rep, o, "agree", k, "error: " + failure_detail(c));
  if (cv != "pass") return add_row(rep, o, "agree", k, "regression", failure_detail(c));
  if (bv == "fail" || bv == "error") return add_row(rep, o, "agree", k, "improvement", "passes now (the baseline failed)");
  const double now = worst_err(c), before = bv == "pass" ? worst_err(b) : 0.0;
  if (bv == "pass" && now > o.growth_floor_u && now > o.growth_factor * before)
    return add_row(rep, o, "agree", k, "warning", fmt::format("error grew {:.3g} -> {:.3g} u*bound (within tolerance)", before, now));
  ++passed;
}

}  // namespace

void compare_agree(const doc_list& base, const doc_list& cand, const gate_options& o, gate_report& rep) {
  const auto b = index_of(base, "baseline"), c = index_of(cand, "candidate");
  int passed = 0;
  for (const auto& [k, br] : b) {
    auto it = c.find(k);
    if (it == c.end()) add_missing(rep, o, "agree", k, "in the baseline, not in the candidate");
    else judge_pair(k, *br, *it->second, o, rep, passed);
  }
  for (const auto& [k, cr] : c) {
    if (b.count(k)) continue;
    const std::string v = verdict_of(*cr);
    if (v == "fail" || v == "error") add_row(rep, o, "agree", k, "regression", failure_detail(*cr) + " (new case)");
    else add_row(rep, o, "agree", k, "new", v == "skip" ? "new, skipped: " + cr->value("reason", "") : "new, passes");
  }
  if (passed) {
    rep.unchanged += passed;
    rep.rows.push_back({"agree", fmt::format("{} cases", passed), "pass", "within tolerance, no error growth"});
  }
}

}  // namespace adambench::gate_detail
