#pragma once
// Private to impls/libtorch/*.cpp: wraps harness buffers as ATen tensors without copies.
// Includes ATen (not torch/torch.h); only the three LibTorch implementation files include it.
#include "core/optimizer.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <string>

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
