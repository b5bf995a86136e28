#include "gate/compare.h"

#include "core/adam_config.h"
#include "core/results.h"
#include "core/stats.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace adambench {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

loaded_result load_one(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw input_error(fmt::format("{}: no such file", p.string()));
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  if (text.empty()) throw input_error(fmt::format("{}: empty file", p.string()));
  loaded_result r;
  r.path = p;
  try {
    r.json = json::parse(text);
  } catch (const json::parse_error& e) {
    const bool truncated = e.byte >= text.size();
    throw input_error(fmt::format("{}: not valid JSON{} (at byte {})", p.string(), truncated ? ", truncated" : "", e.byte));
  }
  if (!r.json.is_object()) throw input_error(fmt::format("{}: not an adambench result (not a JSON object)", p.string()));
  if (r.json.contains("benchmarks") && r.json["benchmarks"].is_array() && r.json.contains("context")) {
    r.kind = "speed";
    return r;
  }
  if (!r.json.contains("kind") || !r.json["kind"].is_string())
    throw input_error(fmt::format("{}: not an adambench result (no \"kind\" and no Google Benchmark \"benchmarks\")", p.string()));
  r.kind = r.json["kind"].get<std::string>();
  if (r.kind != "agree" && r.kind != "converge")
    throw input_error(fmt::format("{}: unknown result kind '{}'", p.string(), r.kind));
  const int v = r.json.value("schema_version", 0);
  if (v < 1 || v > result_schema_version)
    throw input_error(fmt::format("{}: schema_version {} is not one this build reads (1..{})", p.string(), v, result_schema_version));
  const char* list = r.kind == "agree" ? "results" : "runs";
  if (!r.json.contains(list) || !r.json[list].is_array())
    throw input_error(fmt::format("{}: {} result without a \"{}\" array", p.string(), r.kind, list));
  return r;
}

std::string pct(double x) { return fmt::format("{:+.1f}%", 100.0 * x); }

void add(gate_report& rep, std::string kind, std::string key, std::string verdict, std::string detail) {
  if (verdict == "regression") ++rep.regressions;
  else if (verdict == "improvement") ++rep.improvements;
  else if (verdict == "inconclusive") ++rep.inconclusive;
  else if (verdict == "warning" || verdict == "missing") ++rep.warnings;
  else ++rep.unchanged;
  rep.rows.push_back({std::move(kind), std::move(key), std::move(verdict), std::move(detail)});
}

// ---- agreement -------------------------------------------------------------------------------
std::string agree_key(const json& r) {
  return fmt::format("{} {} {} seed {}", r.value("case", "?"), r.value("impl", "?"), r.value("dtype", "?"), r.value("seed", 0));
}
double worst_err(const json& r) {
  double w = 0;
  for (auto& c : r.value("checks", json::array()))
    for (const char* a : {"params", "m", "v", "max_v"})
      if (c.contains(a)) {
        const json& e = c[a]["max_err_u"];
        w = std::max(w, e.is_number() ? e.get<double>() : INFINITY);  // JSON null: inf
      }
  return w;
}

void compare_agree(const std::vector<const json*>& base, const std::vector<const json*>& cand, const gate_options& o, gate_report& rep) {
  std::map<std::string, const json*> b;
  for (auto* f : base)
    for (auto& r : (*f)["results"]) b[agree_key(r)] = &r;
  int passed = 0;
  std::set<std::string> seen;
  for (auto* f : cand) {
    for (auto& r : (*f)["results"]) {
      const std::string k = agree_key(r);
      seen.insert(k);
      const std::string v = r.value("verdict", "?");
      if (v == "fail" || v == "error") {
        add(rep, "agree", k, "regression", r.value("first_mismatch", r.value("reason", "disagrees with the reference")));
        continue;
      }
      auto it = b.find(k);
      if (v == "skip") {
        if (it != b.end() && it->second->value("verdict", "") == "pass")
          add(rep, "agree", k, "warning", "newly skipped: " + r.value("reason", ""));
        continue;
      }
      if (it == b.end()) {
        ++passed;
        continue;
      }
      const double now = worst_err(r), before = worst_err(*it->second);
      if (now > o.growth_floor_u && now > o.growth_factor * before)
        add(rep, "agree", k, "warning", fmt::format("error grew {:.3g} -> {:.3g} u*bound (within tolerance)", before, now));
      else
        ++passed;
    }
  }
  for (auto& [k, r] : b)
    if (!seen.count(k) && r->value("verdict", "") == "pass") add(rep, "agree", k, "missing", "in the baseline, not in the candidate");
  if (passed) {
    rep.unchanged += passed;
    rep.rows.push_back({"agree", fmt::format("{} cases", passed), "pass", "within tolerance, no error growth"});
  }
}

