// `cuda`: one fused kernel per tensor, one pass over its memory (read p, g, m, v; write p, m, v),
// one element per thread. float32, and bfloat16/float16 parameters with float32 master weights.
#include "impls/cuda/cuda_common.cuh"
#include "adambench/optimizer.h"
#include "adambench/register.h"

namespace adambench {
namespace cuda_impl {
namespace {

constexpr int threads = 256;

class cuda_adam final : public cuda_optimizer {
 public:
  using cuda_optimizer::cuda_optimizer;

 protected:
  void launch(const step_scalars& s) override {
    switch (type_) {
      case dtype::float32: run<float, precision::fp32>(s); break;
      case dtype::bfloat16: run<bf16, precision::master>(s); break;
      case dtype::float16: run<f16, precision::master>(s); break;
      default: throw input_error("cuda: unsupported dtype");
    }
  }

 private:
  template <typename P, precision Prec>
  void run(const step_scalars& s) {
    if (max_blocks_ == 0) max_blocks_ = resident_blocks(reinterpret_cast<const void*>(&adam_tensor_kernel<P, Prec>), threads);
    for (std::size_t i = 0; i < sizes_.size(); ++i) {
      const std::int64_t n = sizes_[i];
      if (n == 0) continue;
      const int blocks = static_cast<int>(std::min<std::int64_t>((n + threads - 1) / threads, max_blocks_));
      adam_tensor_kernel<P, Prec><<<blocks, threads>>>(tensor<P>(i), s);
    }
  }
  int max_blocks_ = 0;
};

}  // namespace
}  // namespace cuda_impl

ADAMBENCH_REGISTER_IMPL("cuda", "CUDA: one fused kernel per tensor (float32; bfloat16/float16 with float32 master weights)",
       cuda_impl::cuda_supports,
       [](const adam_config& c, const impl_options&, dtype d) -> std::unique_ptr<optimizer> {
         return std::make_unique<cuda_impl::cuda_adam>(c, d);
       });

}  // namespace adambench
