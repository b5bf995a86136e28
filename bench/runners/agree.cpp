#include "runners/agree.h"

#include "adam_reference.h"
#include "core/compare.h"
#include "core/results.h"
#include "runners/context.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>
#include <random>
#include <regex>
#include <set>
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

struct impl_run {
  const impl_entry* entry = nullptr;
  std::unique_ptr<optimizer> opt;
  std::vector<host_tensor> params;
  std::string verdict = "pass";  // pass | fail | skip | error
  std::string reason;
  nlohmann::json checks = nlohmann::json::array();
  double worst_ulp = 0, worst_rel = 0, worst_err_u = 0;
  std::string first_mismatch;
};

struct cell {
  int pass = 0, fail = 0, skip = 0;
  double err_u = 0;  // worst |error| / (u * bound)
};

std::string fmt_num(double x) {
  if (std::isinf(x)) return "inf";
  if (x == 0) return "0";
  return fmt::format("{:.2g}", x);
}

}  // namespace

int run_agree(const agree_suite& suite, const registry& reg, const agree_options& opt) {
  std::vector<std::string> impl_names = !opt.impls.empty() ? opt.impls : suite.impls;
  if (impl_names.empty()) impl_names = reg.names();
  std::vector<const impl_entry*> impls;
  for (auto& n : impl_names) impls.push_back(&reg.at(n));
  const std::vector<dtype> dtypes = !opt.dtypes.empty() ? opt.dtypes : suite.dtypes;
  std::vector<std::uint64_t> seeds = suite.seeds;
  if (opt.seed_count) {
    seeds.clear();
    for (int i = 0; i < *opt.seed_count; ++i) seeds.push_back(static_cast<std::uint64_t>(i));
  }
  impl_options io{opt.threads};

  nlohmann::json records = nlohmann::json::array();
  std::map<std::pair<std::string, dtype>, std::map<std::string, cell>> table;  // (case, dtype) -> impl -> cell
  std::vector<std::pair<std::string, dtype>> row_order;
  // growth[(impl, dtype)][step] = worst ulp / rel
  std::map<std::pair<std::string, dtype>, std::map<std::int64_t, std::pair<double, double>>> growth;
  std::vector<std::string> failures;
  std::map<std::string, std::set<std::string>> skip_reasons;
  int n_pass = 0, n_fail = 0, n_skip = 0;
  // --filter first, then --shard over the cases it kept (as converge does); ci still seeds the inputs.
  std::vector<bool> chosen(suite.cases.size());
  {
    const std::regex re(opt.filter.empty() ? std::string(".") : opt.filter);  // checked by the CLI
    std::size_t matched = 0;
    for (std::size_t ci = 0; ci < suite.cases.size(); ++ci) {
      if (!opt.filter.empty() && !std::regex_search(suite.cases[ci].name, re)) continue;
      chosen[ci] = static_cast<int>(matched++ % opt.shard.second) == opt.shard.first - 1;
    }
    if (!opt.filter.empty() && matched == 0) throw input_error(fmt::format("{}: no case matches --filter '{}'", suite.source, opt.filter));
  }
  auto in_shard = [&](std::size_t ci) { return static_cast<bool>(chosen[ci]); };
  std::size_t shard_cases = 0;
  for (std::size_t ci = 0; ci < suite.cases.size(); ++ci) shard_cases += in_shard(ci);
  const std::size_t total = shard_cases * dtypes.size() * seeds.size();
  std::size_t done = 0;
  std::string stopped_at;
  const bool tty = ::isatty(2);
  const auto t_start = std::chrono::steady_clock::now();

  for (std::size_t ci = 0; ci < suite.cases.size() && stopped_at.empty(); ++ci) {
    if (!in_shard(ci)) continue;
    const agree_case& c = suite.cases[ci];
    for (dtype d : dtypes) {
      if (stopped_at.empty() && interrupted.load()) stopped_at = fmt::format("{} {}", c.name, to_string(d));
      if (!stopped_at.empty()) break;
      auto key = std::make_pair(c.name, d);
      if (!table.count(key)) row_order.push_back(key);
      for (std::uint64_t seed : seeds) {
        ++done;
        if (!opt.quiet)
          fmt::print(stderr, "{}[{}/{}] {} {} seed {}{}", tty ? "\r\033[K" : "", done, total, c.name, to_string(d), seed, tty ? "" : "\n");
        const std::int64_t last = c.check_steps.back();
        case_features f;
        f.type = d;
        f.nonfinite_then_more_steps = (c.grad == grad_kind::nan || c.grad == grad_kind::inf) && last > 1;
        f.starts_from_state = c.random_state || c.start_step > 0;

        // Inputs, rounded to the dtype once so the reference and every implementation share them.
        std::vector<std::vector<double>> p0;
        {
          for (std::size_t i = 0; i < c.shapes.size(); ++i) {
            auto r = rng_for(seed, ci, 0, i);
            std::normal_distribution<double> n(0.0, 1.0);
            std::vector<double> p(numel_of(c.shapes[i]));
            for (auto& x : p) x = round_to(d, c.param_scale * n(r));
            p0.push_back(std::move(p));
          }
        }
        adam_state s0;
        s0.step = c.start_step;
        if (c.random_state) {
          for (std::size_t i = 0; i < c.shapes.size(); ++i) {
            auto r = rng_for(seed, ci, -1, i);
            std::normal_distribution<double> n(0.0, 1.0);
            const std::size_t k = p0[i].size();
            std::vector<double> m(k), v(k), vm(k);
            // State on the gradients' scale (huge capped so float32 v stays finite).
            const double gs = c.grad_scale * (c.grad == grad_kind::tiny ? 1e-30 : c.grad == grad_kind::huge ? 1e18 : 1.0);
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
        reference_adam ref(c.config, is_16bit(d) ? dtype::float32 : d);  // the arithmetic dtype sets the underflow term
        ref.init(p0);
        if (f.starts_from_state) {
          if (!c.random_state) {
            for (auto& p : p0) {
              s0.m.emplace_back(p.size(), 0.0);
              s0.v.emplace_back(p.size(), 0.0);
              if (c.config.amsgrad) s0.vmax.emplace_back(p.size(), 0.0);
            }
          }
          ref.load_state(s0);
        }
        std::vector<host_tensor> grads;
        std::vector<tensor_view> gviews;
        for (auto& sh : c.shapes) grads.emplace_back(d, sh);
        for (auto& g : grads) gviews.push_back(g.view());

        std::vector<impl_run> runs;
        for (auto* e : impls) {
          impl_run r;
          r.entry = e;
          support s = e->supports(c.config, f);
          if (!s.ok) {
            r.verdict = "skip";
            r.reason = s.reason;
            runs.push_back(std::move(r));
            continue;
          }
          try {
            r.opt = e->make(c.config, io, d);
            std::vector<tensor_view> pv;
            for (std::size_t i = 0; i < c.shapes.size(); ++i) {
              r.params.emplace_back(d, c.shapes[i]);
              for (std::size_t k = 0; k < p0[i].size(); ++k) r.params.back().set(static_cast<std::int64_t>(k), p0[i][k]);
            }
            for (auto& p : r.params) pv.push_back(p.view());
            r.opt->bind(pv, gviews);
            if (f.starts_from_state) r.opt->load_state(s0);
          } catch (const std::exception& ex) {
            r.verdict = "error";
            r.reason = ex.what();
            r.opt.reset();
          }
          runs.push_back(std::move(r));
        }

        double lr = c.config.lr;
        std::size_t next_check = 0;
        std::vector<std::vector<double>> gd(c.shapes.size());
        for (std::int64_t t = 1; t <= last; ++t) {
          const std::int64_t global_step = c.start_step + t;
          for (std::size_t i = 0; i < c.shapes.size(); ++i) {
            auto r = rng_for(seed, ci, global_step, i);
            gd[i].resize(grads[i].numel());
            for (std::int64_t k = 0; k < grads[i].numel(); ++k) {
              grads[i].set(k, draw_grad(c.grad, r, t, k, c.grad_scale));
              gd[i][k] = grads[i].get(k);
            }
          }
          ref.step(gd);
          for (auto& r : runs) {
            if (!r.opt) continue;
            try {
              r.opt->step();
            } catch (const std::exception& ex) {
              r.verdict = "error";
              r.reason = ex.what();
              r.opt.reset();
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
          const adam_state& want = ref.state();
          const tolerance tol = tolerance_for(d);
          // 16-bit parameters carry float32 state (master weights, m, v): state compares as float32.
          const dtype sd = is_16bit(d) ? dtype::float32 : d;
          for (auto& r : runs) {
            if (!r.opt) continue;
            adam_state got = r.opt->read_state();
            nlohmann::json check;
            check["step"] = t;
            bool ok = got.step == want.step;
            check["step_counter"] = {{"got", got.step}, {"want", want.step}};
            if (!ok && r.first_mismatch.empty())
              r.first_mismatch = fmt::format("after {} steps: step counter {} where the reference has {}", t, got.step, want.step);
            auto cmp = [&](const char* name, const auto& g, const auto& w, const auto& b, dtype cd) {
              const tolerance tol = tolerance_for(cd);
              error_stats all;
              if (g.size() != w.size()) {
                all.failed = 1;
                if (r.first_mismatch.empty())
                  r.first_mismatch = fmt::format("after {} steps: {} has {} tensors, reference {}", t, name, g.size(), w.size());
              }
              for (std::size_t i = 0; i < std::min(g.size(), w.size()); ++i) {
                error_stats e = compare_values(g[i], w[i], b[i], cd, tol);
                if (e.failed && r.first_mismatch.empty()) {
                  std::string vals;  // the first few mismatching values, llm.c style
                  for (auto k : e.bad_indices)
                    vals += fmt::format("{}[{}][{}] got {:.9g} want {:.9g}; ", name, i, k, g[i][k], w[i][k]);
                  r.first_mismatch = fmt::format("after {} steps: {}(error {:.3g} u, tolerance {:.3g} u, shape {})", t, vals, e.max_err_u, tol.k, shape_string(c.shapes[i]));
                }
                all.merge(e);
              }
              check[name] = {{"max_abs", all.max_abs}, {"max_rel", all.max_rel}, {"max_ulp", all.max_ulp}, {"max_err_u", all.max_err_u},
                             {"compared", all.compared}, {"failed", all.failed}};
              if (all.failed) ok = false;
              r.worst_ulp = std::max(r.worst_ulp, all.max_ulp);
              r.worst_rel = std::max(r.worst_rel, all.max_rel);
              r.worst_err_u = std::max(r.worst_err_u, all.max_err_u);
              auto& gr = growth[{r.entry->name, d}][t];
              gr.first = std::max(gr.first, all.max_ulp);
              gr.second = std::max(gr.second, all.max_err_u);
            };
            const adam_state& bnd = ref.bounds();
            cmp("params", got.params, want.params, bnd.params, d);
            cmp("m", got.m, want.m, bnd.m, sd);
            cmp("v", got.v, want.v, bnd.v, sd);
            if (c.config.amsgrad) cmp("max_v", got.vmax, want.vmax, bnd.vmax, sd);
            check["tolerance_u"] = tol.k;
            check["ok"] = ok;
            if (!ok) r.verdict = "fail";
            r.checks.push_back(check);
          }
        }

        for (auto& r : runs) {
          cell& cl = table[key][r.entry->name];
          nlohmann::json rec;
          rec["case"] = c.name;
          rec["impl"] = r.entry->name;
          rec["dtype"] = to_string(d);
          rec["seed"] = seed;
          rec["config"] = c.config.describe();
          rec["grad"] = to_string(c.grad);
          rec["tensors"] = c.shapes.size();
          std::int64_t numel = 0;
          for (auto& sh : c.shapes) numel += numel_of(sh);
          rec["numel"] = numel;
          rec["start_step"] = c.start_step;
          rec["random_state"] = c.random_state;
          rec["verdict"] = r.verdict;
          if (!r.reason.empty()) rec["reason"] = r.reason;
          if (!r.first_mismatch.empty()) rec["first_mismatch"] = r.first_mismatch;
          rec["checks"] = r.checks;
          records.push_back(rec);
          if (r.verdict == "pass") {
            ++cl.pass;
            ++n_pass;
            cl.err_u = std::max(cl.err_u, r.worst_err_u);
          } else if (r.verdict == "skip") {
            ++cl.skip;
            ++n_skip;
            skip_reasons[r.entry->name].insert(r.reason);
          } else {
            ++cl.fail;
            ++n_fail;
            failures.push_back(fmt::format("{} {} seed {} {}: {}", c.name, to_string(d), seed, r.entry->name,
                                           r.verdict == "error" ? "error: " + r.reason : r.first_mismatch));
          }
        }
      }
    }
  }
  if (!opt.quiet && tty) fmt::print(stderr, "\r\033[K");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();

  // Terminal table: one row per case and dtype, one column per implementation. A cell shows the
  // worst error over parameters and state in units of u * bound (the tolerance is tolerance_for().k).
  fmt::print("Agreement with the float64 reference: worst |error| / (u * running bound); pass <= {:g} (float32 and float64)",
             tolerance_for(dtype::float32).k);
  if (std::any_of(dtypes.begin(), dtypes.end(), is_16bit))  // docs/cuda.md
    fmt::print("; 16-bit parameters <= {:g} (u = 2^-8 bfloat16, 2^-11 float16), their float32 state as float32",
               tolerance_for(dtype::bfloat16).k);
  fmt::print("\n");
  std::size_t w0 = 4;
  for (auto& k : row_order) w0 = std::max(w0, k.first.size());
  fmt::print("{:<{}}  {:<8}", "case", w0, "dtype");
  for (auto* e : impls) fmt::print("  {:>{}}", e->name, std::max<std::size_t>(9, e->name.size()));
  fmt::print("\n");
  for (auto& k : row_order) {
    fmt::print("{:<{}}  {:<8}", k.first, w0, to_string(k.second));
    for (auto* e : impls) {
      const cell& cl = table[k][e->name];
      std::string s = cl.fail ? "FAIL" : cl.pass ? fmt::format("ok {}", fmt_num(cl.err_u)) : cl.skip ? "skip" : "-";
      fmt::print("  {:>{}}", s, std::max<std::size_t>(9, e->name.size()));
    }
    fmt::print("\n");
  }
  fmt::print("\nError growth by steps taken (worst over all cases: max ULP distance, then |error| / (u * bound)):\n");
  for (auto& [k, by_step] : growth) {
    fmt::print("  {:<18} {:<8}", k.first, to_string(k.second));
    for (auto& [t, e] : by_step) fmt::print("  {:>4} steps: {:>6} ulp {:>6} u", t, fmt_num(e.first), fmt_num(e.second));
    fmt::print("\n");
  }
  if (!skip_reasons.empty()) {
    fmt::print("\nSkipped (implementation: reason):\n");
    for (auto& [impl, reasons] : skip_reasons)
      for (auto& r : reasons) fmt::print("  {}: {}\n", impl, r);
  }
  if (!failures.empty()) {
    fmt::print("\nDisagreements (first mismatching values):\n");
    for (auto& f : failures) fmt::print("  {}\n", f);
  }
  if (!stopped_at.empty()) fmt::print("\nInterrupted: stopped before {}; results above are complete up to there.\n", stopped_at);
  fmt::print("\nagree: {} passed, {} failed, {} skipped ({:.1f} s)\n", n_pass, n_fail, n_skip, seconds);

  if (opt.out) {
    nlohmann::json j;
    j["schema_version"] = result_schema_version;
    j["kind"] = "agree";
    j["context"] = run_context(opt.threads);
    j["suite"] = suite.source;
    j["impls"] = impl_names;
    j["tolerance_policy"] = "docs/tolerances.md";
    j["summary"] = {{"passed", n_pass}, {"failed", n_fail}, {"skipped", n_skip}, {"seconds", seconds}};
    if (opt.shard.second > 1) j["shard"] = fmt::format("{}/{}", opt.shard.first, opt.shard.second);
    j["interrupted"] = !stopped_at.empty();
    if (!stopped_at.empty()) j["stopped_before"] = stopped_at;
    j["results"] = records;
    auto path = *opt.out / "agree.json";
    write_json_atomic(path, j);
    fmt::print("wrote {}\n", path.string());
  }
  if (!stopped_at.empty()) return 130;
  if (n_pass + n_fail == 0) {
    std::vector<std::string> why;
    for (auto& [impl, reasons] : skip_reasons)
      for (auto& r : reasons) why.push_back(impl + ": " + r);
    return nothing_checked("agree", why, opt.allow_empty);
  }
  return n_fail ? 1 : 0;
}

}  // namespace adambench
