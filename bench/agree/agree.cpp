// The agreement runner's compute step: inputs, the reference and every implementation stepped
// side by side, the comparisons; agree_report.cpp presents the result.
#include "agree/agree.h"

#include "adam_reference.h"
#include "core/agreement_metrics.h"
#include "shared/context.h"
#include "check/state_compare.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <random>
#include <regex>
#include <unistd.h>

namespace adambench {
namespace {

// Deterministic per (seed, case, step, tensor) so every implementation sees the same numbers.
std::mt19937_64 rng_for(std::uint64_t seed, std::size_t case_index, std::int64_t step, std::size_t tensor) {
  std::seed_seq s{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                  static_cast<std::uint32_t>(case_index), static_cast<std::uint32_t>(step),
                  static_cast<std::uint32_t>(tensor)};
  return std::mt19937_64(s);
}

double draw_grad(grad_kind k, std::mt19937_64& r, std::int64_t step, std::int64_t flat, double scale) {
  std::normal_distribution<double> n(0.0, 1.0);
  switch (k) {
    case grad_kind::normal: return scale * n(r);
    case grad_kind::wide: {  // magnitudes spread over 1e-10..1e1: exercises eps and large steps alike
      std::uniform_real_distribution<double> e(-10.0, 1.0);
      const double sign = (r() & 1) ? 1.0 : -1.0;
      return scale * sign * std::pow(10.0, e(r));
    }
    case grad_kind::zero: return 0.0;
    case grad_kind::tiny: return 1e-30 * scale * n(r);
    case grad_kind::huge: return 1e20 * scale * n(r);
    case grad_kind::nan:
      if (step == 1 && flat % 7 == 3) return std::nan("");
      return scale * n(r);
    case grad_kind::inf:
      if (step == 1 && flat % 7 == 3) return std::numeric_limits<double>::infinity();
      if (step == 1 && flat % 11 == 5) return -std::numeric_limits<double>::infinity();
      return scale * n(r);
  }
  return 0.0;
}

// The inputs of one case, dtype and seed, rounded to the dtype once so the reference and every
// implementation share them.
struct case_inputs {
  case_features f;
  std::vector<std::vector<double>> p0;
  adam_state s0;  ///< loaded only when f.starts_from_state
};

case_features features_of(const agree_case& c, dtype d) {
  case_features f;
  f.type = d;
  f.nonfinite_grad = c.grad == grad_kind::nan || c.grad == grad_kind::inf;
  f.nonfinite_then_more_steps = f.nonfinite_grad && c.check_steps.back() > 1;
  f.starts_from_state = c.random_state || c.start_step > 0;
  return f;
}

// m, v and max_v on the gradients' scale (huge capped so float32 v stays finite).
void random_state(const agree_case& c, dtype d, std::uint64_t seed, std::size_t ci, adam_state& s0, const std::vector<std::vector<double>>& p0) {
  const double gs = c.grad_scale * (c.grad == grad_kind::tiny ? 1e-30 : c.grad == grad_kind::huge ? 1e18 : 1.0);
  for (std::size_t i = 0; i < c.shapes.size(); ++i) {
    auto r = rng_for(seed, ci, -1, i);
    std::normal_distribution<double> n(0.0, 1.0);
    const std::size_t k = p0[i].size();
    std::vector<double> m(k), v(k), vm(k);
    for (std::size_t j = 0; j < k; ++j) {
      m[j] = round_to(d, 0.3 * gs * n(r));
      const double a = gs * n(r);
      v[j] = round_to(d, 0.5 * a * a);
      const double b = gs * n(r);
      vm[j] = round_to(d, v[j] + 0.5 * b * b);
    }
    s0.m.push_back(m);
    s0.v.push_back(v);
    if (c.config.amsgrad) s0.vmax.push_back(vm);
  }
}

case_inputs make_inputs(const agree_case& c, dtype d, std::uint64_t seed, std::size_t ci) {
  case_inputs in;
  in.f = features_of(c, d);
  for (std::size_t i = 0; i < c.shapes.size(); ++i) {
    auto r = rng_for(seed, ci, 0, i);
    std::normal_distribution<double> n(0.0, 1.0);
    std::vector<double> p(numel_of(c.shapes[i]));
    for (auto& x : p) x = round_to(d, c.param_scale * n(r));
    in.p0.push_back(std::move(p));
  }
  in.s0.step = c.start_step;
  if (c.random_state) {
    random_state(c, d, seed, ci, in.s0, in.p0);
  } else if (in.f.starts_from_state) {
    for (auto& p : in.p0) {
      in.s0.m.emplace_back(p.size(), 0.0);
      in.s0.v.emplace_back(p.size(), 0.0);
      if (c.config.amsgrad) in.s0.vmax.emplace_back(p.size(), 0.0);
    }
  }
  return in;
}

// One implementation under way: its optimizer, its parameters, and what it has shown so far.
struct impl_run {
  agree_record rec;
  std::unique_ptr<optimizer> opt;  ///< null once skipped or erred
  std::vector<host_tensor> params;
};

void fail_run(impl_run& r, const std::exception& ex) {
  r.rec.verdict = "error";
  r.rec.reason = ex.what();
  r.opt.reset();
}

impl_run start_run(const impl_entry& e, const agree_case& c, dtype d, const case_inputs& in, const impl_options& io,
                   const std::vector<tensor_view>& gviews) {
  impl_run r;
  r.rec.impl = e.name;
  support s = e.supports(c.config, in.f);
  if (!s.ok) {
    r.rec.verdict = "skip";
    r.rec.reason = s.reason;
    return r;
  }
  try {
    r.opt = e.make(c.config, io, d);
    std::vector<tensor_view> pv;
    for (std::size_t i = 0; i < c.shapes.size(); ++i) {
      r.params.emplace_back(d, c.shapes[i]);
      for (std::size_t k = 0; k < in.p0[i].size(); ++k) r.params.back().set(static_cast<std::int64_t>(k), in.p0[i][k]);
    }
    for (auto& p : r.params) pv.push_back(p.view());
    r.opt->bind(pv, gviews);
    if (in.f.starts_from_state) r.opt->load_state(in.s0);
  } catch (const std::exception& ex) {
    fail_run(r, ex);
  }
  return r;
}

// The gradients of step t (1-based from the case's start), into the tensors and as doubles for the reference.
void draw_grads(const agree_case& c, std::uint64_t seed, std::size_t ci, std::int64_t t, std::vector<host_tensor>& grads,
                std::vector<std::vector<double>>& gd) {
  for (std::size_t i = 0; i < c.shapes.size(); ++i) {
    auto r = rng_for(seed, ci, c.start_step + t, i);
    gd[i].resize(grads[i].numel());
    for (std::int64_t k = 0; k < grads[i].numel(); ++k) {
      grads[i].set(k, draw_grad(c.grad, r, t, k, c.grad_scale));
      gd[i][k] = grads[i].get(k);
    }
  }
}

// Compares one implementation with the reference after t steps; keeps the first mismatch and the worst errors.
void check_run(agree_result& res, impl_run& r, const agree_case& c, dtype d, std::int64_t t, const reference_adam& ref) {
  agree_record& rec = r.rec;
  const adam_state& want = ref.state();
  adam_state got = r.opt->read_state();
  state_comparison sc = compare_state(got, want, ref.bounds(), d, c.config.amsgrad);
  agree_check check{t, got.step, want.step, {}, tolerance_for(d).k, sc.ok()};
  if (got.step != want.step && rec.first_mismatch.empty())
    rec.first_mismatch = fmt::format("after {} steps: step counter {} where the reference has {}", t, got.step, want.step);
  for (const state_row& row : sc.rows) {
    const error_stats& all = row.stats;
    if (all.failed && rec.first_mismatch.empty())
      rec.first_mismatch = fmt::format("after {} steps: {}; (error {:.3g} u, tolerance {:.3g} u, shape {})", t, row.first_values, row.first_err_u,
                                       row.k, row.first_tensor >= 0 ? shape_string(c.shapes[row.first_tensor]) : "-");
    rec.worst_ulp = std::max(rec.worst_ulp, all.max_ulp);
    rec.worst_rel = std::max(rec.worst_rel, all.max_rel);
    rec.worst_err_u = std::max(rec.worst_err_u, all.max_err_u);
    auto& gr = res.growth[{rec.impl, d}][t];
    gr.first = std::max(gr.first, all.max_ulp);
    gr.second = std::max(gr.second, all.max_err_u);
  }
  check.rows = std::move(sc.rows);
  if (!check.ok) rec.verdict = "fail";
  rec.checks.push_back(std::move(check));
}

// Steps the reference and every implementation through the case, checking at its check steps.
void step_through(agree_result& res, std::vector<impl_run>& runs, reference_adam& ref, const agree_case& c, dtype d, std::uint64_t seed,
                  std::size_t ci, std::vector<host_tensor>& grads) {
  double lr = c.config.lr;
  std::size_t next_check = 0;
  std::vector<std::vector<double>> gd(c.shapes.size());
  for (std::int64_t t = 1; t <= c.check_steps.back(); ++t) {
    draw_grads(c, seed, ci, t, grads, gd);
    ref.step(gd);
    for (auto& r : runs) {
      if (!r.opt) continue;
      try {
        r.opt->step();
      } catch (const std::exception& ex) {
        fail_run(r, ex);
      }
    }
    if (c.lr_decay != 1.0) {
      lr *= c.lr_decay;
      ref.set_lr(lr);
      for (auto& r : runs)
        if (r.opt) r.opt->set_lr(lr);
    }
    if (t != c.check_steps[next_check]) continue;
    ++next_check;
    for (auto& r : runs)
      if (r.opt) check_run(res, r, c, d, t, ref);
  }
}

void tally(agree_result& res, const agree_key& key, const agree_record& r) {
  agree_cell& cl = res.cells[key][r.impl];
  if (r.verdict == "pass") {
    ++cl.pass;
    cl.err_u = std::max(cl.err_u, r.worst_err_u);
  } else if (r.verdict == "skip") {
    ++cl.skip;
  } else {
    ++cl.fail;
  }
}

// One case, dtype and seed: the reference and every implementation from the same inputs.
void run_seed(agree_result& res, std::size_t ci, dtype d, std::uint64_t seed, const std::vector<const impl_entry*>& impls, const impl_options& io) {
  const agree_case& c = res.cases[ci];
  const case_inputs in = make_inputs(c, d, seed, ci);
  reference_adam ref(c.config, is_16bit(d) ? dtype::float32 : d);  // the arithmetic dtype sets the underflow term
  ref.init(in.p0);
  if (in.f.starts_from_state) ref.load_state(in.s0);
  std::vector<host_tensor> grads;
  std::vector<tensor_view> gviews;
  for (auto& sh : c.shapes) grads.emplace_back(d, sh);
  for (auto& g : grads) gviews.push_back(g.view());
  std::vector<impl_run> runs;
  for (auto* e : impls) runs.push_back(start_run(*e, c, d, in, io, gviews));
  step_through(res, runs, ref, c, d, seed, ci, grads);
  for (auto& r : runs) {
    r.rec.case_index = ci;
    r.rec.type = d;
    r.rec.seed = seed;
    tally(res, {c.name, d}, r.rec);
    res.records.push_back(std::move(r.rec));
  }
}

// --filter first, then --shard over the cases it kept (as converge does); ci still seeds the inputs.
std::vector<bool> chosen_cases(const agree_suite& suite, const agree_options& opt) {
  std::vector<bool> chosen(suite.cases.size());
  const std::regex re(opt.filter.empty() ? std::string(".") : opt.filter);  // checked by the CLI
  std::size_t matched = 0;
  for (std::size_t ci = 0; ci < suite.cases.size(); ++ci) {
    if (!opt.filter.empty() && !std::regex_search(suite.cases[ci].name, re)) continue;
    chosen[ci] = static_cast<int>(matched++ % opt.shard.second) == opt.shard.first - 1;
  }
  if (!opt.filter.empty() && matched == 0) throw input_error(fmt::format("{}: no case matches --filter '{}'", suite.source, opt.filter));
  return chosen;
}

}  // namespace

int agree_result::count(const std::string& verdict) const {
  return static_cast<int>(std::count_if(records.begin(), records.end(), [&](const agree_record& r) { return r.verdict == verdict; }));
}

int agree_result::failed() const { return static_cast<int>(records.size()) - count("pass") - count("skip"); }

std::map<std::string, std::set<std::string>> agree_result::skip_reasons() const {
  std::map<std::string, std::set<std::string>> why;
  for (auto& r : records)
    if (r.verdict == "skip") why[r.impl].insert(r.reason);
  return why;
}

agree_result compute_agree(const agree_suite& suite, const registry& reg, const agree_options& opt) {
  agree_result res;
  res.source = suite.source;
  res.cases = suite.cases;
  res.impls = !opt.impls.empty() ? opt.impls : suite.impls;
  if (res.impls.empty()) res.impls = reg.names();
  std::vector<const impl_entry*> impls;
  for (auto& n : res.impls) impls.push_back(&reg.at(n));
  res.dtypes = !opt.dtypes.empty() ? opt.dtypes : suite.dtypes;
  res.threads = opt.threads;
  res.shard = opt.shard;
  std::vector<std::uint64_t> seeds = suite.seeds;
  if (opt.seed_count) {
    seeds.clear();
    for (int i = 0; i < *opt.seed_count; ++i) seeds.push_back(static_cast<std::uint64_t>(i));
  }
  const impl_options io{opt.threads};
  const std::vector<bool> chosen = chosen_cases(suite, opt);
  res.empty_slice = opt.shard.second > 1 && std::find(chosen.begin(), chosen.end(), true) == chosen.end();
  const std::size_t total = static_cast<std::size_t>(std::count(chosen.begin(), chosen.end(), true)) * res.dtypes.size() * seeds.size();
  std::size_t done = 0;
  const bool tty = ::isatty(2);
  const auto t_start = std::chrono::steady_clock::now();

  for (std::size_t ci = 0; ci < res.cases.size() && res.stopped_at.empty(); ++ci) {
    if (!chosen[ci]) continue;
    const agree_case& c = res.cases[ci];
    for (dtype d : res.dtypes) {
      if (interrupted.load()) res.stopped_at = fmt::format("{} {}", c.name, to_string(d));
      if (!res.stopped_at.empty()) break;
      if (!res.cells.count({c.name, d})) res.rows.emplace_back(c.name, d);
      for (std::uint64_t seed : seeds) {
        ++done;
        if (!opt.quiet)
          fmt::print(stderr, "{}[{}/{}] {} {} seed {}{}", tty ? "\r\033[K" : "", done, total, c.name, to_string(d), seed, tty ? "" : "\n");
        run_seed(res, ci, d, seed, impls, io);
      }
    }
  }
  if (!opt.quiet && tty) fmt::print(stderr, "\r\033[K");
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return res;
}

int agree_exit_code(const agree_result& res, bool allow_empty) {
  if (!res.stopped_at.empty()) return 130;
  if (res.empty_slice) return empty_slice("agree", res.shard);
  if (res.count("pass") + res.failed() == 0) {
    std::vector<std::string> why;
    for (auto& [impl, reasons] : res.skip_reasons())
      for (auto& r : reasons) why.push_back(impl + ": " + r);
    return nothing_checked("agree", why, allow_empty);
  }
  return res.failed() ? 1 : 0;
}

int run_agree(const agree_suite& suite, const registry& reg, const agree_options& opt) {
  const agree_result res = compute_agree(suite, reg, opt);
  print_agree_summary(res);
  if (opt.out) write_agree_json(res, *opt.out);
  return agree_exit_code(res, opt.allow_empty);
}

}  // namespace adambench
