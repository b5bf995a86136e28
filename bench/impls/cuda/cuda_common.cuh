#pragma once
/// Host side shared by the CUDA implementations: error checks, the device probe behind every
/// supports(), and the optimizer base that owns the device copies (params, grads, float32 master
/// weights for 16-bit params, m, v, max_v) in one arena per array.
#include "adambench/optimizer.h"
#include "impls/cuda/adam_kernels.cuh"

#include <cuda_runtime.h>
#include <stdexcept>
#include <string>
#include <vector>

namespace adambench::cuda_impl {

/// Throws std::runtime_error naming the call and CUDA's message.
void check(cudaError_t e, const char* what);
#define ADAMBENCH_CUDA_CHECK(x) ::adambench::cuda_impl::check((x), #x)

/// Empty when a CUDA device is usable; otherwise why not, e.g. "no CUDA device: CUDA driver
/// version is insufficient for CUDA runtime version" (cached: asked once per process).
const std::string& device_unavailable_reason();

/// supports() of every CUDA implementation: float32, bfloat16, float16 on a usable device.
support cuda_supports(const adam_config& c, const case_features& f);

/// Owns the device copies; step() = copy the host grads in, launch(), copy the params out (the
/// interface promises the caller's parameter buffers are updated). read_state() copies back.
/// The copies are part of step(): adambench-gpu-bench times the kernels alone, on device data.
class cuda_optimizer : public optimizer {
 public:
  cuda_optimizer(const adam_config& c, dtype d);
  ~cuda_optimizer() override;
  cuda_optimizer(const cuda_optimizer&) = delete;
  cuda_optimizer& operator=(const cuda_optimizer&) = delete;

  void bind(std::span<const tensor_view> params, std::span<const tensor_view> grads) override;
  void load_state(const adam_state& s) override;
  void step() override;
  void set_lr(double lr) override;
  adam_state read_state() override;

 protected:
  /// Runs one step's kernels on the device arrays (grads already there).
  virtual void launch(const step_scalars& s) = 0;
  /// Called at the end of bind() so a subclass can build its work list.
  virtual void bound() {}

  template <typename P>
  dev_tensor<P> tensor(std::size_t i) const {
    const std::int64_t o = offsets_[i];
    return {static_cast<P*>(d_p_) + o, static_cast<const P*>(d_g_) + o, d_master_ ? d_master_ + o : nullptr,
            d_m_ + o, d_v_ + o, d_vmax_ ? d_vmax_ + o : nullptr, sizes_[i]};
  }

  adam_config cfg_;
  dtype type_;
  std::int64_t step_ = 0;
  std::vector<tensor_view> host_p_, host_g_;
  std::vector<std::int64_t> sizes_, offsets_;  ///< element counts; offsets in the arenas
  void* d_p_ = nullptr;
  void* d_g_ = nullptr;
  float *d_master_ = nullptr, *d_m_ = nullptr, *d_v_ = nullptr, *d_vmax_ = nullptr;

 private:
  void release();
};

/// Resident blocks of `kernel` at `threads` per block over the whole device.
int resident_blocks(const void* kernel, int threads);

}  // namespace adambench::cuda_impl
