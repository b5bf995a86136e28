// Counted speed (count.json, docs/speed.md "Counted speed"). Counts do not depend on the machine's
// load, so one run per side decides: a gated figure (estimated cycles or simulated DRAM bytes per
// step) that worsens by more than the minimum effect is a regression, one that improves by more
// is an improvement. DRAM bytes are judged against the larger of the baseline and the algorithm's
// minimum traffic: a cache-resident step moves about 0 bytes, and 0 is no base for a ratio.
#include "adambench/errors.h"
#include "gate/gate_detail.h"

#include <cmath>
#include <fmt/format.h>
#include <map>

namespace adambench::gate_detail {

using nlohmann::json;

namespace {

std::map<std::string, const json*> rows_of(const doc_list& files, const char* side) {
  std::map<std::string, const json*> m;
  for (auto* f : files)
    for (const auto& r : (*f)["results"])
      if (!m.emplace(r["name"].get<std::string>(), &r).second)
        throw input_error(fmt::format("compare: the {} holds {} twice (a shard merged twice?)", side, r["name"].get<std::string>()));
  return m;
}

double step_figure(const json& r, const char* k) { return r["per_step"][k].get<double>(); }

/// One gated figure: its change relative to `ref` and what the row's detail says about it.
struct judged {
  double change;
  std::string text;
};

judged judge_figure(const char* what, double b, double c, double ref, const char* ref_text) {
  const double change = ref > 0 ? (c - b) / ref : (c > b ? INFINITY : 0.0);
  return {change, fmt::format("{} {:.6g} -> {:.6g} ({:+.2f}%{})", what, b, c, 100.0 * change, ref_text)};
}

void judge_pair(const std::string& k, const json& b, const json& c, const gate_options& o, gate_report& rep) {
  ++rep.compared;
  const double params = b.value("params", 0.0), min_bytes = params * b.value("min_bytes_per_param", 28.0);
  const double db = step_figure(b, "dram_bytes"), dc = step_figure(c, "dram_bytes");
  const judged cycles = judge_figure("est. cycles/step", step_figure(b, "est_cycles"), step_figure(c, "est_cycles"), step_figure(b, "est_cycles"), "");
  const judged dram = judge_figure("DRAM bytes/step", db, dc, std::max(db, min_bytes),
                                   db < min_bytes ? " of the minimum traffic: the baseline step is cache-resident" : "");
  const double effect = o.count_min_effect;
  const double worst = std::max(cycles.change, dram.change), best = std::min(cycles.change, dram.change);
  const std::string detail =
      fmt::format("{}; {}; instructions/param {:.4g} -> {:.4g}; min effect {:.1f}%", cycles.text, dram.text, b["per_param"]["instructions"].get<double>(),
                  c["per_param"]["instructions"].get<double>(), 100.0 * effect);
  if (worst > effect) return add_row(rep, o, "count", k, "regression", detail);
  if (best < -effect) return add_row(rep, o, "count", k, "improvement", detail);
  add_row(rep, o, "count", k, "no change", detail);
}

// A counted row the gate cannot use: not counted, or below the physical minimum (a measurement bug).
std::string unusable(const json& r) {
  const std::string v = r["verdict"];
  if (v == "skip") return "newly skipped: " + r.value("reason", "no reason given");
  if (v == "error") return "error: " + r.value("reason", "no reason given");
  if (r.value("below_minimum", false))
    return fmt::format("measurement problem: {:.3g} DRAM bytes/param, below the minimum {} with a working set above the simulated cache",
                       r["per_param"]["dram_bytes"].get<double>(), r.value("min_bytes_per_param", 28));
  return {};
}

}  // namespace

void compare_count(const doc_list& base, const doc_list& cand, const gate_options& o, gate_report& rep) {
  const auto b = rows_of(base, "baseline"), c = rows_of(cand, "candidate");
  for (const auto& [k, br] : b) {
    if ((*br)["verdict"] != "counted") continue;  // skipped or errored in the baseline: nothing to compare with
    if (const std::string why = unusable(*br); !why.empty()) {
      add_row(rep, o, "count", k, "regression", "the baseline's row is a " + why + ": refresh the baseline");
      continue;
    }
    auto it = c.find(k);
    if (it == c.end()) add_missing(rep, o, "count", k, "in the baseline, not in the candidate");
    else if (const std::string why = unusable(*it->second); !why.empty()) add_missing(rep, o, "count", k, why);
    else judge_pair(k, *br, *it->second, o, rep);
  }
  for (const auto& [k, cr] : c)
    if (!b.count(k)) add_row(rep, o, "count", k, "new", (*cr)["verdict"] == "counted" ? "new, counted" : "new, " + (*cr)["verdict"].get<std::string>());
}

}  // namespace adambench::gate_detail
