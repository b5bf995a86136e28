#include "core/tensor.h"

#include "core/adam_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace adambench {

const char* to_string(dtype d) { return d == dtype::float32 ? "float32" : "float64"; }

dtype parse_dtype(const std::string& s) {
  if (s == "float32" || s == "f32" || s == "float") return dtype::float32;
  if (s == "float64" || s == "f64" || s == "double") return dtype::float64;
  throw input_error(fmt::format("invalid dtype '{}': must be float32 or float64", s));
}

std::size_t size_of(dtype d) { return d == dtype::float32 ? 4 : 8; }

std::int64_t numel_of(const shape_t& s) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

std::string shape_string(const shape_t& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

host_tensor::host_tensor(dtype d, shape_t shape)
    : type_(d), shape_(std::move(shape)), numel_(numel_of(shape_)) {
  std::size_t bytes = static_cast<std::size_t>(numel_) * size_of(d);
  storage_.resize((bytes + sizeof(block) - 1) / sizeof(block) + 0);
  if (!storage_.empty()) std::fill_n(reinterpret_cast<unsigned char*>(storage_.data()), bytes, 0);
}

double host_tensor::get(std::int64_t i) const {
  return type_ == dtype::float32 ? static_cast<const float*>(data())[i]
                                 : static_cast<const double*>(data())[i];
}

void host_tensor::set(std::int64_t i, double v) {
  if (type_ == dtype::float32)
    static_cast<float*>(data())[i] = static_cast<float>(v);
  else
    static_cast<double*>(data())[i] = v;
}

double round_to(dtype d, double v) { return d == dtype::float32 ? static_cast<double>(static_cast<float>(v)) : v; }

}  // namespace adambench
