#pragma once
// Private to the LibTorch workloads (torchscript.cpp, torch_glue.h): the thread count of a model's
// forward and backward. No LibTorch type here (the definition is in torch_threads.cpp).

namespace adambench {

/// LibTorch's intra-op threads (at::set_num_threads) and, when LibTorch's BLAS is OpenBLAS, OpenBLAS's
/// own thread pool, which at::set_num_threads does not reach: with `--threads 1` a linear layer's
/// GEMM otherwise ran on a second OpenBLAS thread that spun in sched_yield between calls.
void set_torch_threads(int threads);

}  // namespace adambench
