#pragma once
/// Learning-rate schedules with PyTorch's semantics (torch.optim.lr_scheduler), driven by the
/// convergence runner once per optimizer step (and, for plateau, once per evaluation) and applied
/// to every implementation through optimizer::set_lr().
///
/// Example: warmup 100 steps then cosine to 0 over 1000 steps in all:
///   lr_schedule s(schedule_spec{.kind = schedule_kind::warmup_cosine, .warmup = 100, .t_max = 1000}, 1e-3);
///   for (t = 1..) { opt.step(); s.step(); opt.set_lr(s.lr()); }
#include <cstdint>
#include <string>

namespace adambench {

enum class schedule_kind {
  constant,       ///< lr = base
  step,           ///< StepLR: base * gamma^floor(t / step_size)
  cosine,         ///< CosineAnnealingLR (closed form): eta_min + (base - eta_min)(1 + cos(pi t / t_max)) / 2
  warmup_cosine,  ///< SequentialLR(LinearLR(start_factor, 1, warmup), CosineAnnealingLR(t_max - warmup))
  plateau,        ///< ReduceLROnPlateau(mode min, factor, patience, threshold rel, cooldown, min_lr)
};
const char* to_string(schedule_kind k);
/// Parses constant | step | cosine | warmup_cosine | plateau; throws input_error otherwise.
schedule_kind parse_schedule_kind(const std::string& s);

/// Parameters with PyTorch's names and defaults.
struct schedule_spec {
  schedule_kind kind = schedule_kind::constant;
  std::int64_t step_size = 100;  ///< StepLR
  double gamma = 0.1;            ///< StepLR
  std::int64_t t_max = 1000;     ///< CosineAnnealingLR's T_max; for warmup_cosine the whole run (warmup included)
  double eta_min = 0.0;          ///< CosineAnnealingLR
  std::int64_t warmup = 0;       ///< LinearLR's total_iters
  double start_factor = 1.0 / 3; ///< LinearLR's start_factor (PyTorch's default)
  double factor = 0.1;           ///< ReduceLROnPlateau
  std::int64_t patience = 10;    ///< ReduceLROnPlateau (in evaluations)
  double threshold = 1e-4;       ///< ReduceLROnPlateau, threshold_mode "rel"
  std::int64_t cooldown = 0;     ///< ReduceLROnPlateau
  double min_lr = 0.0;           ///< ReduceLROnPlateau
  double plateau_eps = 1e-8;     ///< ReduceLROnPlateau's eps: smaller reductions are ignored

  /// Throws input_error naming the bad value.
  void validate() const;
  /// One line, e.g. "cosine t_max=1000 eta_min=0".
  std::string describe() const;
};

/// A schedule's state: the number of steps taken (PyTorch's last_epoch) and the current lr.
class lr_schedule {
 public:
  lr_schedule(const schedule_spec& spec, double base_lr);
  /// The learning rate for the next optimizer step.
  double lr() const { return lr_; }
  /// Advances one optimizer step (StepLR, cosine, warmup); no effect for plateau and constant.
  void step();
  /// Reports a validation metric (lower is better); only plateau reacts.
  void observe(double metric);
  std::int64_t steps() const { return t_; }

  /// The closed-form lr after t steps for the step-driven kinds (used by step() and the tests).
  static double closed_form(const schedule_spec& s, double base_lr, std::int64_t t);

 private:
  schedule_spec spec_;
  double base_, lr_;
  std::int64_t t_ = 0;
  // ReduceLROnPlateau state, named as in PyTorch.
  double best_;
  std::int64_t num_bad_epochs_ = 0, cooldown_counter_ = 0;
};

}  // namespace adambench
