// `libtorch-fused`: at::_fused_adam_ / at::_fused_adamw_, where the linked LibTorch has a kernel
// for the device. LibTorch 1.13 declares _fused_adam_ with a CUDA kernel only and has no
// _fused_adamw_: then every case is a recorded skip whose reason says so.
#include "impls/libtorch/aten_common.h"
#include "adambench/optimizer.h"
#include "adambench/register.h"

#include <ATen/ATen.h>
#include <cmath>
#include <map>
#include <tuple>
#if __has_include(<ATen/ops/_fused_adam.h>)
#define ADAMBENCH_HAS_FUSED_ADAM 1
#endif
#if __has_include(<ATen/ops/_fused_adamw.h>)
#define ADAMBENCH_HAS_FUSED_ADAMW 1
#endif

namespace adambench {
namespace {
using namespace aten_common;

void call_fused(const adam_config& c, at::TensorList p, at::TensorList g, at::TensorList m, at::TensorList v,
                at::TensorList vmax, at::TensorList steps) {
  if (c.kind == algo::adam) {
#ifdef ADAMBENCH_HAS_FUSED_ADAM
    at::_fused_adam_(p, g, m, v, vmax, steps, c.lr, c.beta1, c.beta2, c.weight_decay, c.eps, c.amsgrad, c.maximize);
    return;
#endif
  } else {
#ifdef ADAMBENCH_HAS_FUSED_ADAMW
    at::_fused_adamw_(p, g, m, v, vmax, steps, c.lr, c.beta1, c.beta2, c.weight_decay, c.eps, c.amsgrad, c.maximize);
    return;
#endif
  }
  throw std::runtime_error(fmt::format("LibTorch {} has no at::_fused_{}_", torch_version(), to_string(c.kind)));
}

/// Whether the kernel advances the step tensors itself. torch.optim's fused path adds 1 to them
/// before the call (`_foreach_add_(state_steps, 1)`) and the kernels of LibTorch 2.x read them
/// as they are; measured once per device on a 1-element tensor rather than assumed.
bool kernel_advances_step(const adam_config& c, dtype d, bool cuda) {
  const at::Device dv = cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  auto o = at::TensorOptions().dtype(scalar_type(d)).device(dv);
  at::Tensor p = at::ones({1}, o), g = at::ones({1}, o), m = at::zeros({1}, o), v = at::zeros({1}, o);
  at::Tensor s = at::ones({}, at::TensorOptions().dtype(at::kFloat).device(dv));
  call_fused(c, {p}, {g}, {m}, {v}, {}, {s});
  return s.item<float>() != 1.0f;
}

/// Whether the CPU kernel's amsgrad maximum keeps max_v finite where torch.optim's
/// torch.maximum gives NaN. Measured on a 1-element tensor (all of it in the kernel's scalar tail,
/// where LibTorch 2.15's CPU kernel was seen to do so) with a NaN gradient.
bool amsgrad_max_drops_nan(const adam_config& c, dtype d) {
  adam_config a = c;
  a.amsgrad = true;
  auto o = at::TensorOptions().dtype(scalar_type(d));
  at::Tensor p = at::ones({1}, o), g = at::full({1}, NAN, o), m = at::zeros({1}, o), v = at::zeros({1}, o);
  at::Tensor vm = at::zeros({1}, o), s = at::ones({}, at::TensorOptions().dtype(at::kFloat));
  call_fused(a, {p}, {g}, {m}, {v}, {vm}, {s});
  return !std::isnan(vm.to(at::kDouble).item<double>());
}

adam_config without_amsgrad(adam_config c) {
  c.amsgrad = false;
  return c;
}

/// Runs the op once on a 1-element tensor: the only honest way to know a kernel exists.
support probe(const adam_config& c, dtype d, bool cuda = false) {
  try {
    const at::Device dv = cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU);
    auto o = at::TensorOptions().dtype(scalar_type(d)).device(dv);
    at::Tensor p = at::ones({1}, o), g = at::ones({1}, o), m = at::zeros({1}, o), v = at::zeros({1}, o);
    at::Tensor vm = at::zeros({1}, o), s = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(dv));
    std::vector<at::Tensor> vmax;
    if (c.amsgrad) vmax.push_back(vm);
    call_fused(c, {p}, {g}, {m}, {v}, vmax, {s});
    return support::yes();
  } catch (const std::exception& e) {
    return support::no(fmt::format("at::_fused_{}_ not runnable on {} in LibTorch {}: {}", to_string(c.kind),
                                   cuda ? "CUDA" : "CPU", torch_version(), first_line(e.what())));
  }
}

