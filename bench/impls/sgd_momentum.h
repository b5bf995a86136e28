#pragma once
/// The SGD-with-momentum baseline (torch.optim.SGD semantics) as a registered implementation.
/// It reads its hyper-parameters from an adam_config: lr is SGD's lr, beta1 is the momentum,
/// weight_decay is SGD's (coupled, L2) weight decay; beta2, eps and algo are ignored. It runs only
/// where the caller allows non-Adam baselines (case_features::baselines_allowed: convergence runs).
#include "core/adam_config.h"

namespace adambench {

/// Registered name of the baseline.
inline constexpr const char* sgd_momentum_name = "sgd-momentum";

/// The configuration the baseline gets from SGD's lr, momentum and weight decay.
inline adam_config sgd_momentum_config(double lr, double momentum, double weight_decay) {
  adam_config c;
  c.lr = lr;
  c.beta1 = momentum;
  c.weight_decay = weight_decay;
  return c;
}

}  // namespace adambench
