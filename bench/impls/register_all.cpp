#include "impls/register_all.h"

namespace adambench {

void register_all(registry& r) {
  register_reference(r);
  register_eigen(r);
  register_libtorch(r);
  register_libtorch_foreach(r);
  register_libtorch_fused(r);
  register_sgd_momentum(r);
#ifdef ADAMBENCH_HAS_CUDA
  register_cuda(r);
  register_cuda_mt(r);
#endif
}

registry& default_registry() {
  static registry r = [] {
    registry x;
    register_all(x);
    return x;
  }();
  return r;
}

}  // namespace adambench
