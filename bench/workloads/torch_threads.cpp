// LibTorch's and OpenBLAS's thread counts (workloads/torch_threads.h).
#include "workloads/torch_threads.h"

#include <ATen/Parallel.h>
#include <algorithm>
#include <dlfcn.h>

namespace adambench {

void set_torch_threads(int threads) {
  threads = std::max(1, threads);
  at::set_num_threads(threads);
  // Debian's LibTorch calls BLAS through libblas.so.3, OpenBLAS's pthread build where installed
  // (scripts/setup.sh); looked up at run time, as another BLAS has no such function.
  using setter = void (*)(int);
  if (auto f = reinterpret_cast<setter>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(threads);
}

}  // namespace adambench
