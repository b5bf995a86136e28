// `libtorch-fused`: at::_fused_adam_ / at::_fused_adamw_, where the linked LibTorch has a kernel
// for the device. LibTorch 1.13 declares _fused_adam_ with a CUDA kernel only and has no
// _fused_adamw_: then every case is a recorded skip whose reason says so.
#include "impls/libtorch/aten_common.h"
#include "impls/register_all.h"

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

class fused_adam final : public optimizer {
 public:
  fused_adam(const adam_config& c, dtype d, bool cuda = false) : cfg_(c.validated()), type_(d) {
    dev_.on = cuda;
    static std::map<std::tuple<int, int, bool>, bool> cache;  // (algo, dtype, device)
    const auto k = std::make_tuple(static_cast<int>(cfg_.kind), static_cast<int>(d), cuda);
    auto it = cache.find(k);
    if (it == cache.end()) it = cache.emplace(k, kernel_advances_step(without_amsgrad(cfg_), d, cuda)).first;
    advances_ = it->second;
  }

  void bind(std::span<const tensor_view> params, std::span<const tensor_view> grads) override {
    params_.clear(); grads_.clear(); m_.clear(); v_.clear(); vmax_.clear(); steps_.clear(); dev_.clear();
    for (std::size_t i = 0; i < params.size(); ++i) {
      params_.push_back(dev_.param(params[i], type_));
      grads_.push_back(dev_.grad(grads[i], type_));
      m_.push_back(at::zeros_like(params_.back()));
      v_.push_back(at::zeros_like(params_.back()));
      if (cfg_.amsgrad) vmax_.push_back(at::zeros_like(params_.back()));
      // torch.optim keeps float32 steps, on the parameters' device for fused=True
      steps_.push_back(at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(params_.back().device())));
    }
  }
  void load_state(const adam_state& s) override {
    for (std::size_t i = 0; i < params_.size(); ++i) {
      m_[i].copy_(from_doubles(s.m[i], params_[i].sizes(), type_));
      v_[i].copy_(from_doubles(s.v[i], params_[i].sizes(), type_));
      if (cfg_.amsgrad) vmax_[i].copy_(from_doubles(s.vmax[i], params_[i].sizes(), type_));
      steps_[i].fill_(static_cast<double>(s.step));
    }
    base_step_ = s.step;
  }
  void set_lr(double lr) override { cfg_.lr = lr; cfg_.validate(); }
  void step() override {
    ++base_step_;
    if (params_.empty()) return;
    dev_.grads_in(grads_);
    if (!advances_) at::_foreach_add_(steps_, 1.0);  // as torch.optim's _fused_adam does
    call_fused(cfg_, params_, grads_, m_, v_, vmax_, steps_);
    dev_.params_out(params_);
  }
  adam_state read_state() override {
    adam_state s;
    s.step = steps_.empty() ? base_step_ : static_cast<std::int64_t>(steps_[0].item<double>());
    for (std::size_t i = 0; i < params_.size(); ++i) {
      s.params.push_back(to_doubles(params_[i]));
      s.m.push_back(to_doubles(m_[i]));
      s.v.push_back(to_doubles(v_[i]));
      if (cfg_.amsgrad) s.vmax.push_back(to_doubles(vmax_[i]));
    }
    return s;
  }

 private:
  adam_config cfg_;
  dtype type_;
  device_mirror dev_;
  std::int64_t base_step_ = 0;
  bool advances_ = true;  // the kernel advances the step tensors itself
  std::vector<at::Tensor> params_, grads_, m_, v_, vmax_, steps_;
};

}  // namespace

void register_libtorch_fused(registry& r) {
  r.add({"libtorch-fused", "at::_fused_adam_/_fused_adamw_ (one fused kernel over the tensor list)",
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
         }});
  // The same on the GPU, where every LibTorch with CUDA has the kernel (device copies; grads
  // copied in and params out inside step()).
  r.add({"libtorch-fused-cuda", "at::_fused_adam_/_fused_adamw_ on CUDA tensors",
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
         }});
}

}  // namespace adambench
