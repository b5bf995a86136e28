// `libtorch-foreach`: torch.optim's _multi_tensor_adam (the default path of torch.optim on
// CUDA) written with ATen's _foreach_* ops, op for op, for the linked LibTorch.
#include "impls/libtorch/aten_common.h"
#include "adambench/optimizer.h"
#include "adambench/register.h"
#include "core/step_scalars.h"

#include <cmath>
#if __has_include(<ATen/ops/_foreach_lerp.h>)
#define ADAMBENCH_HAS_FOREACH_LERP 1
#endif

namespace adambench {
namespace {
using namespace aten_common;

class foreach_adam final : public aten_optimizer {
 public:
  foreach_adam(const adam_config& c, dtype d, bool cuda = false) : aten_optimizer(c, d, cuda) {}

  void step() override {
    if (params_.empty()) { ++step_; return; }
    dev_.grads_in(grads_);
    update();
    dev_.params_out(params_);
  }

  void update() {
    const adam_config& c = cfg_;
    ++step_;
    const adam_step_scalars sc = adam_step_scalars_at(static_cast<double>(step_), c.lr, c.beta1, c.beta2, c.weight_decay);
    std::vector<at::Tensor> grads = grads_;
    if (c.maximize) grads = at::_foreach_neg(grads_);
    if (c.kind == algo::adamw) {
      at::_foreach_mul_(params_, sc.decay_mul);
    } else if (c.weight_decay != 0.0) {
      if (c.maximize) at::_foreach_add_(grads, params_, c.weight_decay);
      else grads = at::_foreach_add(grads, params_, c.weight_decay);
    }
#ifdef ADAMBENCH_HAS_FOREACH_LERP
    at::_foreach_lerp_(m_, grads, sc.w1);
#else
    at::_foreach_mul_(m_, c.beta1);
    at::_foreach_add_(m_, grads, sc.w1);
#endif
    at::_foreach_mul_(v_, c.beta2);
    at::_foreach_addcmul_(v_, grads, grads, sc.one_minus_beta2);
    std::vector<at::Scalar> step_size(params_.size(), at::Scalar(-sc.step_size));
    std::vector<at::Scalar> bc2_sqrt(params_.size(), at::Scalar(sc.bc2_sqrt));
    std::vector<at::Tensor> denom;
    if (c.amsgrad) {
      at::_foreach_maximum_(vmax_, v_);
      denom = at::_foreach_sqrt(vmax_);
    } else {
      denom = at::_foreach_sqrt(v_);
    }
    at::_foreach_div_(denom, bc2_sqrt);
    at::_foreach_add_(denom, c.eps);
    at::_foreach_addcdiv_(params_, m_, denom, step_size);
  }
};

// Without _foreach_lerp_ (LibTorch < 2.0) m is updated by mul_/add_: after a ±inf gradient m stays
// ±inf here and becomes NaN in the reference.
support foreach_lerp_support(const case_features& f) {
#ifndef ADAMBENCH_HAS_FOREACH_LERP
  if (f.nonfinite_then_more_steps)
    return support::no(fmt::format("LibTorch {} has no _foreach_lerp_, so m is updated by mul_/add_: after a "
                                   "±inf gradient m stays ±inf here and becomes NaN in the reference",
                                   torch_version()));
#endif
  (void)f;
  return support::yes();
}

}  // namespace

ADAMBENCH_REGISTER_IMPL("libtorch-foreach", "torch.optim's multi-tensor Adam through ATen _foreach_* ops",
    [](const adam_config&, const case_features& f) {
      if (is_16bit(f.type)) return support::no("CPU implementation: only float32/float64");
      return foreach_lerp_support(f);
    },
    [](const adam_config& c, const impl_options& o, dtype d) -> std::unique_ptr<optimizer> {
      at::set_num_threads(std::max(1, o.threads));
      return std::make_unique<foreach_adam>(c, d);
    },
    {.peer = speed_peer::libtorch_other});
// The same on the GPU (torch.optim's default path on CUDA; device copies, grads copied in and
// params out inside step()).
ADAMBENCH_REGISTER_IMPL("libtorch-foreach-cuda", "torch.optim's multi-tensor Adam through ATen _foreach_* ops on CUDA tensors",
    [](const adam_config&, const case_features& f) {
      if (auto why = cuda_unavailable(f.type); !why.empty()) return support::no(why);
      return foreach_lerp_support(f);
    },
    [](const adam_config& c, const impl_options&, dtype d) -> std::unique_ptr<optimizer> {
      return std::make_unique<foreach_adam>(c, d, true);
    });

}  // namespace adambench
