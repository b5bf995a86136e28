#include "converge/schedules.h"

#include "adambench/errors.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <numbers>

namespace adambench {

const char* to_string(schedule_kind k) {
  switch (k) {
    case schedule_kind::constant: return "constant";
    case schedule_kind::step: return "step";
    case schedule_kind::cosine: return "cosine";
    case schedule_kind::warmup_cosine: return "warmup_cosine";
    case schedule_kind::plateau: return "plateau";
  }
  return "?";
}

schedule_kind parse_schedule_kind(const std::string& s) {
  for (auto k : {schedule_kind::constant, schedule_kind::step, schedule_kind::cosine, schedule_kind::warmup_cosine, schedule_kind::plateau})
    if (s == to_string(k)) return k;
  throw input_error(fmt::format("invalid schedule '{}': must be constant, step, cosine, warmup_cosine or plateau", s));
}

void schedule_spec::validate() const {
  if (step_size < 1) throw input_error(fmt::format("invalid step_size {}: must be >= 1", step_size));
  if (!(gamma > 0)) throw input_error(fmt::format("invalid gamma {}: must be > 0", gamma));
  if (t_max < 1) throw input_error(fmt::format("invalid t_max {}: must be >= 1", t_max));
  if (warmup < 0) throw input_error(fmt::format("invalid warmup {}: must be >= 0", warmup));
  if (kind == schedule_kind::warmup_cosine && warmup >= t_max)
    throw input_error(fmt::format("invalid warmup {}: must be < the run's length t_max {}", warmup, t_max));
  if (!(start_factor > 0 && start_factor <= 1)) throw input_error(fmt::format("invalid start_factor {}: must be in (0, 1]", start_factor));
  if (!(factor > 0 && factor < 1)) throw input_error(fmt::format("invalid factor {}: must be in (0, 1)", factor));
  if (patience < 0) throw input_error(fmt::format("invalid patience {}: must be >= 0", patience));
  if (!(threshold >= 0)) throw input_error(fmt::format("invalid threshold {}: must be >= 0", threshold));
  if (cooldown < 0) throw input_error(fmt::format("invalid cooldown {}: must be >= 0", cooldown));
  if (!(min_lr >= 0)) throw input_error(fmt::format("invalid min_lr {}: must be >= 0", min_lr));
}

std::string schedule_spec::describe() const {
  switch (kind) {
    case schedule_kind::constant: return "constant";
    case schedule_kind::step: return fmt::format("step step_size={} gamma={:g}", step_size, gamma);
    case schedule_kind::cosine: return fmt::format("cosine t_max={} eta_min={:g}", t_max, eta_min);
    case schedule_kind::warmup_cosine:
      return fmt::format("warmup_cosine warmup={} start_factor={:.4g} t_max={} eta_min={:g}", warmup, start_factor, t_max, eta_min);
    case schedule_kind::plateau:
      return fmt::format("plateau factor={:g} patience={} threshold={:g} cooldown={} min_lr={:g}", factor, patience, threshold, cooldown, min_lr);
  }
  return "?";
}

lr_schedule::lr_schedule(const schedule_spec& spec, double base_lr)
    : spec_(spec), base_(base_lr), lr_(closed_form(spec, base_lr, 0)), best_(std::numeric_limits<double>::infinity()) {
  spec_.validate();
}

double lr_schedule::closed_form(const schedule_spec& s, double base, std::int64_t t) {
  const double pi = std::numbers::pi;
  switch (s.kind) {
    case schedule_kind::constant:
    case schedule_kind::plateau: return base;
    case schedule_kind::step: return base * std::pow(s.gamma, static_cast<double>(t / s.step_size));
    case schedule_kind::cosine:
      // PyTorch's _get_closed_form_lr. Its get_lr() is a recursive form that agrees with this to
      // rounding for t <= T_max; past T_max both keep following the cosine (lr rises again).
      return s.eta_min + (base - s.eta_min) * (1 + std::cos(pi * static_cast<double>(t) / static_cast<double>(s.t_max))) / 2;
    case schedule_kind::warmup_cosine: {
      if (t < s.warmup) {
        // LinearLR(start_factor, end_factor=1, total_iters=warmup), closed form.
        return base * (s.start_factor + (1.0 - s.start_factor) * static_cast<double>(t) / static_cast<double>(s.warmup));
      }
      // SequentialLR switches at the milestone and restarts the cosine at its step 0 (lr = base).
      const double tc = static_cast<double>(t - s.warmup), tm = static_cast<double>(s.t_max - s.warmup);
      return s.eta_min + (base - s.eta_min) * (1 + std::cos(pi * tc / tm)) / 2;
    }
  }
  return base;
}

void lr_schedule::step() {
  ++t_;
  if (spec_.kind != schedule_kind::plateau) lr_ = closed_form(spec_, base_, t_);
}

void lr_schedule::observe(double metric) {
  if (spec_.kind != schedule_kind::plateau) return;
  // torch.optim.lr_scheduler.ReduceLROnPlateau.step(metrics), mode "min", threshold_mode "rel".
  if (metric < best_ * (1.0 - spec_.threshold)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;  // NaN metrics count as bad, as in PyTorch (NaN < x is false)
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;
  }
  if (num_bad_epochs_ > spec_.patience) {
    const double new_lr = std::max(lr_ * spec_.factor, spec_.min_lr);
    if (lr_ - new_lr > spec_.plateau_eps) lr_ = new_lr;
    cooldown_counter_ = spec_.cooldown;
    num_bad_epochs_ = 0;
  }
}

}  // namespace adambench
