// Speed: whole runs are the samples. Repetitions inside one process share its memory placement,
// neighbours and clock, so their spread says nothing about the spread between runs (measured: a U
// test over repetitions called 58% of A/A comparisons different, docs/speed.md). Per benchmark the
// gate takes each run's median, tests the two sides' run medians with a Welch t-test on their
// logarithms, and counts a change only above the benchmark's own A/A noise floor. Kept in its own
// file: the statistics here change apart from the rest of the gate.
#include "core/stats.h"
#include "gate/gate_detail.h"

#include <algorithm>
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

// Largest relative difference between two values of x: (max - min) / min.
double spread(const std::vector<double>& x) {
  if (x.size() < 2) return NAN;
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  return *lo > 0 ? (*hi - *lo) / *lo : NAN;
}

std::vector<double> logs(const std::vector<double>& x) {
  std::vector<double> l;
  for (double v : x) l.push_back(std::log(v));
  return l;
}

/// One figure of one benchmark, as the gate judges it.
struct figure {
  const char* name;  // "time" or "fraction of probe"
  const std::vector<double>* base;
  const std::vector<double>* cand;
  bool higher_is_better;
  double noise;  // A/A noise floor, NaN when unknown
};

std::map<std::string, speed_samples> samples_of(const gate_detail::doc_list& files) {
  std::map<std::string, speed_samples> m;
  for (auto* f : files)
    for (auto& [k, s] : speed_samples_of(*f)) {
      auto& d = m[k];
      d.run_time_ns.insert(d.run_time_ns.end(), s.run_time_ns.begin(), s.run_time_ns.end());
      d.run_fraction.insert(d.run_fraction.end(), s.run_fraction.begin(), s.run_fraction.end());
      d.errors += s.errors;
    }
  return m;
}

std::string host_of(const gate_detail::doc_list& files) {
  const json& c = (*files[0])["context"];
  return c.contains("host_name") && c["host_name"].is_string() ? c["host_name"].get<std::string>() : "";
}

json noise_json(const std::map<std::string, speed_samples>& m, int runs) {
  json b = json::object();
  for (const auto& [k, s] : m) {
    json e = json::object();
    if (double t = spread(s.run_time_ns); std::isfinite(t)) e["time"] = t;
    if (double f = spread(s.run_fraction); std::isfinite(f)) e["probe_fraction"] = f;
    if (!e.empty()) b[k] = e;
  }
  return {{"method", "per benchmark: (max - min) / min of the medians of whole A/A runs of one build"},
          {"runs", runs},
          {"benchmarks", b}};
}

int runs_in(const std::map<std::string, speed_samples>& m) {
  std::size_t n = 0;
  for (const auto& [k, s] : m) n = std::max(n, s.run_time_ns.size());
  return static_cast<int>(n);
}

/// Where the noise floors come from: --noise, else the baseline's stored calibration, else the
/// baseline's own runs when there are at least three of them.
struct noise_source {
  json benchmarks;  // name -> {"time", "probe_fraction"}
  std::string what;
};

noise_source noise_for(const gate_detail::doc_list& base, const std::map<std::string, speed_samples>& b, const gate_options& o) {
  if (o.noise.is_object() && o.noise.contains("benchmarks"))
    return {o.noise["benchmarks"], fmt::format("--noise, {} runs", o.noise.value("runs", 0))};
  for (auto* f : base)
    if (f->contains("adambench_noise")) {
      const json& n = (*f)["adambench_noise"];
      return {n["benchmarks"], fmt::format("the baseline's calibration, {} runs", n.value("runs", 0))};
    }
  if (const int r = runs_in(b); r >= 3) return {noise_json(b, r)["benchmarks"], fmt::format("the baseline's own {} runs", r)};
  return {json::object(), ""};
}

double noise_of(const noise_source& ns, const std::string& k, const char* field) {
  if (!ns.benchmarks.contains(k)) return NAN;
  const json& e = ns.benchmarks[k];
  return e.contains(field) && e[field].is_number() ? e[field].get<double>() : NAN;
}