// ---- speed -------------------------------------------------------------------------------------
double to_ns(double t, const std::string& unit) {
  if (unit == "us") return t * 1e3;
  if (unit == "ms") return t * 1e6;
  if (unit == "s") return t * 1e9;
  return t;
}

void judge(gate_report& rep, const std::string& key, const std::string& what, const std::vector<double>& b,
           const std::vector<double>& c, bool higher_is_better, const gate_options& o) {
  const double mb = stats::median(b), mc = stats::median(c);
  const double change = (mc - mb) / mb;  // relative change of the measured quantity
  const double worse = higher_is_better ? -change : change;
  std::string detail = fmt::format("{} median {:.4g} -> {:.4g} ({})", what, mb, mc, pct(change));
  if (b.size() < 2 || c.size() < 2) {
    detail += fmt::format(", {} vs {} repetitions: no test possible", b.size(), c.size());
    add(rep, "speed", key, std::fabs(change) >= o.min_effect ? "inconclusive" : "no change", detail);
    return;
  }
  auto u = stats::mann_whitney(b, c);
  detail += fmt::format(", U test p={:.3g} (n={}/{})", u.p, b.size(), c.size());
  if (std::fabs(change) < o.min_effect) add(rep, "speed", key, "no change", detail);
  else if (u.p >= o.alpha) add(rep, "speed", key, "inconclusive", detail);
  else add(rep, "speed", key, worse > 0 ? "regression" : "improvement", detail);
}

void compare_speed(const std::vector<const json*>& base, const std::vector<const json*>& cand, const gate_options& o, gate_report& rep) {
  std::map<std::string, speed_samples> b, c;
  for (auto* f : base)
    for (auto& [k, s] : speed_samples_of(*f)) b[k] = s;
  for (auto* f : cand)
    for (auto& [k, s] : speed_samples_of(*f)) c[k] = s;
  // A baseline from another machine: times mean little, fractions of the in-run probe still do.
  std::string mb, mc;
  if (!base.empty() && (*base[0])["context"].contains("host_name")) mb = (*base[0])["context"]["host_name"];
  if (!cand.empty() && (*cand[0])["context"].contains("host_name")) mc = (*cand[0])["context"]["host_name"];
  const bool same_machine = mb == mc;
  for (auto& [k, cs] : c) {
    auto it = b.find(k);
    if (it == b.end()) {
      add(rep, "speed", k, "new", "not in the baseline");
      continue;
    }
    const bool is_probe = k.find("probe") != std::string::npos;
    if (same_machine || is_probe || it->second.probe_fraction.empty() || cs.probe_fraction.empty())
      judge(rep, k, "time (ns)", it->second.time_ns, cs.time_ns, false, o);
    if (!is_probe && !it->second.probe_fraction.empty() && !cs.probe_fraction.empty())
      judge(rep, k + " [fraction of probe]", "fraction of probe", it->second.probe_fraction, cs.probe_fraction, true, o);
  }
  for (auto& [k, s] : b)
    if (!c.count(k)) add(rep, "speed", k, "missing", "in the baseline, not in the candidate");
}

// ---- convergence ---------------------------------------------------------------------------------
std::string run_key(const json& r) {
  return fmt::format("{} {} batch {} seed {}", r.value("case", "?"), r.value("impl", "?"), r.value("batch_size", 0), r.value("seed", 0));
}
std::string agg_key(const json& r) {
  return fmt::format("{} {} batch {}", r.value("case", "?"), r.value("impl", "?"), r.value("batch_size", 0));
}
// A CI object {median, lo, hi}; false when absent or null.
bool ci_of(const json& a, const char* field, double& med, double& lo, double& hi) {
  if (!a.contains(field) || !a[field].is_object()) return false;
  const json& x = a[field];
  if (!x.contains("median") || !x["median"].is_number()) return false;
  med = x["median"];
  lo = x.value("lo", med);
  hi = x.value("hi", med);
  return true;
}

// The file's "aggregates" array (or an empty one): a reference, so pointers into it stay valid.
const json& aggregates_of(const json& f) {
  static const json none = json::array();
  return f.contains("aggregates") && f["aggregates"].is_array() ? f["aggregates"] : none;
}

