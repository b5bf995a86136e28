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
  at::Tensor c = t.detach().to(at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

/// "1.13.1" etc. — the linked LibTorch's version, for skip reasons and result headers.
std::string torch_version();

/// First line of a c10::Error message (they carry a C++ backtrace after it).
inline std::string first_line(const std::string& s) {
  std::string l = s.substr(0, s.find('\n'));
  auto dot = l.find(". ");
  return dot == std::string::npos ? l : l.substr(0, dot + 1);
}

}  // namespace adambench::aten_common
