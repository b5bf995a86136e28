#pragma once
/// The CUDA kernels of `cuda` and `cuda-mt` (and of adambench-gpu-bench, which times them):
/// the per-element arithmetic is adam_math.h's; these only decide who touches which element.
#include "impls/cuda/adam_math.h"
#include "impls/cuda/work_list.h"

#include <cstdint>
#include <type_traits>

namespace adambench::cuda_impl {

using cuda_math::adam_element;
using cuda_math::adam_element_master;
using cuda_math::adam_element_nomaster;
using cuda_math::bf16;
using cuda_math::f16;
using cuda_math::step_scalars;

/// How 16-bit parameters are updated: against float32 master weights (28 B/param, what the
/// registered implementations do) or in place (22 B/param; benchmark only).
enum class precision { fp32, master, nomaster };

/// One tensor on the device. `master` is used for precision::master, `vmax` when amsgrad.
template <typename P>
struct dev_tensor {
  P* p;
  const P* g;
  float* master;
  float* m;
  float* v;
  float* vmax;
  std::int64_t n;
};

template <typename P, precision Prec>
__device__ __forceinline__ void update_at(const dev_tensor<P>& t, std::int64_t i, const step_scalars& s) {
  float dummy = 0.0f;
  float& vm = s.amsgrad ? t.vmax[i] : dummy;
  if constexpr (Prec == precision::fp32) {
    adam_element(t.p[i], t.g[i], t.m[i], t.v[i], vm, s);
  } else if constexpr (Prec == precision::master) {
    adam_element_master(t.p[i], t.master[i], t.g[i], t.m[i], t.v[i], vm, s);
  } else {
    adam_element_nomaster(t.p[i], t.g[i], t.m[i], t.v[i], vm, s);
  }
}

/// `cuda`: one tensor, one pass, one element per thread per grid-stride iteration.
template <typename P, precision Prec>
__global__ void adam_tensor_kernel(dev_tensor<P> t, step_scalars s) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < t.n; i += stride)
    update_at<P, Prec>(t, i, s);
}

template <typename T, int N>
struct alignas(16) vec {
  T x[N];
};

__device__ __forceinline__ bool aligned16(const void* p) { return (reinterpret_cast<std::uintptr_t>(p) & 15u) == 0; }

/// `cuda-mt`: one launch over the whole tensor list. Block b processes the work items
/// [item_begin[b], item_begin[b + 1]): the work list splits the flattened parameter space into
/// equal contiguous shares, one per resident block, cut at tensor boundaries, so every block
/// moves the same bytes whatever the tensor sizes. Within an item: 128-bit vector loads and
/// stores of every array when all are aligned (16 bytes of the parameter type per thread), the
/// scalar loop for the rest and for the tail.
template <typename P, precision Prec>
__global__ void __launch_bounds__(512) adam_mt_kernel(const dev_tensor<P>* __restrict__ tensors,
                                                      const work_item* __restrict__ items,
                                                      const std::int32_t* __restrict__ item_begin, step_scalars s) {
  constexpr int VEC = 16 / static_cast<int>(sizeof(P));  // 4 floats or 8 16-bit values per vector
  const std::int32_t first = item_begin[blockIdx.x], last = item_begin[blockIdx.x + 1];
  for (std::int32_t w = first; w < last; ++w) {
    const work_item it = items[w];
    dev_tensor<P> t = tensors[it.tensor];
    t.p += it.offset;
    t.g += it.offset;
    t.m += it.offset;
    t.v += it.offset;
    if (Prec == precision::master) t.master += it.offset;
    if (s.amsgrad) t.vmax += it.offset;
    t.n = it.len;
    bool aligned = aligned16(t.p) && aligned16(t.g) && aligned16(t.m) && aligned16(t.v);
    if (Prec == precision::master) aligned = aligned && aligned16(t.master);
    if (s.amsgrad) aligned = aligned && aligned16(t.vmax);
    std::int32_t start = 0;
    if (aligned) {
      const std::int32_t nvec = it.len / VEC;
      for (std::int32_t k = threadIdx.x; k < nvec; k += blockDim.x) {
        const std::int32_t e = k * VEC;
        vec<P, VEC> pv = *reinterpret_cast<const vec<P, VEC>*>(t.p + e);
        const vec<P, VEC> gv = *reinterpret_cast<const vec<P, VEC>*>(t.g + e);
        vec<float, VEC> mv = *reinterpret_cast<const vec<float, VEC>*>(t.m + e);
        vec<float, VEC> vv = *reinterpret_cast<const vec<float, VEC>*>(t.v + e);
        vec<float, VEC> wv, xv;
        if constexpr (Prec == precision::master) wv = *reinterpret_cast<const vec<float, VEC>*>(t.master + e);
        if (s.amsgrad) xv = *reinterpret_cast<const vec<float, VEC>*>(t.vmax + e);
#pragma unroll
        for (int j = 0; j < VEC; ++j) {
          float dummy = 0.0f;
          float& vm = s.amsgrad ? xv.x[j] : dummy;
          if constexpr (Prec == precision::fp32)
            adam_element(pv.x[j], gv.x[j], mv.x[j], vv.x[j], vm, s);
          else if constexpr (Prec == precision::master)
            adam_element_master(pv.x[j], wv.x[j], gv.x[j], mv.x[j], vv.x[j], vm, s);
          else
            adam_element_nomaster(pv.x[j], gv.x[j], mv.x[j], vv.x[j], vm, s);
        }
        *reinterpret_cast<vec<P, VEC>*>(t.p + e) = pv;
        *reinterpret_cast<vec<float, VEC>*>(t.m + e) = mv;
        *reinterpret_cast<vec<float, VEC>*>(t.v + e) = vv;
        if constexpr (Prec == precision::master) *reinterpret_cast<vec<float, VEC>*>(t.master + e) = wv;
        if (s.amsgrad) *reinterpret_cast<vec<float, VEC>*>(t.vmax + e) = xv;
      }
      start = nvec * VEC;
    }
    for (std::int32_t i = start + static_cast<std::int32_t>(threadIdx.x); i < it.len; i += blockDim.x)
      update_at<P, Prec>(t, i, s);
  }
}

}  // namespace adambench::cuda_impl