void compare_converge(const std::vector<const json*>& base, const std::vector<const json*>& cand, gate_report& rep) {
  std::map<std::string, const json*> br, ba;
  for (auto* f : base) {
    for (auto& r : (*f)["runs"]) br[run_key(r)] = &r;
    for (auto& a : aggregates_of(*f)) ba[agg_key(a)] = &a;
  }
  int same = 0;
  for (auto* f : cand) {
    for (auto& r : (*f)["runs"]) {
      const std::string k = run_key(r);
      auto it = br.find(k);
      const std::string v = r.value("verdict", "?");
      if (v == "error") {
        add(rep, "converge", k, "regression", "error: " + r.value("reason", ""));
        continue;
      }
      if (it == br.end()) continue;
      const json& b = *it->second;
      const std::string bv = b.value("verdict", "?");
      if (v == "diverged" && bv != "diverged") {
        add(rep, "converge", k, "regression", fmt::format("diverged at step {} (baseline: {})", r.value("diverged_at_step", json()).dump(), bv));
        continue;
      }
      // Deterministic case: same seed, implementation and thread count give a bitwise-identical curve.
      if (r.contains("curve_digest") && b.contains("curve_digest") && r["curve_digest"].is_string() &&
          b["curve_digest"].is_string()) {
        if (r["curve_digest"] != b["curve_digest"])
          add(rep, "converge", k, "regression", "curve differs bitwise from the baseline's (deterministic case)");
        else
          ++same;
      }
    }
    for (auto& a : aggregates_of(*f)) {
      const std::string k = agg_key(a);
      auto it = ba.find(k);
      if (it == ba.end()) continue;
      const json& b = *it->second;
      double cm, cl, ch, bm, bl, bh;
      if (ci_of(a, "final_val_loss", cm, cl, ch) && ci_of(b, "final_val_loss", bm, bl, bh)) {
        if (cl > bh) add(rep, "converge", k, "regression", fmt::format("final val loss {:.4g} [{:.4g}, {:.4g}] above baseline {:.4g} [{:.4g}, {:.4g}]: intervals do not overlap", cm, cl, ch, bm, bl, bh));
        else if (ch < bl) add(rep, "converge", k, "improvement", fmt::format("final val loss {:.4g} below baseline {:.4g}", cm, bm));
      }
      if (ci_of(a, "final_val_acc", cm, cl, ch) && ci_of(b, "final_val_acc", bm, bl, bh)) {
        if (ch < bl) add(rep, "converge", k, "regression", fmt::format("final val acc {:.4g} [{:.4g}, {:.4g}] below baseline {:.4g} [{:.4g}, {:.4g}]", cm, cl, ch, bm, bl, bh));
      }
      if (ci_of(a, "steps_to_target", cm, cl, ch) && ci_of(b, "steps_to_target", bm, bl, bh)) {
        if (cl > bh) add(rep, "converge", k, "regression", fmt::format("steps to target {:.4g} [{:.4g}, {:.4g}] above baseline {:.4g} [{:.4g}, {:.4g}]", cm, cl, ch, bm, bl, bh));
        else if (ch < bl) add(rep, "converge", k, "improvement", fmt::format("steps to target {:.4g} below baseline {:.4g}", cm, bm));
      }
      const double fb = b.value("failure_rate", 0.0), fc = a.value("failure_rate", 0.0);
      if (fc > fb) add(rep, "converge", k, "regression", fmt::format("failure rate {:.2f} -> {:.2f}", fb, fc));
    }
  }
  if (same) {
    rep.unchanged += same;
    rep.rows.push_back({"converge", fmt::format("{} runs", same), "pass", "bitwise-identical curves"});
  }
}

}  // namespace

std::vector<loaded_result> load_results(const fs::path& p) {
  std::vector<loaded_result> out;
  if (fs::is_directory(p)) {
    std::vector<fs::path> files;
    for (auto& e : fs::directory_iterator(p))
      if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw input_error(fmt::format("{}: no .json result files in this folder", p.string()));
    for (auto& f : files) out.push_back(load_one(f));
  } else {
    out.push_back(load_one(p));
  }
  return out;
}

std::vector<std::pair<std::string, speed_samples>> speed_samples_of(const json& g) {
  std::map<std::string, speed_samples> m;
  std::vector<std::string> order;
  for (auto& b : g["benchmarks"]) {
    if (b.value("run_type", "iteration") != "iteration") continue;
    if (b.contains("error_occurred") && b["error_occurred"].get<bool>()) continue;
    const std::string k = b.value("run_name", b.value("name", "?"));
    if (!m.count(k)) order.push_back(k);
    auto& s = m[k];
    s.time_ns.push_back(to_ns(b.value("real_time", 0.0), b.value("time_unit", "ns")));
    if (b.contains("probe_fraction") && b["probe_fraction"].is_number()) s.probe_fraction.push_back(b["probe_fraction"]);
  }
  std::vector<std::pair<std::string, speed_samples>> out;
  for (auto& k : order) out.emplace_back(k, m[k]);
  return out;
}

