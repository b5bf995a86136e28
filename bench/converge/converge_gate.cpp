// Convergence: coverage run by run, then by default a statistical band around the baseline (seed
// spread plus the rounding drift between correct implementations, docs/convergence.md); with
// `exact`, bitwise curves (by digest) instead of the band.
#include "adambench/errors.h"
#include "gate/gate_detail.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <set>

namespace adambench::gate_detail {

using nlohmann::json;

namespace {

/// Band = band_factor * max(seed spread, spread between implementations, measured drift) + floor.
/// Factor 2: a rounding-only change moves a curve by about as much as the drift between two correct
/// implementations already does (eigen~rounding, tests/e2e/gate_test.sh), so one width alone would
/// sit on the edge. Floors: 1e-6 relative for losses (float32 rounding of a sum of ~1e2 terms is
/// ~1e-6 relative, below any training effect) and 5% for steps to target (half the smallest
/// training regression the gate must catch, 10%: eigen~trains_worse).
constexpr double band_factor = 2.0;
constexpr double metric_floor_rel = 1e-6;
constexpr double steps_floor_rel = 0.05;

std::string run_key(const json& r) {
  return fmt::format("{} {} batch {} seed {}", r["case"].get<std::string>(), r["impl"].get<std::string>(), r["batch_size"].get<long long>(),
                     r["seed"].get<long long>());
}
std::string agg_key(const json& a) {
  return fmt::format("{} {} batch {}", a["case"].get<std::string>(), a["impl"].get<std::string>(), a["batch_size"].get<long long>());
}
std::string group_key(const json& a) { return fmt::format("{} batch {}", a["case"].get<std::string>(), a["batch_size"].get<long long>()); }

template <typename F>
std::map<std::string, const json*> index_of(const doc_list& files, const char* list, F key, const char* side) {
  std::map<std::string, const json*> m;
  for (auto* f : files)
    if (auto it = f->find(list); it != f->end())
      for (const auto& r : *it)
        if (!m.emplace(key(r), &r).second)
          throw input_error(fmt::format("compare: the {} holds {} twice (a shard merged twice?)", side, key(r)));
  return m;
}

// ---- run by run: coverage, divergence, bitwise curves under --exact ----------------------------
void judge_run(const std::string& k, const json& b, const json& c, const gate_options& o, gate_report& rep, int& same) {
  if (b.value("config", "") != c.value("config", ""))
    throw input_error(fmt::format("compare: {}: configurations differ ('{}' vs '{}'): not comparable", k, b.value("config", ""),
                                  c.value("config", "")));
  const std::string bv = b["verdict"], cv = c["verdict"];
  if (cv == "skip") {
    if (bv != "skip") add_missing(rep, o, "converge", k, "newly skipped: " + c.value("reason", "no reason given"));
    return;
  }
  ++rep.compared;
  if (cv == "error") return add_missing(rep, o, "converge", k, "error: " + c.value("reason", ""));
  if (cv == "interrupted") return add_row(rep, o, "converge", k, "regression", "interrupted: the run did not finish");
  if (cv == "diverged" && bv != "diverged")
    return add_row(rep, o, "converge", k, "regression",
                   fmt::format("diverged at step {} (baseline: {})", c.value("diverged_at_step", json()).dump(), bv));
  if (bv == "diverged" && cv != "diverged") return add_row(rep, o, "converge", k, "warning", "no longer diverges (the baseline did)");
  if (!o.exact) return;
  if (!c.contains("curve_digest") || !b.contains("curve_digest"))
    return add_row(rep, o, "converge", k, "regression", "--exact: no curve digest to compare");
  if (c["curve_digest"] != b["curve_digest"])
    return add_row(rep, o, "converge", k, "regression", "--exact: the curve differs bitwise from the baseline's");
  ++same;
}

// ---- aggregates: the band ----------------------------------------------------------------------
struct interval {
  double median = NAN, lo = NAN, hi = NAN;
};

interval interval_of(const json& a, const char* field) {
  interval v;
  auto it = a.find(field);
  if (it == a.end() || !it->is_object() || !(*it)["median"].is_number()) return v;
  const json& x = *it;
  v.median = x["median"].get<double>();
  v.lo = x.contains("lo") && x["lo"].is_number() ? x["lo"].get<double>() : v.median;
  v.hi = x.contains("hi") && x["hi"].is_number() ? x["hi"].get<double>() : v.median;
  return v;
}

// What the baseline says about noise at one case and batch size: medians per Adam implementation
// (SGD is another optimizer, not a rounding variant) and the largest measured drift.
struct noise {
  std::map<std::string, std::vector<double>> medians;  // by metric
  double drift_val_loss = 0, drift_val_acc = 0;
};

const char* const metrics[] = {"final_val_loss", "final_val_acc", "steps_to_target"};

std::map<std::string, noise> noise_of(const doc_list& base) {
  std::map<std::string, std::string> config;  // (case impl batch) -> config
  std::map<std::string, noise> out;
  for (auto* f : base)
    for (const auto& r : (*f)["runs"]) {
      config[agg_key(r)] = r.value("config", "");
      auto& n = out[group_key(r)];
      if (auto d = r.find("drift_from_reference"); d != r.end()) {
        if (d->contains("max_abs_val_loss") && (*d)["max_abs_val_loss"].is_number())
          n.drift_val_loss = std::max(n.drift_val_loss, (*d)["max_abs_val_loss"].get<double>());
        if (d->contains("max_abs_val_acc") && (*d)["max_abs_val_acc"].is_number())
          n.drift_val_acc = std::max(n.drift_val_acc, (*d)["max_abs_val_acc"].get<double>());
      }
    }
  for (auto* f : base)
    for (const auto& a : (*f)["aggregates"]) {
      if (config[agg_key(a)].rfind("sgd", 0) == 0) continue;
      for (const char* m : metrics)
        if (double v = interval_of(a, m).median; std::isfinite(v)) out[group_key(a)].medians[m].push_back(v);
    }
  return out;
}

double band_of(const char* metric, const interval& b, const noise& n) {
  double w = std::isfinite(b.hi - b.lo) ? b.hi - b.lo : 0.0;  // seed spread (bootstrap interval)
  if (auto it = n.medians.find(metric); it != n.medians.end() && !it->second.empty()) {
    auto [lo, hi] = std::minmax_element(it->second.begin(), it->second.end());
    w = std::max(w, *hi - *lo);  // spread between correct implementations
  }
  const std::string m = metric;
  if (m == "final_val_loss") w = std::max(w, n.drift_val_loss);
  if (m == "final_val_acc") w = std::max(w, n.drift_val_acc);
  const double floor = std::fabs(b.median) * (m == "steps_to_target" ? steps_floor_rel : metric_floor_rel);
  return band_factor * w + floor;
}

void judge_metric(const std::string& k, const char* metric, const json& ba, const json& ca, const noise& n, const gate_options& o,
                  gate_report& rep) {
  const interval b = interval_of(ba, metric), c = interval_of(ca, metric);
  if (!std::isfinite(b.median)) return;
  const std::string m = metric;
  if (!std::isfinite(c.median))
    return add_row(rep, o, "converge", k, "regression", fmt::format("{}: {:.4g} in the baseline, none now", m, b.median));
  const double band = band_of(metric, b, n);
  const double worse = (m == "final_val_acc" ? -1.0 : 1.0) * (c.median - b.median);
  const std::string detail = fmt::format("{} {:.6g} -> {:.6g} (band ±{:.3g})", m, b.median, c.median, band);
  if (worse > band) add_row(rep, o, "converge", k, "regression", detail + ": worse than the band allows");
  else if (-worse > band) add_row(rep, o, "converge", k, "improvement", detail);
}

void judge_aggregate(const std::string& k, const json& b, const json& c, const noise& n, const gate_options& o, gate_report& rep) {
  const double fb = b["failure_rate"].get<double>(), fc = c["failure_rate"].get<double>();
  if (fc > fb) add_row(rep, o, "converge", k, "regression", fmt::format("failure rate {:.2f} -> {:.2f}", fb, fc));
  if (o.exact) return;
  for (const char* m : metrics) judge_metric(k, m, b, c, n, o, rep);
}

void judge_expectations(const doc_list& base, const doc_list& cand, const gate_options& o, gate_report& rep) {
  std::set<std::string> before;
  for (auto* f : base)
    if (auto it = f->find("expectations_unmet"); it != f->end())
      for (const auto& s : *it) before.insert(s.get<std::string>());
  for (auto* f : cand)
    if (auto it = f->find("expectations_unmet"); it != f->end())
      for (const auto& s : *it)
        if (!before.count(s.get<std::string>())) add_row(rep, o, "converge", s.get<std::string>(), "regression", "expectation unmet");
}

}  // namespace

void compare_converge(const doc_list& base, const doc_list& cand, const gate_options& o, gate_report& rep) {
  const auto br = index_of(base, "runs", run_key, "baseline"), cr = index_of(cand, "runs", run_key, "candidate");
  int same = 0;
  for (const auto& [k, b] : br) {
    auto it = cr.find(k);
    if (it == cr.end()) add_missing(rep, o, "converge", k, "in the baseline, not in the candidate");
    else judge_run(k, *b, *it->second, o, rep, same);
  }
  for (const auto& [k, c] : cr)
    if (!br.count(k)) add_row(rep, o, "converge", k, "new", "not in the baseline");
  const auto ba = index_of(base, "aggregates", agg_key, "baseline"), ca = index_of(cand, "aggregates", agg_key, "candidate");
  const auto n = noise_of(base);
  const noise quiet;
  for (const auto& [k, b] : ba) {
    auto it = ca.find(k);
    auto ni = n.find(group_key(*b));
    if (it != ca.end()) judge_aggregate(k, *b, *it->second, ni == n.end() ? quiet : ni->second, o, rep);
  }
  judge_expectations(base, cand, o, rep);
  if (same) {
    rep.unchanged += same;
    rep.rows.push_back({"converge", fmt::format("{} runs", same), "pass", "bitwise-identical curves"});
  }
}

}  // namespace adambench::gate_detail
