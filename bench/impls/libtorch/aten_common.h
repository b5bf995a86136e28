#pragma once
// Private to impls/libtorch/*.cpp: wraps harness buffers as ATen tensors without copies.
// Includes ATen (not torch/torch.h); only the LibTorch implementation files include it.
#include "adambench/optimizer.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <span>
#include <string>
#include <vector>

namespace adambench::aten_common {

inline at::ScalarType scalar_type(dtype d) { return d == dtype::float32 ? at::kFloat : at::kDouble; }

/// A tensor aliasing the caller's buffer (updates in place land in the caller's memory).
inline at::Tensor alias(const tensor_view& v, dtype d) {
  return at::from_blob(v.data, v.shape, at::TensorOptions().dtype(scalar_type(d)));
}

/// A new tensor holding `x`, rounded to dtype, with the given shape.
inline at::Tensor from_doubles(const std::vector<double>& x, const at::IntArrayRef shape, dtype d) {
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(at::kDouble));
  std::copy(x.begin(), x.end(), t.data_ptr<double>());
  return t.to(scalar_type(d));
}

inline std::vector<double> to_doubles(const at::Tensor& t) {
  at::Tensor c = t.detach().to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

/// The LibTorch CUDA peers (`libtorch-cuda`, `libtorch-foreach-cuda`, `libtorch-fused-cuda`): the
/// optimizer runs on device copies; before each step the caller's gradients are copied in, after
/// it the parameters are copied back out (both inside step(): these peers are for agreement; GPU
/// timing lives in adambench-gpu-bench). With `on` false everything aliases the host buffers.
struct device_mirror {
  bool on = false;
  std::vector<at::Tensor> host_p, host_g;
  void clear() { host_p.clear(); host_g.clear(); }
  at::Tensor param(const tensor_view& v, dtype d) {
    at::Tensor h = alias(v, d);
    if (!on) return h;
    host_p.push_back(h);
    return h.to(at::kCUDA);
  }
  at::Tensor grad(const tensor_view& v, dtype d) {
    at::Tensor h = alias(v, d);
    if (!on) return h;
    host_g.push_back(h);
    return h.to(at::kCUDA);
  }
  void grads_in(const std::vector<at::Tensor>& dev) {
    for (std::size_t i = 0; i < host_g.size(); ++i) dev[i].copy_(host_g[i]);
  }
  void params_out(const std::vector<at::Tensor>& dev) {
    for (std::size_t i = 0; i < host_p.size(); ++i) host_p[i].copy_(dev[i]);
  }
};

/// Binding, state and the device mirror shared by every LibTorch implementation: m, v and max_v
/// are ATen tensors here (libtorch-foreach, libtorch-fused update them directly; `libtorch` hands
/// them to torch::optim as its state and takes them back before read_state()).
class aten_optimizer : public optimizer {
 public:
  aten_optimizer(const adam_config& c, dtype d, bool cuda) : cfg_(c.validated()), type_(d) { dev_.on = cuda; }

  void bind(std::span<const tensor_view> params, std::span<const tensor_view> grads) override {
    params_.clear(), grads_.clear(), m_.clear(), v_.clear(), vmax_.clear(), dev_.clear();
    for (std::size_t i = 0; i < params.size(); ++i) {
      params_.push_back(dev_.param(params[i], type_));
      grads_.push_back(dev_.grad(grads[i], type_));
      m_.push_back(at::zeros_like(params_.back()));
      v_.push_back(at::zeros_like(params_.back()));
      if (cfg_.amsgrad) vmax_.push_back(at::zeros_like(params_.back()));
    }
    step_ = 0;
    on_bind();
  }
  void load_state(const adam_state& s) override {
    for (std::size_t i = 0; i < params_.size(); ++i) {
      m_[i].copy_(from_doubles(s.m[i], params_[i].sizes(), type_));
      v_[i].copy_(from_doubles(s.v[i], params_[i].sizes(), type_));
      if (cfg_.amsgrad) vmax_[i].copy_(from_doubles(s.vmax[i], params_[i].sizes(), type_));
    }
    step_ = s.step;
    on_load_state();
  }
  void set_lr(double lr) override {
    cfg_.lr = lr;
    cfg_.validate();
  }
  adam_state read_state() override {
    adam_state s;
    s.step = current_step();
    for (std::size_t i = 0; i < params_.size(); ++i) {
      s.params.push_back(to_doubles(params_[i]));
      s.m.push_back(to_doubles(m_[i]));
      s.v.push_back(to_doubles(v_[i]));
      if (cfg_.amsgrad) s.vmax.push_back(to_doubles(vmax_[i]));
    }
    return s;
  }

 protected:
  /// After bind() made params_, grads_, m_, v_, vmax_ (zero state, step 0).
  virtual void on_bind() {}
  /// After load_state() set m_, v_, vmax_ and step_.
  virtual void on_load_state() {}
  /// The step counter read_state() reports.
  virtual std::int64_t current_step() const { return step_; }

  adam_config cfg_;
  dtype type_;
  device_mirror dev_;
  std::int64_t step_ = 0;
  std::vector<at::Tensor> params_, grads_, m_, v_, vmax_;
};

/// Why the CUDA peers cannot run here, or nothing: float32/float64 only (torch keeps 16-bit
/// state for 16-bit params, no float32 master weights: outside the 16-bit tolerance of docs/cuda.md).
std::string cuda_unavailable(dtype d);

/// "1.13.1" etc. — the linked LibTorch's version, for skip reasons and result headers.
std::string torch_version();

/// First line of a c10::Error message (they carry a C++ backtrace after it).
inline std::string first_line(const std::string& s) {
  std::string l = s.substr(0, s.find('\n'));
  auto dot = l.find(". ");
  return dot == std::string::npos ? l : l.substr(0, dot + 1);
}

}  // namespace adambench::aten_common
