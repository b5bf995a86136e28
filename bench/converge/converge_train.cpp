// One training run of the convergence runner (converge/converge_train.h).
#include "converge/converge_train.h"

#include "shared/context.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace adambench {

const char* to_string(lr_scaling s) {
  switch (s) {
    case lr_scaling::none: return "none";
    case lr_scaling::linear: return "linear";
    case lr_scaling::sqrt: return "sqrt";
  }
  return "?";
}

double scaled_lr(double base, lr_scaling s, std::int64_t batch, std::int64_t base_batch) {
  const double r = static_cast<double>(batch) / static_cast<double>(base_batch);
  switch (s) {
    case lr_scaling::none: return base;
    case lr_scaling::linear: return base * r;
    case lr_scaling::sqrt: return base * std::sqrt(r);
  }
  return base;
}

adam_config config_for(const converge_case& c, const std::string& impl) {
  if (const impl_traits& t = default_registry().traits(impl); t.baseline()) return t.baseline_config(c.sgd_lr, c.sgd_momentum, c.config.weight_decay);
  return c.config;
}

namespace {

// A model's steps and evaluations allocate and free the same activation sizes again and again.
// glibc maps blocks over 32 MiB (an evaluation batch's activations) straight from the kernel and
// unmaps them on free, and trims the heap's free top: every step faulted its pages in afresh, a
// third of a small CNN's run in the kernel (docs/tuning.md, "Speed of training your model").
// Freed memory stays in the heap instead; the computation is unchanged.
void keep_freed_memory() {
#ifdef __GLIBC__
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
  });
#endif
}

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

std::string fmt_g(double x, int digits) {
  if (std::isnan(x)) return "-";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return fmt::format("{:.{}g}", x, digits);
}


// The state of one run between steps; each method is one phase of the loop in train_one().
struct trainer {
  const train_env& env;
  const converge_case& c;
  run_result& r;
  std::unique_ptr<workload> w;
  std::int64_t n = 0, eval_every = 1;
  double initial = NAN, loss_sum = 0;
  std::int64_t loss_n = 0;

  double epoch(std::int64_t t) const { return static_cast<double>(t) * static_cast<double>(env.batch) / static_cast<double>(n); }
  bool reached(const eval_point& e) const {
    if (!c.target) return false;
    return c.target_is_accuracy ? e.acc >= *c.target : e.loss <= *c.target;
  }
  eval_point evaluate() {
    const auto t0 = clock_type::now();
    eval_point e = w->evaluate();
    r.eval_s += seconds_since(t0);
    return e;
  }
  // A non-finite loss, or one above explode_factor x the initial loss, stops the run at step t.
  bool diverged(double loss, std::int64_t t, const char* what) {
    const bool bad = !std::isfinite(loss) || (std::isfinite(initial) && std::abs(loss) > c.explode_factor * std::max(initial, 1e-12));
    if (!bad || r.diverged_at >= 0) return bad;
    r.verdict = "diverged";
    r.diverged_at = t;
    r.reason = std::isfinite(loss) ? fmt::format("{} {:.4g} > {:g} x initial loss {:.4g} at step {}", what, loss, c.explode_factor, initial, t)
                                   : fmt::format("{} {} at step {}", what, fmt_g(loss, 3), t);
    return true;
  }
  // The row's lr is the one the last step used, as a training log would show it.
  void record(std::int64_t t, double lr_used, const eval_point& e) {
    r.curve.push_back({t, epoch(t), lr_used, loss_n ? loss_sum / static_cast<double>(loss_n) : NAN, e.loss, e.acc, r.train_s});
    loss_sum = 0;
    loss_n = 0;
  }
  // Gradients scaled by the case's grad_scale (1: untouched), as if the loss were scaled.
  void scale_grads() {
    if (c.grad_scale == 1.0) return;
    const auto s = static_cast<float>(c.grad_scale);
    for (auto& g : w->grads())
      for (std::int64_t k = 0; k < g.numel(); ++k) static_cast<float*>(g.data)[k] *= s;
  }
  void progress(std::int64_t t, const std::string& impl) const {
    auto& last = r.curve.back();
    fmt::print(stderr, "  {} {}: step {}/{}, train loss {}, val loss {}{}\n", env.label, impl, t, r.steps_budget, fmt_g(last.train_loss, 4),
               fmt_g(last.val_loss, 4), std::isnan(last.val_acc) ? "" : fmt::format(", val acc {:.4f}", last.val_acc));
  }
  // The step budget and evaluation interval from the case (steps, or epochs over the training set).
  void plan() {
    n = w->train_size();
    r.steps_budget = c.steps > 0 ? c.steps : static_cast<std::int64_t>(std::ceil(c.epochs * static_cast<double>(n) / static_cast<double>(env.batch)));
    eval_every = c.eval_every > 0 ? c.eval_every : std::max<std::int64_t>(1, r.steps_budget / c.evals);
  }
  // Step t on `batch`: gradient and optimizer step, timed (train_s: both; opt_s: the optimizer's).
  double train_step(optimizer& opt, std::span<const std::int64_t> batch, std::int64_t t) {
    const auto t0 = clock_type::now();
    const double loss = w->compute_grad(batch, t);
    scale_grads();
    const auto t1 = clock_type::now();
    opt.step();
    const auto t2 = clock_type::now();
    r.train_s += std::chrono::duration<double>(t2 - t0).count();
    r.opt_s += std::chrono::duration<double>(t2 - t1).count();
    r.steps_done = t;
    r.samples += env.batch;
    loss_sum += loss;
    ++loss_n;
    return loss;
  }
  void keep_final_params() {
    for (auto& p : w->params()) {
      const float* x = static_cast<const float*>(p.data);
      r.final_params.insert(r.final_params.end(), x, x + p.numel());
    }
  }
};

}  // namespace

