#pragma once
/// Host tensors and views: the currency between runners and implementations.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace adambench {

/// bfloat16/float16: 16-bit storage for the CUDA mixed-precision implementations (float32
/// opmath, float32 master weights and state); CPU implementations skip them.
enum class dtype { float32, float64, bfloat16, float16 };

const char* to_string(dtype d);
/// Parses "float32"/"f32"/"float64"/"f64"/"bfloat16"/"bf16"/"float16"/"f16"; throws input_error otherwise.
dtype parse_dtype(const std::string& s);
std::size_t size_of(dtype d);
/// True for the 16-bit storage types.
inline bool is_16bit(dtype d) { return d == dtype::bfloat16 || d == dtype::float16; }
/// Element i of a buffer of dtype d, exactly, as a double.
double load_double(dtype d, const void* data, std::int64_t i);
/// Stores v rounded to dtype d (one rounding, to nearest even) as element i.
void store_double(dtype d, void* data, std::int64_t i, double v);

using shape_t = std::vector<std::int64_t>;
/// Number of elements of a shape; an empty shape is a 0-dim tensor with one element.
std::int64_t numel_of(const shape_t& s);
std::string shape_string(const shape_t& s);

/// A caller-owned buffer seen by an implementation: no copy, no ownership.
struct tensor_view {
  void* data = nullptr;
  shape_t shape;
  std::int64_t numel() const { return numel_of(shape); }
};

/// An owning host tensor of either dtype, 64-byte aligned so SIMD loads and probes are fair.
class host_tensor {
 public:
  host_tensor() = default;
  host_tensor(dtype d, shape_t shape);
  dtype type() const { return type_; }
  const shape_t& shape() const { return shape_; }
  std::int64_t numel() const { return numel_; }
  void* data() { return storage_.data(); }
  const void* data() const { return storage_.data(); }
  double get(std::int64_t i) const;
  void set(std::int64_t i, double v);  // rounds to the dtype
  tensor_view view() { return {data(), shape_}; }

 private:
  struct alignas(64) block { unsigned char b[64]; };
  dtype type_ = dtype::float32;
  shape_t shape_;
  std::int64_t numel_ = 0;
  std::vector<block> storage_;
};

/// Rounds a double to the dtype and back (exact when d is float64).
double round_to(dtype d, double v);

/// State of an Adam run read back on the host, in float64 (exact for float32/float64 sources).
struct adam_state {
  std::int64_t step = 0;
  std::vector<std::vector<double>> params, m, v, vmax;  // vmax empty unless amsgrad
};

}  // namespace adambench
