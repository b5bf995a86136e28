#pragma once
/// adam_config: the hyper-parameters of one Adam/AdamW run, validated where it is made.
#include "adambench/errors.h"

#include <string>

namespace adambench {

enum class algo { adam, adamw };

/// Hyper-parameters with PyTorch's names and defaults (torch.optim.Adam / AdamW).
/// Example: auto c = adam_config{}.with_algo(algo::adamw).with_lr(3e-4).validated();
struct adam_config {
  algo kind = algo::adam;
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool amsgrad = false;
  bool maximize = false;

  adam_config& with_algo(algo a) { kind = a; return *this; }
  adam_config& with_lr(double v) { lr = v; return *this; }
  adam_config& with_betas(double b1, double b2) { beta1 = b1; beta2 = b2; return *this; }
  adam_config& with_eps(double v) { eps = v; return *this; }
  adam_config& with_weight_decay(double v) { weight_decay = v; return *this; }
  adam_config& with_amsgrad(bool v) { amsgrad = v; return *this; }
  adam_config& with_maximize(bool v) { maximize = v; return *this; }

  /// Throws input_error naming the first bad value, e.g. "invalid beta1 1.2: must be in [0, 1)".
  void validate() const;
  adam_config validated() const { validate(); return *this; }
  /// One line, e.g. "adamw lr=0.001 betas=(0.9,0.999) eps=1e-08 wd=0.01 amsgrad maximize".
  std::string describe() const;
};

const char* to_string(algo a);
/// Parses "adam" or "adamw"; throws input_error otherwise.
algo parse_algo(const std::string& s);

}  // namespace adambench
