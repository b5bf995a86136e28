// `sgd-momentum`: torch.optim.SGD(lr, momentum, dampening=0, nesterov=False, weight_decay) in
// float32, as PyTorch's for-loop implementation computes it: d = g + wd p; buf = d on the first
// step, else buf = momentum * buf + d; p -= lr * buf. The baseline row of convergence tables and
// the `algo = "sgd-momentum"` value of sweeps. Its traits (baseline_config) say how a case's SGD
// lr, momentum and weight decay reach it: runners ask the registry, never this file.
#include "adambench/optimizer.h"
#include "adambench/register.h"

#include <stdexcept>

namespace adambench {
namespace {

// It reads its hyper-parameters from an adam_config: lr is SGD's lr, beta1 is the momentum,
// weight_decay is SGD's (coupled, L2) weight decay; beta2, eps and algo are ignored. It runs only
// where the caller allows non-Adam baselines (case_features::baselines_allowed: convergence runs).
adam_config sgd_momentum_config(double lr, double momentum, double weight_decay) {
  adam_config c;
  c.lr = lr;
  c.beta1 = momentum;
  c.weight_decay = weight_decay;
  return c;
}

class sgd_momentum final : public optimizer {
 public:
  explicit sgd_momentum(const adam_config& c) : lr_(c.lr), mu_(c.beta1), wd_(c.weight_decay) {}
  void bind(std::span<const tensor_view> params, std::span<const tensor_view> grads) override {
    p_.assign(params.begin(), params.end());
    g_.assign(grads.begin(), grads.end());
    buf_.clear();
    for (auto& p : p_) buf_.emplace_back(static_cast<std::size_t>(p.numel()), 0.0f);
    t_ = 0;
  }
  void load_state(const adam_state&) override { throw std::logic_error("sgd-momentum has no Adam state"); }
  void step() override {
    const auto lr = static_cast<float>(lr_), mu = static_cast<float>(mu_), wd = static_cast<float>(wd_);
    for (std::size_t i = 0; i < p_.size(); ++i) {
      float* p = static_cast<float*>(p_[i].data);
      const float* g = static_cast<const float*>(g_[i].data);
      float* b = buf_[i].data();
      for (std::int64_t k = 0, n = p_[i].numel(); k < n; ++k) {
        float d = g[k];
        if (wd != 0) d += wd * p[k];
        if (mu != 0) {
          b[k] = t_ == 0 ? d : mu * b[k] + d;
          d = b[k];
        }
        p[k] -= lr * d;
      }
    }
    ++t_;
  }
  void set_lr(double lr) override { lr_ = lr; }
  adam_state read_state() override {
    adam_state s;
    s.step = t_;
    for (auto& p : p_) {
      const float* x = static_cast<const float*>(p.data);
      s.params.emplace_back(x, x + p.numel());
    }
    return s;
  }

 private:
  double lr_, mu_, wd_;
  std::int64_t t_ = 0;
  std::vector<tensor_view> p_, g_;
  std::vector<std::vector<float>> buf_;
};

support supports(const adam_config& c, const case_features& f) {
  if (!f.baselines_allowed) return support::no("a convergence baseline (SGD with momentum), not an Adam implementation");
  if (f.type != dtype::float32) return support::no("float32 only");
  if (f.starts_from_state) return support::no("has no Adam state to start from");
  if (c.amsgrad || c.maximize) return support::no("SGD has no amsgrad; maximize is not implemented");
  return support::yes();
}

}  // namespace

ADAMBENCH_REGISTER_IMPL("sgd-momentum", "baseline: torch.optim.SGD with momentum (lr, momentum = beta1, L2 weight_decay), float32",
                        supports, [](const adam_config& c, const impl_options&, dtype) -> std::unique_ptr<optimizer> {
                          return std::make_unique<sgd_momentum>(c);
                        },
                        {.baseline_config = sgd_momentum_config});

}  // namespace adambench
