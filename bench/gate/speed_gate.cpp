// Speed: a two-sided Mann-Whitney U test over repetitions AND a minimum effect size, on time and on
// the fraction of the in-run bandwidth probe (meaningful across machines). Kept in its own file:
// the statistics here change apart from the rest of the gate.
#include "core/stats.h"
#include "gate/gate_detail.h"

#include <cmath>
#include <fmt/format.h>
#include <map>

namespace adambench {

using nlohmann::json;

namespace {

double to_ns(double t, const std::string& unit) {
  if (unit == "us") return t * 1e3;
  if (unit == "ms") return t * 1e6;
  if (unit == "s") return t * 1e9;
  return t;
}

std::string pct(double x) { return fmt::format("{:+.1f}%", 100.0 * x); }

void judge(gate_report& rep, const gate_options& o, const std::string& key, const std::string& what, const std::vector<double>& b,
           const std::vector<double>& c, bool higher_is_better) {
  using gate_detail::add_row;
  const double mb = stats::median(b), mc = stats::median(c);
  const double change = (mc - mb) / mb;  // relative change of the measured quantity
  const double worse = higher_is_better ? -change : change;
  std::string detail = fmt::format("{} median {:.4g} -> {:.4g} ({})", what, mb, mc, pct(change));
  if (!std::isfinite(change)) return add_row(rep, o, "speed", key, "inconclusive", detail + ": not a finite change");
  if (b.size() < 2 || c.size() < 2) {
    detail += fmt::format(", {} vs {} repetitions: no test possible", b.size(), c.size());
    return add_row(rep, o, "speed", key, std::fabs(change) >= o.min_effect ? "inconclusive" : "no change", detail);
  }
  auto u = stats::mann_whitney(b, c);
  detail += fmt::format(", U test p={:.3g} (n={}/{})", u.p, b.size(), c.size());
  if (std::fabs(change) < o.min_effect) add_row(rep, o, "speed", key, "no change", detail);
  else if (u.p >= o.alpha) add_row(rep, o, "speed", key, "inconclusive", detail);
  else add_row(rep, o, "speed", key, worse > 0 ? "regression" : "improvement", detail);
}

std::map<std::string, speed_samples> samples_of(const gate_detail::doc_list& files) {
  std::map<std::string, speed_samples> m;
  for (auto* f : files)
    for (auto& [k, s] : speed_samples_of(*f)) {
      auto& d = m[k];
      d.time_ns.insert(d.time_ns.end(), s.time_ns.begin(), s.time_ns.end());
      d.probe_fraction.insert(d.probe_fraction.end(), s.probe_fraction.begin(), s.probe_fraction.end());
      d.errors += s.errors;
    }
  return m;
}

std::string host_of(const gate_detail::doc_list& files) {
  const json& c = (*files[0])["context"];
  return c.contains("host_name") && c["host_name"].is_string() ? c["host_name"].get<std::string>() : "";
}

// One benchmark present on both sides: time on one machine, else the probe fraction.
void judge_pair(const std::string& k, const speed_samples& b, const speed_samples& c, bool same_machine, const gate_options& o,
                gate_report& rep) {
  const bool is_probe = k.find("probe") != std::string::npos;
  const bool fractions = !b.probe_fraction.empty() && !c.probe_fraction.empty();
  ++rep.compared;
  if (same_machine || is_probe || !fractions) judge(rep, o, k, "time (ns)", b.time_ns, c.time_ns, false);
  if (!is_probe && fractions) judge(rep, o, k + " [fraction of probe]", "fraction of probe", b.probe_fraction, c.probe_fraction, true);
}

}  // namespace

std::vector<std::pair<std::string, speed_samples>> speed_samples_of(const json& g) {
  std::map<std::string, speed_samples> m;
  std::vector<std::string> order;
  for (const auto& b : g["benchmarks"]) {
    if (b.value("run_type", "iteration") != "iteration") continue;
    const std::string k = b.contains("run_name") ? b["run_name"].get<std::string>() : b["name"].get<std::string>();
    if (!m.count(k)) order.push_back(k);
    auto& s = m[k];
    if (b.value("error_occurred", false) || !b.contains("real_time")) {
      ++s.errors;
      continue;
    }
    s.time_ns.push_back(to_ns(b["real_time"].get<double>(), b.value("time_unit", "ns")));
    if (b.contains("probe_fraction") && b["probe_fraction"].is_number()) s.probe_fraction.push_back(b["probe_fraction"]);
  }
  std::vector<std::pair<std::string, speed_samples>> out;
  for (auto& k : order) out.emplace_back(k, m[k]);
  return out;
}

namespace gate_detail {

void compare_speed(const doc_list& base, const doc_list& cand, const gate_options& o, gate_report& rep) {
  const auto b = samples_of(base), c = samples_of(cand);
  // A baseline from another machine: times mean little, fractions of the in-run probe still do.
  const bool same_machine = host_of(base) == host_of(cand);
  for (const auto& [k, bs] : b) {
    if (bs.time_ns.empty()) continue;  // errored in the baseline: nothing to compare with
    auto it = c.find(k);
    if (it == c.end()) add_missing(rep, o, "speed", k, "in the baseline, not in the candidate");
    else if (it->second.errors || it->second.time_ns.empty())
      add_missing(rep, o, "speed", k, fmt::format("errored in {} repetitions of the candidate", it->second.errors));
    else judge_pair(k, bs, it->second, same_machine, o, rep);
  }
  for (const auto& [k, cs] : c)
    if (!b.count(k)) add_row(rep, o, "speed", k, "new", "not in the baseline");
}

}  // namespace gate_detail
}  // namespace adambench
