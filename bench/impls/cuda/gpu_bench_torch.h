#pragma once
/// LibTorch's fused CUDA Adam timed for adambench-gpu-bench (gpu_bench_torch.cpp: the only ATen
/// translation unit of the tool, so nvcc never sees LibTorch's headers).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

/// Times at::_fused_adam_ on float32 CUDA tensors of `sizes` (one step per repetition, `flush`
/// before each, CUDA events on the default stream) into `ms`. Returns "" on success, otherwise
/// why it could not run (LibTorch without CUDA, no device, no fused kernel).
std::string torch_fused_times(const std::vector<std::int64_t>& sizes, int reps, const std::function<void()>& flush,
                              std::vector<double>& ms);