class fused_adam final : public aten_optimizer {
 public:
  fused_adam(const adam_config& c, dtype d, bool cuda = false) : aten_optimizer(c, d, cuda) {
    static std::map<std::tuple<int, int, bool>, bool> cache;  // (algo, dtype, device)
    const auto key = std::make_tuple(static_cast<int>(cfg_.kind), static_cast<int>(d), cuda);
    auto it = cache.find(key);
    if (it == cache.end()) it = cache.emplace(key, kernel_advances_step(without_amsgrad(cfg_), d, cuda)).first;
    advances_ = it->second;
  }

  void step() override {
    ++step_;
    if (params_.empty()) return;
    dev_.grads_in(grads_);
    if (!advances_) at::_foreach_add_(steps_, 1.0);  // as torch.optim's _fused_adam does
    call_fused(cfg_, params_, grads_, m_, v_, vmax_, steps_);
    dev_.params_out(params_);
  }

 private:
  void on_bind() override {
    // torch.optim keeps float32 steps, on the parameters' device for fused=True
    steps_.clear();
    for (auto& p : params_) steps_.push_back(at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(p.device())));
  }
  void on_load_state() override {
    for (auto& s : steps_) s.fill_(static_cast<double>(step_));
  }
  /// The kernel's own counter: a kernel that did not count would show here.
  std::int64_t current_step() const override {
    return steps_.empty() ? step_ : static_cast<std::int64_t>(steps_[0].item<double>());
  }

  bool advances_ = true;  // the kernel advances the step tensors itself
  std::vector<at::Tensor> steps_;
};

}  // namespace

ADAMBENCH_REGISTER_IMPL("libtorch-fused", "at::_fused_adam_/_fused_adamw_ (one fused kernel over the tensor list)",
       [](const adam_config& c, const case_features& f) {
         if (is_16bit(f.type)) return support::no("CPU implementation: only float32/float64");
         static std::map<std::pair<int, int>, support> cache;  // (algo, amsgrad) per dtype
         auto k = std::make_pair(static_cast<int>(c.kind) * 2 + c.amsgrad, static_cast<int>(f.type));
         auto it = cache.find(k);
         if (it == cache.end()) it = cache.emplace(k, probe(c, f.type)).first;
         if (!it->second.ok || !c.amsgrad || !f.nonfinite_grad) return it->second;
         static std::map<int, bool> drops;  // per dtype
         auto jt = drops.find(static_cast<int>(f.type));
         if (jt == drops.end()) jt = drops.emplace(static_cast<int>(f.type), amsgrad_max_drops_nan(c, f.type)).first;
         if (jt->second)
           return support::no(fmt::format("at::_fused_{}_'s CPU kernel in LibTorch {} keeps max_v finite where torch.optim's "
                                          "maximum gives NaN (measured with a NaN gradient on a 1-element tensor, the kernel's "
                                          "scalar tail): amsgrad with non-finite gradients disagrees",
                                          to_string(c.kind), torch_version()));
         return it->second;
       },
       [](const adam_config& c, const impl_options& o, dtype d) -> std::unique_ptr<optimizer> {
         at::set_num_threads(std::max(1, o.threads));
         return std::make_unique<fused_adam>(c, d);
       },
       {.peer = speed_peer::libtorch_other});
// The same on the GPU, where every LibTorch with CUDA has the kernel (device copies; grads
// copied in and params out inside step()).
ADAMBENCH_REGISTER_IMPL("libtorch-fused-cuda", "at::_fused_adam_/_fused_adamw_ on CUDA tensors",
       [](const adam_config& c, const case_features& f) {
         if (auto why = cuda_unavailable(f.type); !why.empty()) return support::no(why);
         static std::map<std::pair<int, int>, support> cache;
         auto k = std::make_pair(static_cast<int>(c.kind) * 2 + c.amsgrad, static_cast<int>(f.type));
         auto it = cache.find(k);
         if (it == cache.end()) it = cache.emplace(k, probe(c, f.type, true)).first;
         return it->second;
       },
       [](const adam_config& c, const impl_options&, dtype d) -> std::unique_ptr<optimizer> {
         return std::make_unique<fused_adam>(c, d, true);
       });

}  // namespace adambench
