#pragma once
/// The float64 oracle: Adam and AdamW exactly as torch.optim computes them, one scalar at a time.
/// It knows nothing of any implementation under test.
#include "adambench/config.h"
#include "adambench/tensor.h"

#include <vector>

namespace adambench {

/// Scalar float64 Adam/AdamW with PyTorch's semantics (torch/optim/adam.py, _single_tensor_adam,
/// PyTorch 2.x). Example:
///   reference_adam ref(adam_config{}.with_lr(1e-2));
///   ref.init({{1.0, 2.0}});  ref.step({{0.1, -0.2}});  ref.state().params[0][0];
class reference_adam {
 public:
  /// `arithmetic` is the dtype the implementation under test computes in (float32 for 16-bit
  /// parameters, whose state is float32): it sets the underflow term of bounds() (docs/tolerances.md).
  explicit reference_adam(const adam_config& c, dtype arithmetic = dtype::float64);
  /// Takes the starting parameters; m, v, max_v start at zero and the step counter at 0.
  void init(std::vector<std::vector<double>> params);
  /// Replaces m, v, max_v and the step counter (params are kept).
  void load_state(const adam_state& s);
  /// One step with these gradients (same shapes as the parameters).
  void step(const std::vector<std::vector<double>>& grads);
  void set_lr(double lr);
  const adam_state& state() const { return st_; }
  /// Running error bounds (Wilkinson-style), one per value of state(): an implementation that
  /// rounds each operation to unit roundoff u, in any order PyTorch's formulas allow, stays
  /// within a small multiple of u * bound of the exact result. Arrays mirror params, m, v, vmax.
  /// Each rounding that can underflow adds the arithmetic dtype's smallest normal number: with
  /// gradual underflow a rounding errs by at most u*|x| + eta, and eta / u is that number.
  const adam_state& bounds() const { return bd_; }
  const adam_config& config() const { return cfg_; }

 private:
  adam_config cfg_;
  double tiny_;  // eta / u of the arithmetic dtype: its smallest normal number
  double u_;     // unit roundoff of the arithmetic dtype
  adam_state st_;
  adam_state bd_;
};

/// ATen's lerp (aten/src/ATen/native/Lerp.h, lerp): the two-branch form that PyTorch uses for
/// exp_avg.lerp_(grad, 1 - beta1). Its branch decides how ±inf turns into NaN.
inline double aten_lerp(double self, double end, double weight) {
  return (weight < 0.5 && weight > -0.5) ? self + weight * (end - self)
                                          : end - (end - self) * (1.0 - weight);
}

}  // namespace adambench