void judge(gate_report& rep, const gate_options& o, const std::string& key, const figure& f, const std::string& source) {
  using gate_detail::add_row;
  const double mb = stats::median(*f.base), mc = stats::median(*f.cand);
  const double change = (mc - mb) / mb;
  const double worse = f.higher_is_better ? -change : change;
  const double effect = std::isfinite(f.noise) ? std::max(o.min_effect, f.noise) : o.min_effect;
  std::string detail = fmt::format("{}: median of {} vs {} run medians {:.4g} -> {:.4g} ({}); min effect {:.1f}%", f.name,
                                   f.base->size(), f.cand->size(), mb, mc, pct(change), 100.0 * effect);
  detail += std::isfinite(f.noise) ? fmt::format(" (A/A noise {:.1f}%, from {})", 100.0 * f.noise, source) : " (no A/A noise floor)";
  if (!std::isfinite(change)) return add_row(rep, o, "speed", key, "inconclusive", detail + ": not a finite change");
  if (std::fabs(change) < effect) return add_row(rep, o, "speed", key, "no change", detail);
  if (!std::isfinite(f.noise))
    return add_row(rep, o, "speed", key, "inconclusive",
                   detail + ": the noise between runs is unmeasured (a baseline of >= 3 runs, or adambench calibrate and --noise)");
  if (f.base->size() < 2 || f.cand->size() < 2)
    return add_row(rep, o, "speed", key, "inconclusive", detail + ": a test needs >= 2 whole runs per side (adambench ab)");
  const auto t = stats::welch(logs(*f.base), logs(*f.cand));
  detail += fmt::format(", Welch t on log run medians p={:.3g}", t.p);
  if (t.p >= o.alpha) return add_row(rep, o, "speed", key, "inconclusive", detail);
  add_row(rep, o, "speed", key, worse > 0 ? "regression" : "improvement", detail);
}

// One benchmark present on both sides. The figure: the probe fraction against another machine;
// on one machine the steadier of time and fraction by their A/A noise (time when unknown).
void judge_pair(const std::string& k, const speed_samples& b, const speed_samples& c, bool same_machine, const noise_source& ns,
                const gate_options& o, gate_report& rep) {
  const bool is_probe = k.rfind("probe/", 0) == 0;
  const bool fractions = !is_probe && !b.run_fraction.empty() && !c.run_fraction.empty();
  figure time{"time (ns)", &b.run_time_ns, &c.run_time_ns, false, noise_of(ns, k, "time")};
  figure frac{"fraction of probe", &b.run_fraction, &c.run_fraction, true, noise_of(ns, k, "probe_fraction")};
  ++rep.compared;
  bool use_fraction = fractions && (!same_machine || (std::isfinite(frac.noise) && std::isfinite(time.noise) && frac.noise < time.noise));
  judge(rep, o, k, use_fraction ? frac : time, ns.what);
}

}  // namespace

std::vector<std::pair<std::string, speed_samples>> speed_samples_of(const json& g) {
  struct per_run {
    std::map<long long, std::vector<double>> time, fraction;
    int errors = 0;
  };
  std::map<std::string, per_run> m;
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
    const long long run = b.contains("adambench_run") ? b["adambench_run"].get<long long>() : 1;
    s.time[run].push_back(to_ns(b["real_time"].get<double>(), b.value("time_unit", "ns")));
    if (b.contains("probe_fraction") && b["probe_fraction"].is_number()) s.fraction[run].push_back(b["probe_fraction"]);
  }
  std::vector<std::pair<std::string, speed_samples>> out;
  for (auto& k : order) {
    speed_samples s;
    s.errors = m[k].errors;
    for (auto& [run, x] : m[k].time) s.run_time_ns.push_back(stats::median(x));
    for (auto& [run, x] : m[k].fraction) s.run_fraction.push_back(stats::median(x));
    out.emplace_back(k, std::move(s));
  }
  return out;
}

json speed_noise_of(const std::vector<loaded_result>& runs) {
  gate_detail::doc_list docs;
  for (auto& r : runs) docs.push_back(&r.json);
  const auto m = samples_of(docs);
  return noise_json(m, runs_in(m));
}

namespace gate_detail {

void compare_speed(const doc_list& base, const doc_list& cand, const gate_options& o, gate_report& rep) {
  const auto b = samples_of(base), c = samples_of(cand);
  // A baseline from another machine: times mean little, fractions of the in-run probe still do.
  const bool same_machine = host_of(base) == host_of(cand);
  const noise_source ns = noise_for(base, b, o);
  for (const auto& [k, bs] : b) {
    if (bs.run_time_ns.empty()) continue;  // errored in the baseline: nothing to compare with
    auto it = c.find(k);
    if (it == c.end()) add_missing(rep, o, "speed", k, "in the baseline, not in the candidate");
    else if (it->second.errors || it->second.run_time_ns.empty())
      add_missing(rep, o, "speed", k, fmt::format("errored in {} repetitions of the candidate", it->second.errors));
    else judge_pair(k, bs, it->second, same_machine, ns, o, rep);
  }
  for (const auto& [k, cs] : c)
    if (!b.count(k)) add_row(rep, o, "speed", k, "new", "not in the baseline");
}

}  // namespace gate_detail
}  // namespace adambench