gate_report compare_results(const std::vector<loaded_result>& baseline, const std::vector<loaded_result>& candidate, const gate_options& o) {
  gate_report rep;
  for (const char* kind : {"agree", "speed", "converge"}) {
    std::vector<const json*> b, c;
    for (auto& r : baseline)
      if (r.kind == kind) b.push_back(&r.json);
    for (auto& r : candidate)
      if (r.kind == kind) c.push_back(&r.json);
    if (c.empty()) continue;
    if (std::string(kind) == "agree") compare_agree(b, c, o, rep);
    else if (b.empty()) rep.rows.push_back({kind, "all", "new", "no baseline of this kind"});
    else if (std::string(kind) == "speed") compare_speed(b, c, o, rep);
    else compare_converge(b, c, rep);
  }
  return rep;
}

std::string gate_text(const gate_report& r) {
  std::string s;
  std::size_t w = 10;
  for (auto& row : r.rows) w = std::max(w, row.key.size());
  w = std::min<std::size_t>(w, 70);
  for (auto& row : r.rows)
    if (row.verdict != "no change" && row.verdict != "pass")
      s += fmt::format("{:<9} {:<{}} {:<13} {}\n", row.kind, row.key, w, row.verdict, row.detail);
  s += fmt::format("compare: {} regressions, {} improvements, {} inconclusive, {} warnings, {} unchanged\n", r.regressions,
                   r.improvements, r.inconclusive, r.warnings, r.unchanged);
  return s;
}

std::string gate_markdown(const gate_report& r, const std::string& base, const std::string& cand) {
  std::string s = fmt::format("## adambench: {}\n\n", r.regressions ? "regression" : "no regression");
  s += fmt::format("Baseline `{}`, candidate `{}`.\n\n", base, cand);
  s += fmt::format("| regressions | improvements | inconclusive | warnings | unchanged |\n|---:|---:|---:|---:|---:|\n| {} | {} | {} | {} | {} |\n\n",
                   r.regressions, r.improvements, r.inconclusive, r.warnings, r.unchanged);
  auto table = [&](const char* title, auto pred) {
    std::string t;
    for (auto& row : r.rows)
      if (pred(row)) t += fmt::format("| {} | `{}` | {} | {} |\n", row.kind, row.key, row.verdict, row.detail);
    if (!t.empty()) s += fmt::format("### {}\n\n| kind | case | verdict | detail |\n|---|---|---|---|\n{}\n", title, t);
  };
  table("Regressions", [](const gate_row& x) { return x.verdict == "regression"; });
  table("Improvements", [](const gate_row& x) { return x.verdict == "improvement"; });
  table("Inconclusive (large change the statistics cannot confirm)", [](const gate_row& x) { return x.verdict == "inconclusive"; });
  table("Warnings", [](const gate_row& x) { return x.verdict == "warning" || x.verdict == "missing" || x.verdict == "new"; });
  s += "Speed: two-sided Mann-Whitney U test over repetitions and a minimum effect size; agreement: absolute "
       "tolerances (docs/tolerances.md); convergence: deterministic curves exactly, seeded metrics by interval overlap.\n";
  return s;
}

json merge_results(const std::vector<loaded_result>& parts) {
  if (parts.empty()) throw input_error("merge: no inputs");
  const std::string kind = parts[0].kind;
  json out = parts[0].json;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const auto& p = parts[i];
    if (p.kind != kind)
      throw input_error(fmt::format("{}: a {} result cannot be merged with {} results", p.path.string(), p.kind, kind));
    const char* list = kind == "speed" ? "benchmarks" : kind == "agree" ? "results" : "runs";
    for (auto& x : p.json[list]) out[list].push_back(x);
    if (kind == "converge")
      for (const char* extra : {"aggregates", "batch_scaling"})
        if (p.json.contains(extra))
          for (auto& x : p.json[extra]) out[extra].push_back(x);
    if (kind != "speed" && p.json.value("interrupted", false)) out["interrupted"] = true;
  }
  if (kind == "agree") {
    int pass = 0, fail = 0, skip = 0;
    for (auto& r : out["results"]) {
      const std::string v = r.value("verdict", "");
      (v == "pass" ? pass : v == "skip" ? skip : fail) += 1;
    }
    out["summary"] = {{"passed", pass}, {"failed", fail}, {"skipped", skip}};
  }
  out.erase("shard");
  if (out.contains("context") && out["context"].is_object()) out["context"].erase("shard");
  out["merged_from"] = json::array();
  for (auto& p : parts) out["merged_from"].push_back(p.path.string());
  return out;
}

}  // namespace adambench
