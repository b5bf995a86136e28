#pragma once
/// The bandwidth probe: Adam's exact memory access pattern with no arithmetic to speak of. It reads
/// p, g, m, v (and max_v) and writes p, m, v (and max_v) — 28 bytes per float32 parameter, 36 with
/// amsgrad — over the same tensor list, split among OpenMP threads exactly as the Eigen
/// implementation does (core/work_split.h). It comes in several variants (how the loads and stores are issued); the
/// speed runner times all of them on the same buffers and threads and takes the fastest as the
/// limit (docs/speed.md, "The limit").
#include "adambench/tensor.h"
#include "core/work_split.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace adambench {

/// Bytes an Adam step must move per float32 parameter: reads p, g, m, v; writes p, m, v.
constexpr std::int64_t adam_bytes_per_param(bool amsgrad) { return amsgrad ? 36 : 28; }

class bandwidth_probe {
 public:
  /// How a variant issues its memory operations (same bytes, same order of elements).
  enum class variant {
    loop,    ///< a plain loop the compiler vectorises; stores p, m, v
    packet,  ///< Eigen packets in the Eigen kernel's order: loads g, p, m, v; stores m, v, p
    stream,  ///< packets with non-temporal (streaming) stores where the CPU has them
  };
  static constexpr int variant_count = 3;
  /// "loop", "packet", "stream".
  static const char* variant_name(variant v);

  /// Binds float32 host buffers; owns its own m, v (and max_v), one 64-byte aligned allocation per
  /// tensor and stream like the Eigen implementation's state, zero-filled here (pages touched).
  bandwidth_probe(std::span<const tensor_view> params, std::span<const tensor_view> grads, bool amsgrad, int threads);
  /// One pass: p <- m, m <- v, v <- p + g (with amsgrad v <- max_v, max_v <- p + g). The one add
  /// keeps every loaded value live so the compiler cannot drop a load; it costs nothing beside memory.
  void step(variant v = variant::loop);
  std::int64_t numel() const { return numel_; }

 private:
  struct span_f {
    float* p;
    const float* g;
    float *m, *v, *vmax;
  };
  struct aligned_free {
    void operator()(float* p) const;
  };
  std::vector<span_f> tensors_;
  work_split split_;
  std::vector<std::unique_ptr<float[], aligned_free>> state_;  // m, v, max_v of every tensor
  std::int64_t numel_ = 0;
  bool amsgrad_;
  int threads_;
};

/// Pins OpenMP thread k of a team of `threads` (and so LibTorch's OpenMP workers) to cpus[k mod n].
void pin_openmp_threads(int threads, const std::vector<int>& cpus);
/// The SIMD the CPU kernels were compiled for, e.g. "AVX512, SSE, ... (16 floats per Eigen packet)".
std::string simd_description();
/// Bytes of the last-level cache (from sysfs), or 0 when unknown.
std::int64_t last_level_cache_bytes();

}  // namespace adambench