run_result train_one(const train_env& env, const std::string& impl, const optimizer_factory& make) {
  const converge_case& c = env.c;
  keep_freed_memory();
  run_result r;
  r.impl = impl;
  trainer tr{env, c, r, default_workloads().at(c.workload.name).make(c.workload, env.seed, env.threads)};
  tr.plan();
  const std::int64_t B = env.batch;
  r.lr = scaled_lr(config_for(c, impl).lr, c.scaling, B, c.base_batch);
  schedule_spec ss = c.schedule;
  if (c.t_max_is_run_length) ss.t_max = std::max<std::int64_t>(r.steps_budget, ss.warmup + 1);
  lr_schedule sched(ss, r.lr);
  std::unique_ptr<optimizer> opt = make(sched.lr());
  opt->bind(tr.w->params(), tr.w->grads());
  batch_sampler sampler(tr.n, B, env.seed);

  const eval_point e0 = tr.evaluate();
  tr.record(0, sched.lr(), e0);
  tr.initial = std::isfinite(e0.loss) ? std::abs(e0.loss) : NAN;
  if (tr.reached(e0)) r.steps_to_target = 0, r.wall_to_target = 0;
  auto last_progress = clock_type::now();
  for (std::int64_t t = 1; t <= r.steps_budget; ++t) {
    if (interrupted.load()) {
      r.verdict = "interrupted";
      r.reason = fmt::format("interrupted before step {}", t);
      break;
    }
    const double loss = tr.train_step(*opt, sampler.next(), t);
    const double lr_used = sched.lr();
    sched.step();
    const bool bad = tr.diverged(loss, t, "train loss");
    if (bad || t % tr.eval_every == 0 || t == r.steps_budget) {
      const eval_point e = tr.evaluate();
      tr.record(t, lr_used, e);
      if (!bad) tr.diverged(e.loss, t, "validation loss");
      if (r.diverged_at < 0 && r.steps_to_target < 0 && tr.reached(e)) r.steps_to_target = t, r.wall_to_target = r.train_s;
      sched.observe(e.loss);
    }
    if (r.diverged_at >= 0) break;
    if (sched.lr() != lr_used) opt->set_lr(sched.lr());
    if (!env.quiet && seconds_since(last_progress) > 5.0) last_progress = clock_type::now(), tr.progress(t, impl);
  }
  if (r.verdict == "interrupted" && r.steps_done > r.curve.back().step) tr.record(r.steps_done, sched.lr(), tr.w->evaluate());  // the curve ends where the run stopped
  tr.keep_final_params();
  return r;
}

void compute_drift(run_result& r, const run_result& ref) {
  r.has_drift = true;
  std::map<std::int64_t, const curve_row*> by_step;
  for (auto& row : ref.curve) by_step[row.step] = &row;
  auto absdiff = [](double a, double b) {
    if (std::isnan(a) && std::isnan(b)) return 0.0;
    return std::abs(a - b);  // NaN on one side only: NaN (reported as such)
  };
  auto upd = [](double& m, double d) { m = std::isnan(d) || std::isnan(m) ? NAN : std::max(m, d); };
  for (auto& row : r.curve) {
    auto it = by_step.find(row.step);
    if (it == by_step.end()) continue;
    upd(r.drift_val, absdiff(row.val_loss, it->second->val_loss));
    if (row.step > 0) upd(r.drift_train, absdiff(row.train_loss, it->second->train_loss));
    upd(r.drift_acc, absdiff(row.val_acc, it->second->val_acc));
  }
  double d2 = 0, n2 = 0;
  for (std::size_t i = 0; i < std::min(r.final_params.size(), ref.final_params.size()); ++i) {
    const double d = static_cast<double>(r.final_params[i]) - ref.final_params[i];
    d2 += d * d;
    n2 += static_cast<double>(ref.final_params[i]) * ref.final_params[i];
  }
  // A run reused from a run_store keeps no parameters: no parameter drift rather than a false 0.
  const bool same_size = r.final_params.size() == ref.final_params.size() && !r.final_params.empty();
  r.drift_l2 = same_size ? std::sqrt(d2) : NAN;
  r.drift_l2_rel = same_size && n2 > 0 ? std::sqrt(d2 / n2) : NAN;
}

}  // namespace adambench
