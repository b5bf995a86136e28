// `cuda-mt`: one launch over the whole tensor list (multi-tensor apply): a work list in device
// memory gives each resident block an equal contiguous share of the flattened parameters, cut at
// tensor boundaries (work_list.h); 128-bit vector loads/stores where aligned, scalar tails.
// float32, and bfloat16/float16 parameters with float32 master weights and state.
#include "impls/cuda/cuda_common.cuh"
#include "adambench/optimizer.h"
#include "adambench/register.h"

namespace adambench {
namespace cuda_impl {
namespace {

constexpr int threads = 512;

class cuda_mt_adam final : public cuda_optimizer {
 public:
  using cuda_optimizer::cuda_optimizer;
  ~cuda_mt_adam() override {
    if (d_tensors_) cudaFree(d_tensors_);
    if (d_items_) cudaFree(d_items_);
    if (d_begin_) cudaFree(d_begin_);
  }

 protected:
  void bound() override {
    switch (type_) {
      case dtype::float32: build<float, precision::fp32>(); break;
      case dtype::bfloat16: build<bf16, precision::master>(); break;
      case dtype::float16: build<f16, precision::master>(); break;
      default: throw input_error("cuda-mt: unsupported dtype");
    }
  }
  void launch(const step_scalars& s) override {
    if (plan_.blocks == 0) return;
    switch (type_) {
      case dtype::float32: run<float, precision::fp32>(s); break;
      case dtype::bfloat16: run<bf16, precision::master>(s); break;
      case dtype::float16: run<f16, precision::master>(s); break;
      default: break;
    }
  }

 private:
  template <typename P, precision Prec>
  void build() {
    for (void* p : {d_tensors_, d_items_, d_begin_})
      if (p) cudaFree(p);
    d_tensors_ = d_items_ = d_begin_ = nullptr;
    plan_ = plan_work(sizes_, resident_blocks(reinterpret_cast<const void*>(&adam_mt_kernel<P, Prec>), threads));
    if (plan_.blocks == 0) return;
    std::vector<dev_tensor<P>> t;
    for (std::size_t i = 0; i < sizes_.size(); ++i) t.push_back(tensor<P>(i));
    upload(d_tensors_, t);
    upload(d_items_, plan_.items);
    upload(d_begin_, plan_.item_begin);
  }
  template <typename T>
  static void upload(void*& dst, const std::vector<T>& v) {
    ADAMBENCH_CUDA_CHECK(cudaMalloc(&dst, std::max<std::size_t>(1, v.size()) * sizeof(T)));
    if (!v.empty()) ADAMBENCH_CUDA_CHECK(cudaMemcpy(dst, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
  template <typename P, precision Prec>
  void run(const step_scalars& s) {
    adam_mt_kernel<P, Prec><<<plan_.blocks, threads>>>(static_cast<const dev_tensor<P>*>(d_tensors_),
                                                       static_cast<const work_item*>(d_items_),
                                                       static_cast<const std::int32_t*>(d_begin_), s);
  }

  work_plan plan_;
  void *d_tensors_ = nullptr, *d_items_ = nullptr, *d_begin_ = nullptr;
};

}  // namespace
}  // namespace cuda_impl

ADAMBENCH_REGISTER_IMPL("cuda-mt",
       "CUDA multi-tensor: one launch over all tensors, balanced work list, 128-bit vector loads "
       "(float32; bfloat16/float16 with float32 master weights)",
       cuda_impl::cuda_supports,
       [](const adam_config& c, const impl_options&, dtype d) -> std::unique_ptr<optimizer> {
         return std::make_unique<cuda_impl::cuda_mt_adam>(c, d);
       });

}  // namespace adambench
