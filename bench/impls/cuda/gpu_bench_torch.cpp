// LibTorch's at::_fused_adam_ on the GPU, timed like the CUDA kernels of adambench-gpu-bench.
#include "impls/cuda/gpu_bench_torch.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <cuda_runtime.h>
#include <torch/version.h>
#if __has_include(<ATen/ops/_fused_adam.h>)
#define ADAMBENCH_HAS_FUSED_ADAM 1
#endif

std::string torch_fused_times(const std::vector<std::int64_t>& sizes, int reps, const std::function<void()>& flush,
                              std::vector<double>& ms) {
#ifndef ADAMBENCH_HAS_FUSED_ADAM
  (void)sizes; (void)reps; (void)flush; (void)ms;
  return std::string("LibTorch ") + TORCH_VERSION + " has no at::_fused_adam_";
#else
  if (!at::hasCUDA()) return std::string("LibTorch ") + TORCH_VERSION + " was built without CUDA";
  try {
    const auto o = at::TensorOptions().dtype(at::kFloat).device(at::kCUDA);
    std::vector<at::Tensor> p, g, m, v, steps;
    for (auto n : sizes) {
      p.push_back(at::randn({n}, o));
      g.push_back(at::randn({n}, o).mul_(1e-2));
      m.push_back(at::zeros({n}, o));
      v.push_back(at::zeros({n}, o));
      steps.push_back(at::zeros({}, o));
    }
    // Same hyper-parameters as the CUDA kernels' runs: lr 1e-4, betas (0.9, 0.999), eps 1e-8, wd 0.01.
    auto step = [&] { at::_fused_adam_(p, g, m, v, {}, steps, 1e-4, 0.9, 0.999, 0.01, 1e-8, false, false); };
    step();
    cudaDeviceSynchronize();
    cudaEvent_t a, b;
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    for (int r = 0; r < reps; ++r) {
      flush();
      cudaDeviceSynchronize();
      cudaEventRecord(a, nullptr);
      step();
      cudaEventRecord(b, nullptr);
      cudaEventSynchronize(b);
      float t = 0;
      cudaEventElapsedTime(&t, a, b);
      ms.push_back(t);
    }
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    if (cudaError_t e = cudaGetLastError(); e != cudaSuccess) return std::string("CUDA error: ") + cudaGetErrorString(e);
    return "";
  } catch (const std::exception& e) {
    std::string s = e.what();
    return s.substr(0, s.find('\n'));
  }
#endif
}
