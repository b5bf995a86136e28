#pragma once
/// One registration function per implementation file; register_all() calls them in order.
#include "core/optimizer.h"

namespace adambench {

void register_reference(registry& r);
void register_eigen(registry& r);
void register_libtorch(registry& r);
void register_libtorch_foreach(registry& r);
void register_libtorch_fused(registry& r);
void register_sgd_momentum(registry& r);  // the SGD baseline (impls/sgd_momentum.h)
void register_cuda(registry& r);     // built when ADAMBENCH_HAS_CUDA (bench/impls/cuda/)
void register_cuda_mt(registry& r);  // built when ADAMBENCH_HAS_CUDA

/// Registers every implementation of this build into `r`.
void register_all(registry& r);

}  // namespace adambench
