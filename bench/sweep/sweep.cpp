// The sweep runner's computation: points of each study, their runs (through the convergence
// runner), summaries over seeds and claim verdicts. Reporters: sweep/sweep_report.cpp.
#include "sweep/sweep.h"

#include "shared/context.h"
#include "converge/converge_fields.h"
#include "shared/selection.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>

namespace adambench {
namespace {

bool same_value(const factor_value& x, const factor_value& y) {
  auto as_num = [](const factor_value& f) -> std::optional<double> {
    if (auto* d = std::get_if<double>(&f.v)) return *d;
    if (auto* i = std::get_if<std::int64_t>(&f.v)) return static_cast<double>(*i);
    return std::nullopt;
  };
  auto a = as_num(x), b = as_num(y);
  if (a && b) return *a == *b || std::abs(*a - *b) <= 1e-9 * std::max(std::abs(*a), std::abs(*b));
  return x.v == y.v;
}

// A non-Adam baseline (registered with a baseline_config) is an `algo` value of its own.
bool is_baseline(const std::string& name) { return default_registry().traits(name).baseline(); }

std::string algo_name(const converge_case& c, const std::vector<std::string>& impls) {
  return impls.size() == 1 && is_baseline(impls[0]) ? impls[0] : to_string(c.config.kind);
}

// The value factor `key` has in case `c` (the base value of a one-factor sweep).
factor_value current_value(const converge_case& c, const std::vector<std::string>& impls, const std::string& key) {
  auto d = [](double x) { return factor_value{x, fmt::format("{:g}", x)}; };
  auto i = [](std::int64_t x) { return factor_value{x, fmt::format("{}", x)}; };
  auto s = [](std::string x) { return factor_value{x, x}; };
  if (key == "lr") return d(c.config.lr);
  if (key == "beta1") return d(c.config.beta1);
  if (key == "beta2") return d(c.config.beta2);
  if (key == "eps") return d(c.config.eps);
  if (key == "weight_decay") return d(c.config.weight_decay);
  if (key == "grad_scale") return d(c.grad_scale);
  if (key == "batch_size") return i(c.batch_sizes.at(0));
  if (key == "warmup") return i(c.schedule.warmup);
  if (key == "algo") return s(algo_name(c, impls));
  if (key == "schedule") return s(to_string(c.schedule.kind));
  if (key == "sgd_lr") return d(c.sgd_lr);
  if (key == "sgd_momentum") return d(c.sgd_momentum);
  if (key == "steps") return i(c.steps);
  if (key == "epochs") return d(c.epochs);
  if (key == "amsgrad") return factor_value{c.config.amsgrad, c.config.amsgrad ? "true" : "false"};
  if (key == "lr_scaling") return s(to_string(c.scaling));
  if (key == "start_factor") return d(c.schedule.start_factor);
  if (key == "eta_min") return d(c.schedule.eta_min);
  return s("base");  // a field this table does not know: the point is named by the values that differ
}


// Sets factor `key` to `v` in a point's case (and its implementations for algo = a baseline's name,
// e.g. sgd-momentum).
void set_factor(converge_case& c, std::vector<std::string>& impls, const std::string& key, const factor_value& v) {
  auto num = [&] {
    if (auto* x = std::get_if<double>(&v.v)) return *x;
    if (auto* x = std::get_if<std::int64_t>(&v.v)) return static_cast<double>(*x);
    throw input_error(fmt::format("{}: expected a number", key));
  };
  if (key == "beta1") c.config.beta1 = num();
  else if (key == "beta2") c.config.beta2 = num();
  else if (key == "batch_size") {
    auto* x = std::get_if<std::int64_t>(&v.v);
    if (!x || *x < 1) throw input_error("batch_size: expected an integer >= 1");
    c.batch_sizes = {*x};
  } else if (key == "algo" && is_baseline(v.label)) impls = {v.label};
  else {
    std::visit([&](const auto& x) { apply_converge_field(c, key, toml::value<std::decay_t<decltype(x)>>(x)); }, v.v);
  }
}

sweep_point make_point(const sweep_suite& suite, std::size_t si, std::vector<std::pair<std::string, factor_value>> settings, bool is_base) {
  const sweep_study& st = suite.studies[si];
  sweep_point p{si, std::move(settings), is_base, st.base};
  std::vector<std::string> impls = !st.impls.empty() ? st.impls : suite.impls;
  const std::vector<std::string> base_impls = impls;  // set_factor changes impls (algo = sgd-momentum)
  std::string suffix;
  for (auto& [k, v] : p.settings) {
    set_factor(p.c, impls, k, v);
    if (!is_base && (st.grid || !same_value(v, current_value(st.base, base_impls, k)))) suffix += fmt::format("{}{}={}", suffix.empty() ? "" : ",", k, v.label);
  }
  p.c.name = st.name + "/" + (is_base || suffix.empty() ? "base" : suffix);
  p.c.impls = impls;
  p.c.seeds = !st.seeds.empty() ? st.seeds : suite.seeds;
  try {
    finish_converge_case(p.c);
  } catch (const input_error& e) {
    throw input_error(fmt::format("point {}: {}", p.c.name, e.what()));
  }
  return p;
}

}  // namespace

std::vector<sweep_point> sweep_points(const sweep_suite& suite) {
  std::vector<sweep_point> out;
  for (std::size_t si = 0; si < suite.studies.size(); ++si) {
    const sweep_study& st = suite.studies[si];
    const std::vector<std::string> base_impls = !st.impls.empty() ? st.impls : suite.impls;
    std::vector<std::pair<std::string, factor_value>> base;
    for (auto& f : st.factors) base.emplace_back(f.name, current_value(st.base, base_impls, f.name));
    if (!st.listed.empty()) {  // the base, then each listed point (unnamed factors at the base)
      out.push_back(make_point(suite, si, base, true));
      for (auto& listed : st.listed) {
        auto s = base;
        for (auto& [k, v] : listed)
          for (auto& sv : s)
            if (sv.first == k) sv.second = v;
        out.push_back(make_point(suite, si, s, false));
      }
      continue;
    }
    if (!st.grid) {  // the base, then each factor's other values alone
      out.push_back(make_point(suite, si, base, true));
      for (std::size_t fi = 0; fi < st.factors.size(); ++fi)
        for (auto& v : st.factors[fi].values) {
          if (same_value(v, base[fi].second)) continue;
          auto s = base;
          s[fi].second = v;
          out.push_back(make_point(suite, si, s, false));
        }
      continue;
    }
    std::vector<std::size_t> idx(st.factors.size(), 0);  // odometer over the grid
    while (true) {
      auto s = base;
      for (std::size_t fi = 0; fi < idx.size(); ++fi) s[fi].second = st.factors[fi].values[idx[fi]];
      out.push_back(make_point(suite, si, s, false));
      std::size_t fi = idx.size();
      while (fi > 0 && ++idx[fi - 1] == st.factors[fi - 1].values.size()) idx[--fi] = 0;
      if (fi == 0) break;
    }
  }
  return out;
}

const char* verdict_rule() {
  return "effect = per-seed paired improvement of the advised setting (a) over the baseline (b) on the metric "
         "(relative: divided by |b|), oriented so that > 0 favours the advice; median and interval over seeds. "
         "Fewer than 3 seeds: inconclusive. Interval entirely > 0 and median >= min_effect: holds here. "
         "Interval entirely < min_effect: does not hold here. Otherwise: inconclusive.";
}

std::string interval_method(int n) {
  if (n >= 5) return fmt::format("percentile bootstrap of the median, {} resamples, 95%", stats::default_resamples);
  return fmt::format("percentile bootstrap of the median over only {} seeds: the interval cannot be wider than the seeds' range "
                     "and under-covers; read it as descriptive", n);
}

namespace {

// A run's value of a summary metric; failures count as the worst value (+inf loss, 0 accuracy).
double metric_of(const run_result& r, const std::string& m) {
  const bool ok = r.verdict == "ok" && !r.curve.empty();
  const curve_row* last = r.curve.empty() ? nullptr : &r.curve.back();
  if (m == "final_val_loss") return ok ? last->val_loss : INFINITY;
  if (m == "final_train_loss") return ok ? last->train_loss : INFINITY;
  if (m == "final_val_acc") return !last || std::isnan(last->val_acc) ? NAN : ok ? last->val_acc : 0.0;
  if (m == "gap") return ok ? last->val_loss - last->train_loss : INFINITY;
  if (m == "steps_to_target") return r.steps_to_target >= 0 ? static_cast<double>(r.steps_to_target) : INFINITY;
  if (m == "time_to_target") return r.steps_to_target >= 0 ? r.wall_to_target : INFINITY;
  return NAN;
}

stats::median_ci summarize(const std::vector<const run_result*>& runs, const std::string& m) {
  std::vector<double> x;
  for (auto* r : runs)
    if (double v = metric_of(*r, m); !std::isnan(v)) x.push_back(v);
  return stats::bootstrap_median(x);
}

std::vector<point_summary> summaries_of(const sweep_result& res) {
  std::vector<point_summary> out;
  std::map<std::pair<std::size_t, std::string>, std::size_t> at;
  for (std::size_t i = 0; i < res.conv.runs.size(); ++i) {
    auto& x = res.conv.runs[i];
    auto key = std::make_pair(x.case_index, x.r.impl);
    if (!at.count(key)) at[key] = out.size(), out.push_back({x.case_index, x.r.impl});
    point_summary& s = out[at[key]];
    if (x.r.verdict == "skip") s.skip_reason = x.r.reason;
    if (x.r.verdict == "skip" || x.r.verdict == "interrupted") continue;
    s.runs.push_back(i);
    ++s.seeds;
    if (x.r.diverged_at >= 0) ++s.diverged, s.diverged_at.push_back(x.r.diverged_at);
  }
  for (auto& s : out) {
    std::vector<const run_result*> rs;
    for (auto i : s.runs) rs.push_back(&res.conv.runs[i].r);
    s.final_train_loss = summarize(rs, "final_train_loss"), s.final_val_loss = summarize(rs, "final_val_loss");
    s.final_val_acc = summarize(rs, "final_val_acc"), s.gap = summarize(rs, "gap");
    s.steps_to_target = summarize(rs, "steps_to_target"), s.time_to_target = summarize(rs, "time_to_target");
  }
  return out;
}

}  // namespace

std::map<std::uint64_t, double> per_seed(const sweep_result& res, const point_summary& s, const std::string& m) {
  std::map<std::uint64_t, double> out;
  for (auto i : s.runs) out[res.conv.runs[i].seed] = metric_of(res.conv.runs[i].r, m);
  return out;
}

double paired_effect(double a, double b, const sweep_claim& c) {
  if (!std::isfinite(a) && !std::isfinite(b)) return 0.0;
  const double worse = c.higher_is_better ? -INFINITY : INFINITY;
  if (!std::isfinite(a)) return a == worse ? -INFINITY : INFINITY;
  if (!std::isfinite(b)) return b == worse ? INFINITY : -INFINITY;
  const double d = c.higher_is_better ? a - b : b - a;
  return c.relative && b != 0 ? d / std::abs(b) : d;
}

namespace {

const point_summary* find_summary(const sweep_result& res, std::size_t study, const std::vector<std::pair<std::string, factor_value>>& want,
                                  const std::string& impl) {
  for (auto& s : res.summaries) {
    const sweep_point& p = res.points[s.point];
    if (p.study != study || (!impl.empty() && s.impl != impl) || s.seeds == 0) continue;
    const bool match = std::all_of(want.begin(), want.end(), [&](auto& kv) {
      return std::any_of(p.settings.begin(), p.settings.end(), [&](auto& pv) { return pv.first == kv.first && same_value(pv.second, kv.second); });
    });
    if (match) return &s;
  }
  return nullptr;
}

std::string settings_text(const std::vector<std::pair<std::string, factor_value>>& s) {
  std::string t;
  for (auto& [k, v] : s) t += fmt::format("{}{}={}", t.empty() ? "" : ",", k, v.label);
  return t;
}

}  // namespace

void judge_claim(claim_result& c, const sweep_claim& cl) {
  c.effect = stats::bootstrap_median(c.per_seed);
  const int n = static_cast<int>(c.per_seed.size());
  if (n < 3) c.verdict = "inconclusive", c.why = fmt::format("only {} paired seeds (3 or more needed)", n);
  else if (c.effect.lo > 0 && c.effect.median >= cl.min_effect) c.verdict = "holds here", c.why = "interval > 0 and median >= min_effect";
  else if (c.effect.hi < cl.min_effect) c.verdict = "does not hold here", c.why = "interval entirely below min_effect";
  else c.verdict = "inconclusive", c.why = "interval straddles 0 or min_effect";
}

namespace {

claim_result compare_claim(const sweep_result& res, std::size_t si, const sweep_claim& cl) {
  claim_result c{si};
  const point_summary* a = find_summary(res, si, cl.a, "");
  const point_summary* b = a ? find_summary(res, si, cl.b, a->impl) : nullptr;
  if (a && !b) b = find_summary(res, si, cl.b, "");
  c.compared = fmt::format("{} against {}", settings_text(cl.a), settings_text(cl.b));
  if (!a || !b) {
    c.verdict = "inconclusive", c.why = "a compared point did not run (skipped, filtered, interrupted or in another shard)";
    return c;
  }
  c.impl = a->impl == b->impl ? a->impl : a->impl + " against " + b->impl;
  c.compared = fmt::format("{} ({}) against {} ({}), {}", settings_text(cl.a), a->impl, settings_text(cl.b), b->impl, res.points[a->point].c.workload.name);
  auto ma = per_seed(res, *a, cl.metric), mb = per_seed(res, *b, cl.metric);
  for (auto& [seed, va] : ma)
    if (auto it = mb.find(seed); it != mb.end()) c.per_seed.push_back(paired_effect(va, it->second, cl));
  judge_claim(c, cl);
  return c;
}

// Per seed, the best lr at each batch size, and the least-squares slope of log(best lr) on log(batch).
claim_result exponent_claim(const sweep_result& res, std::size_t si, const sweep_claim& cl) {
  claim_result c{si};
  c.compared = "slope of log(best lr) against log(batch size)";
  std::map<std::uint64_t, std::map<double, std::pair<double, double>>> best;  // seed -> batch -> (metric, lr)
  for (auto& s : res.summaries) {
    const sweep_point& p = res.points[s.point];
    if (p.study != si || (!c.impl.empty() && s.impl != c.impl)) continue;
    c.impl = s.impl;
    const double lr = p.c.config.lr, batch = static_cast<double>(p.c.batch_sizes[0]);
    for (auto& [seed, m] : per_seed(res, s, cl.metric)) {
      const double v = cl.higher_is_better ? -m : m;
      auto [it, fresh] = best[seed].try_emplace(batch, v, lr);
      if (!fresh && v < it->second.first) it->second = {v, lr};
    }
  }
  for (auto& [seed, by_batch] : best) {
    if (by_batch.size() < 2) continue;
    double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
    for (auto& [b, ml] : by_batch) {
      const double x = std::log(b), y = std::log(ml.second);
      sx += x, sy += y, sxx += x * x, sxy += x * y, n += 1;
    }
    c.per_seed.push_back((n * sxy - sx * sy) / (n * sxx - sx * sx));
  }
  judge_claim(c, cl);
  return c;
}

}  // namespace

sweep_result compute_sweep(const sweep_suite& suite_in, const registry& reg, const sweep_options& opt) {
  sweep_result res;
  res.suite = suite_in;
  auto& studies = res.suite.studies;
  filter_by_name(studies, opt.study_filter, suite_in.source + ": no study matches --study");
  shard_slice(studies, opt.shard);
  res.empty_slice = opt.shard.second > 1 && studies.empty();
  for (auto& st : studies) {
    if (!opt.conv.impls.empty()) st.impls = opt.conv.impls;
    if (opt.conv.seed_count) {
      st.seeds.clear();
      for (int i = 0; i < *opt.conv.seed_count; ++i) st.seeds.push_back(static_cast<std::uint64_t>(i));
    }
  }
  res.points = sweep_points(res.suite);
  converge_suite cs{res.suite.source, {}, {0}, {}};
  for (auto& p : res.points) cs.cases.push_back(p.c);
  converge_options co = opt.conv;
  co.impls.clear(), co.seed_count.reset(), co.case_filter.clear(), co.shard = {1, 1};  // applied to the studies above
  res.conv = compute_converge(cs, reg, co);
  res.summaries = summaries_of(res);
  for (std::size_t si = 0; si < studies.size(); ++si)
    for (std::size_t k = 0; k < studies[si].claims.size(); ++k) {
      auto& cl = studies[si].claims[k];
      res.claims.push_back(cl.kind == "compare" ? compare_claim(res, si, cl) : exponent_claim(res, si, cl));
      res.claims.back().claim = k;
    }
  return res;
}

int run_sweep(const sweep_suite& suite, const registry& reg, const sweep_options& opt) {
  const sweep_result res = compute_sweep(suite, reg, opt);
  print_sweep_summary(res);
  write_sweep_outputs(res, opt);
  if (!res.conv.stopped_at.empty()) return 130;
  if (res.empty_slice) return empty_slice("sweep", opt.shard);
  if (res.conv.runs.size() == static_cast<std::size_t>(res.conv.count("skip"))) {  // nothing trained: never a pass
    std::vector<std::string> why;  // "IMPL: reason"
    for (auto& run : res.conv.runs) why.push_back(run.r.impl + ": " + run.r.reason);
    return nothing_checked("sweep", why, opt.conv.allow_empty);
  }
  return res.conv.count("error") == 0 ? 0 : 1;
}

}  // namespace adambench
