#pragma once
/// The per-step scalars of Adam/AdamW, computed once for every implementation that needs them
/// (the reference, Eigen, CUDA, libtorch-foreach). Header-only and free of fmt/Eigen/ATen so that
/// nvcc's host pass compiles it too.
///
/// Arithmetic: float64, operation for operation as torch.optim's _single_tensor_adam computes them
/// as Python floats (torch/optim/adam.py: bias_correction1 = 1 - beta1 ** step, step_size =
/// lr / bias_correction1, bias_correction2_sqrt = bias_correction2 ** 0.5 (`_dispatch_sqrt`),
/// param.mul_(1 - lr * weight_decay) for AdamW, exp_avg.lerp_(grad, 1 - beta1),
/// addcmul_(grad, grad, value=1 - beta2)). Callers round them to their own dtype afterwards.
#include <cmath>

namespace adambench {

/// The float64 scalars of one step; see adam_step_scalars_at.
struct adam_step_scalars {
  double bc1;              ///< bias_correction1 = 1 - beta1^t
  double bc2;              ///< bias_correction2 = 1 - beta2^t
  double step_size;        ///< lr / bc1 (the update is param - step_size * m / denom)
  double bc2_sqrt;         ///< sqrt(bc2): denom = sqrt(v) / bc2_sqrt + eps
  double decay_mul;        ///< 1 - lr * weight_decay, AdamW's decoupled decay multiplier
  double w1;               ///< 1 - beta1, the lerp weight of m
  double one_minus_beta2;  ///< 1 - beta2, the addcmul weight of v
};

/// The scalars derived from given bias corrections: the test build's mutants
/// (impls/eigen/eigen_adam_kernel.h) plant wrong ones through this.
inline adam_step_scalars adam_step_scalars_from(double bc1, double bc2, double lr, double beta1, double beta2,
                                                double weight_decay) {
  adam_step_scalars s{};
  s.bc1 = bc1;
  s.bc2 = bc2;
  s.step_size = lr / bc1;
  s.bc2_sqrt = std::sqrt(bc2);
  s.decay_mul = 1.0 - lr * weight_decay;
  s.w1 = 1.0 - beta1;
  s.one_minus_beta2 = 1.0 - beta2;
  return s;
}

/// The scalars of step t (t >= 1: torch.optim increments the step before computing them), t as a
/// double because torch.optim turns its step tensor into a Python float first.
inline adam_step_scalars adam_step_scalars_at(double t, double lr, double beta1, double beta2, double weight_decay) {
  return adam_step_scalars_from(1.0 - std::pow(beta1, t), 1.0 - std::pow(beta2, t), lr, beta1, beta2, weight_decay);
}

}  // namespace adambench
