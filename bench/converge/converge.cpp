// The convergence runner's computation: which runs, in which order, their results, the
// expectations, aggregates over seeds and batch scaling. Reporters: converge/converge_report.cpp.
#include "converge/converge.h"

#include "shared/context.h"
#include "converge/converge_train.h"
#include "shared/selection.h"
#include "workloads/mnist_idx.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>
#include <optional>

namespace adambench {

int converge_result::count(const std::string& verdict) const {
  return static_cast<int>(std::count_if(runs.begin(), runs.end(), [&](const run_record& x) { return x.r.verdict == verdict; }));
}
int converge_result::reached() const {
  return static_cast<int>(std::count_if(runs.begin(), runs.end(), [](const run_record& x) { return x.r.steps_to_target >= 0; }));
}

namespace {

std::string fmt_g(double x, int digits = 3) {
  if (std::isnan(x)) return "-";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return fmt::format("{:.{}g}", x, digits);
}

// A non-Adam baseline (sgd-momentum): runs only when named, and has no drift from the oracle.
bool runs_baseline(const registry& reg, const std::string& name) { return reg.traits(name).baseline(); }

// --case, --shard and the data/text overrides applied to a copy of the suite's cases.
std::vector<converge_case> selected_cases(const converge_suite& suite, const converge_options& opt) {
  std::vector<converge_case> cases = suite.cases;
  filter_by_name(cases, opt.case_filter, suite.source + ": no case matches --filter");
  shard_slice(cases, opt.shard);
  for (auto& c : cases) {
    if (!opt.data_dir.empty()) c.workload.data_dir = opt.data_dir;
    if (c.workload.data_dir.empty()) c.workload.data_dir = default_fashion_mnist_dir;
    if (!opt.text_file.empty()) c.workload.text_file = opt.text_file;
  }
  return cases;
}

std::vector<std::string> impls_of(const converge_suite& suite, const converge_case& c, const registry& reg, const converge_options& opt) {
  std::vector<std::string> v = !opt.impls.empty() ? opt.impls : !c.impls.empty() ? c.impls : suite.impls;
  if (v.empty())  // every Adam implementation of the build; baselines only when named
    for (auto& n : reg.names())
      if (!runs_baseline(reg, n)) v.push_back(n);
  // The oracle (`reference`) runs first so the others' drift can be measured against it.
  std::stable_partition(v.begin(), v.end(), [&](const std::string& n) { return reg.traits(n).oracle; });
  return v;
}

std::vector<std::uint64_t> seeds_of(const converge_suite& suite, const converge_case& c, const converge_options& opt) {
  std::vector<std::uint64_t> s = !c.seeds.empty() ? c.seeds : suite.seeds;
  if (opt.seed_count) {
    s.clear();
    for (int i = 0; i < *opt.seed_count; ++i) s.push_back(static_cast<std::uint64_t>(i));
  }
  return s;
}

// One run: a recorded skip when the implementation cannot run the case, an error when it throws.
run_result run_one(const train_env& env, const std::string& name, const registry& reg) {
  run_result r;
  r.impl = name;
  const impl_entry& e = reg.at(name);
  case_features f;
  f.type = dtype::float32;
  f.baselines_allowed = true;
  const adam_config cfg = config_for(env.c, name);
  if (support s = e.supports(cfg, f); !s.ok) {
    r.verdict = "skip";
    r.reason = s.reason;
    return r;
  }
  try {
    return train_one(env, name, [&](double lr) {
      adam_config k = cfg;
      k.lr = lr;
      return e.make(k, impl_options{env.threads}, dtype::float32);
    });
  } catch (const input_error&) {
    throw;
  } catch (const std::exception& ex) {
    r.verdict = "error";
    r.reason = ex.what();
    return r;
  }
}

// The lines of `unmet` that run `x` adds (expect = target / diverge, max_drift).
void check_expectations(const converge_case& c, const std::string& label, const run_result& r, std::vector<std::string>& unmet) {
  const bool ran = r.verdict != "skip" && r.verdict != "interrupted";
  if (c.expect == expectation::target && ran && (r.steps_to_target < 0 || r.diverged_at >= 0)) {
    const double last = r.curve.empty() ? NAN : (c.target_is_accuracy ? r.curve.back().val_acc : r.curve.back().val_loss);
    unmet.push_back(fmt::format("{} {}: expected to reach {} {} {}, {}", label, r.impl, c.target_is_accuracy ? "val_acc >=" : "val_loss <=",
                                *c.target, "but did not", r.verdict == "diverged" ? r.reason : "final " + fmt_g(last, 4)));
  }
  if (c.max_drift && r.has_drift && !(r.drift_val <= *c.max_drift))
    unmet.push_back(fmt::format("{} {}: drift from the reference {} > max_drift {:g} (max |val_loss - reference's|)", label, r.impl,
                                fmt_g(r.drift_val, 3), *c.max_drift));
  if (c.expect == expectation::diverge && ran && r.diverged_at < 0) unmet.push_back(fmt::format("{} {}: expected to diverge but did not", label, r.impl));
}

double worst(const std::vector<double>& x) {  // NaN when any is NaN
  double m = 0;
  for (double v : x) m = std::isnan(v) || std::isnan(m) ? NAN : std::max(m, v);
  return x.empty() ? NAN : m;
}

// Median and interval over the seeds of one case x implementation x batch size.
aggregate_row aggregate(const converge_case& c, std::size_t ci, const std::string& impl, std::int64_t B, const std::vector<const run_result*>& runs) {
  aggregate_row row{ci, impl, B};
  std::vector<double> vl, va, st, wt, tp, sh, dv, dl;
  int fails = 0;
  for (auto* r : runs) {
    if (r->verdict == "skip") { row.note = "skip: " + r->reason; continue; }
    if (r->verdict == "interrupted") continue;
    ++row.seeds;
    row.lr = r->lr;
    if (r->verdict != "ok" || (c.target && r->steps_to_target < 0)) ++fails;
    if (!r->curve.empty()) {
      vl.push_back(r->verdict == "ok" ? r->curve.back().val_loss : INFINITY);
      if (!std::isnan(r->curve.front().val_acc)) va.push_back(r->verdict == "ok" ? r->curve.back().val_acc : 0.0);
    }
    st.push_back(r->steps_to_target >= 0 ? static_cast<double>(r->steps_to_target) : INFINITY);
    wt.push_back(r->steps_to_target >= 0 ? r->wall_to_target : INFINITY);
    if (r->train_s > 0) tp.push_back(static_cast<double>(r->samples) / r->train_s), sh.push_back(r->opt_s / r->train_s);
    if (r->has_drift) dv.push_back(r->drift_val), dl.push_back(r->drift_l2);
    if (r->diverged_at >= 0) row.note = fmt::format("diverged at step {}", r->diverged_at);
  }
  if (row.seeds == 0) return row;
  row.val_loss = bootstrap_median(vl), row.val_acc = bootstrap_median(va), row.steps = bootstrap_median(st), row.wall = bootstrap_median(wt);
  row.has_acc = !va.empty();
  row.fail_rate = static_cast<double>(fails) / row.seeds;
  row.throughput = stats::median(tp), row.opt_share = stats::median(sh);
  row.has_drift = !dv.empty();
  row.drift_val = worst(dv), row.drift_l2 = worst(dl);
  return row;
}

// Where steps-to-target stops falling: the first batch size whose successor does not cut the
// median steps by at least 10% (perfect scaling halves them when the batch doubles). Batch sizes
// that never reach the target come first (infinite steps): the scan starts at the first that does.
batch_scaling_row batch_scaling(std::size_t ci, const std::string& impl, std::vector<std::pair<std::int64_t, double>> pts) {
  batch_scaling_row s{ci, impl, std::move(pts)};
  std::size_t i0 = 0;
  while (i0 < s.points.size() && !std::isfinite(s.points[i0].second)) ++i0;
  if (i0 < s.points.size()) s.first_reached = s.points[i0].first;
  for (std::size_t i = i0; i + 1 < s.points.size(); ++i) {
    const double a = s.points[i].second, b = s.points[i + 1].second;
    if (!(std::isfinite(a) && std::isfinite(b) && b < 0.9 * a)) {
      s.stops_falling_at = s.points[i].first;
      break;
    }
  }
  return s;
}

// Aggregates and batch scaling of case `ci` from its runs.
void summarize_case(converge_result& res, std::size_t ci, const std::vector<std::string>& impls, std::size_t first_run) {
  const converge_case& c = res.cases[ci];
  for (auto& name : impls) {
    std::vector<std::pair<std::int64_t, double>> steps_by_batch;
    for (std::int64_t B : c.batch_sizes) {
      std::vector<const run_result*> mine;
      for (std::size_t i = first_run; i < res.runs.size(); ++i)
        if (res.runs[i].batch == B && res.runs[i].r.impl == name) mine.push_back(&res.runs[i].r);
      if (mine.empty()) continue;
      aggregate_row row = aggregate(c, ci, name, B, mine);
      if (row.seeds == 0 && row.note.empty()) continue;
      if (row.seeds > 0 && c.target) steps_by_batch.emplace_back(B, row.steps.median);
      res.aggregates.push_back(std::move(row));
    }
    if (steps_by_batch.size() >= 2) res.scaling.push_back(batch_scaling(ci, name, std::move(steps_by_batch)));
  }
}

}  // namespace

void check_converge_inputs(const converge_suite& suite, const registry& reg, const converge_options& opt) {
  for (auto& n : opt.impls) reg.at(n);
  for (auto& n : suite.impls) reg.at(n);
  for (auto& c : suite.cases) {
    for (auto& n : c.impls) reg.at(n);
    workload_spec s = c.workload;
    if (!opt.data_dir.empty()) s.data_dir = opt.data_dir;
    if (s.data_dir.empty()) s.data_dir = default_fashion_mnist_dir;
    if (!opt.text_file.empty()) s.text_file = opt.text_file;
    try {
      default_workloads().at(s.name).check(s);
    } catch (const input_error& e) {
      throw input_error(fmt::format("{}: case {}: {}", suite.source, c.name, e.what()));
    }
  }
}

converge_result compute_converge(const converge_suite& suite, const registry& reg, const converge_options& opt) {
  converge_result res;
  res.source = suite.source;
  res.cases = selected_cases(suite, opt);
  res.shard = opt.shard;
  res.empty_slice = opt.shard.second > 1 && res.cases.empty();
  converge_suite checked = suite;
  checked.cases = res.cases;
  check_converge_inputs(checked, reg, opt);
  std::size_t total = 0, done = 0;
  for (auto& c : res.cases) total += c.batch_sizes.size() * seeds_of(suite, c, opt).size() * impls_of(suite, c, reg, opt).size();
  const auto t_start = std::chrono::steady_clock::now();
  for (std::size_t ci = 0; ci < res.cases.size() && res.stopped_at.empty(); ++ci) {
    const converge_case& c = res.cases[ci];
    const auto impls = impls_of(suite, c, reg, opt);
    const std::size_t first_run = res.runs.size();
    for (std::int64_t B : c.batch_sizes) {
      for (std::uint64_t seed : seeds_of(suite, c, opt)) {
        std::optional<std::size_t> ref;  // the reference's run at this batch size and seed
        const std::string label = fmt::format("{} b={} seed={}", c.name, B, seed);
        for (auto& name : impls) {
          ++done;
          if (interrupted.load()) {
            res.stopped_at = fmt::format("{} {}", label, name);
            break;
          }
          if (!opt.quiet) fmt::print(stderr, "[{}/{}] {} {}\n", done, total, label, name);
          std::optional<run_result> kept = opt.store ? opt.store->find(c, B, seed, name) : std::nullopt;
          run_record rec{ci, B, seed, kept ? std::move(*kept) : run_one({c, B, seed, opt.threads, opt.quiet, label}, name, reg)};
          run_result& r = rec.r;
          if (opt.store && !kept && (r.verdict == "ok" || r.verdict == "diverged")) opt.store->keep(c, B, seed, r);
          const bool is_ref = reg.traits(name).oracle && (r.verdict == "ok" || r.verdict == "diverged");
          if (!is_ref && ref && !r.curve.empty() && !runs_baseline(reg, name)) compute_drift(r, res.runs[*ref].r);  // drift: same algorithm only
          check_expectations(c, label, r, res.unmet);
          if (r.verdict == "interrupted") res.stopped_at = fmt::format("{} {} step {}", label, name, r.steps_done + 1);
          if (!is_ref) r.final_params = {};
          res.runs.push_back(std::move(rec));
          if (is_ref) ref = res.runs.size() - 1;
          if (!res.stopped_at.empty()) break;
        }
        if (ref) res.runs[*ref].r.final_params = {};
        if (!res.stopped_at.empty()) break;
      }
      if (!res.stopped_at.empty()) break;
    }
    summarize_case(res, ci, impls, first_run);
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return res;
}

int converge_exit_code(const converge_result& res, bool allow_empty) {
  if (!res.stopped_at.empty()) return 130;
  if (res.empty_slice) return empty_slice("converge", res.shard);
  if (res.runs.size() == static_cast<std::size_t>(res.count("skip"))) {
    std::vector<std::string> why;  // "IMPL: reason"
    for (auto& run : res.runs) why.push_back(run.r.impl + ": " + run.r.reason);
    return nothing_checked("converge", why, allow_empty);
  }
  return res.unmet.empty() && res.count("error") == 0 ? 0 : 1;
}

int run_converge(const converge_suite& suite, const registry& reg, const converge_options& opt) {
  const converge_result res = compute_converge(suite, reg, opt);
  print_converge_summary(res);
  write_converge_outputs(res, opt);
  return converge_exit_code(res, opt.allow_empty);
}

}  // namespace adambench
