#include "adambench/tensor.h"

#include "adambench/errors.h"
#include "adambench/lowp.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace adambench {

const char* to_string(dtype d) {
  switch (d) {
    case dtype::float32: return "float32";
    case dtype::float64: return "float64";
    case dtype::bfloat16: return "bfloat16";
    case dtype::float16: return "float16";
  }
  return "?";
}

dtype parse_dtype(const std::string& s) {
  if (s == "float32" || s == "f32" || s == "float") return dtype::float32;
  if (s == "float64" || s == "f64" || s == "double") return dtype::float64;
  if (s == "bfloat16" || s == "bf16") return dtype::bfloat16;
  if (s == "float16" || s == "f16" || s == "half") return dtype::float16;
  throw input_error(fmt::format("invalid dtype '{}': must be float32, float64, bfloat16 or float16", s));
}

std::size_t size_of(dtype d) { return d == dtype::float32 ? 4 : d == dtype::float64 ? 8 : 2; }

double load_double(dtype d, const void* data, std::int64_t i) {
  switch (d) {
    case dtype::float32: return static_cast<const float*>(data)[i];
    case dtype::float64: return static_cast<const double*>(data)[i];
    case dtype::bfloat16: return lowp::bf16_bits_to_float(static_cast<const std::uint16_t*>(data)[i]);
    case dtype::float16: return lowp::f16_bits_to_float(static_cast<const std::uint16_t*>(data)[i]);
  }
  return 0;
}

void store_double(dtype d, void* data, std::int64_t i, double v) {
  switch (d) {
    case dtype::float32: static_cast<float*>(data)[i] = static_cast<float>(v); break;
    case dtype::float64: static_cast<double*>(data)[i] = v; break;
    case dtype::bfloat16: static_cast<std::uint16_t*>(data)[i] = lowp::to_bf16_bits(v); break;
    case dtype::float16: static_cast<std::uint16_t*>(data)[i] = lowp::to_f16_bits(v); break;
  }
}

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

double host_tensor::get(std::int64_t i) const { return load_double(type_, data(), i); }

void host_tensor::set(std::int64_t i, double v) { store_double(type_, data(), i, v); }

double round_to(dtype d, double v) {
  switch (d) {
    case dtype::float32: return static_cast<double>(static_cast<float>(v));
    case dtype::float64: return v;
    case dtype::bfloat16: return lowp::bf16_bits_to_float(lowp::to_bf16_bits(v));
    case dtype::float16: return lowp::f16_bits_to_float(lowp::to_f16_bits(v));
  }
  return v;
}

}  // namespace adambench
