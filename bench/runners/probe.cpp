// Bandwidth probe (compiled with the CPU kernel flags, like the Eigen implementation).
#include "runners/probe.h"

#include <Eigen/Core>
#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <omp.h>
#include <sched.h>

namespace adambench {

namespace {
// Same chunk as the Eigen kernel: the work list, not the tensor boundaries, decides the threads' share.
constexpr std::int64_t chunk_elems = 16384;
}  // namespace

bandwidth_probe::bandwidth_probe(std::span<const tensor_view> params, std::span<const tensor_view> grads, bool amsgrad, int threads)
    : amsgrad_(amsgrad), threads_(std::max(1, threads)) {
  for (auto& p : params) numel_ += p.numel();
  const int streams = amsgrad ? 3 : 2;
  state_.assign(static_cast<std::size_t>(numel_) * streams, 0.0f);
  std::int64_t off = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const std::int64_t n = params[i].numel();
    span_f t{static_cast<float*>(params[i].data), static_cast<const float*>(grads[i].data), state_.data() + off,
             state_.data() + numel_ + off, amsgrad ? state_.data() + 2 * numel_ + off : nullptr};
    tensors_.push_back(t);
    for (std::int64_t o = 0; o < n; o += chunk_elems)
      work_.push_back({static_cast<std::uint32_t>(i), o, std::min(chunk_elems, n - o)});
    off += n;
  }
}

void bandwidth_probe::step() {
  const std::int64_t nwork = static_cast<std::int64_t>(work_.size());
  const bool ams = amsgrad_;
#pragma omp parallel for schedule(static) num_threads(threads_) if (nwork > 1 && threads_ > 1)
  for (std::int64_t w = 0; w < nwork; ++w) {
    const work_item& it = work_[w];
    const span_f& t = tensors_[it.tensor];
    float* __restrict p = t.p + it.offset;
    const float* __restrict g = t.g + it.offset;
    float* __restrict m = t.m + it.offset;
    float* __restrict v = t.v + it.offset;
    const std::int64_t n = it.len;
    if (ams) {
      float* __restrict x = t.vmax + it.offset;
#pragma omp simd
      for (std::int64_t k = 0; k < n; ++k) {
        const float a = p[k], b = g[k], c = m[k], d = v[k], e = x[k];
        p[k] = c;
        m[k] = d;
        v[k] = e;
        x[k] = a + b;
      }
    } else {
#pragma omp simd
      for (std::int64_t k = 0; k < n; ++k) {
        const float a = p[k], b = g[k], c = m[k], d = v[k];
        p[k] = c;
        m[k] = d;
        v[k] = a + b;
      }
    }
  }
}

void pin_openmp_threads(int threads, const std::vector<int>& cpus) {
  if (cpus.empty()) return;
#pragma omp parallel num_threads(std::max(1, threads))
  {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpus[static_cast<std::size_t>(omp_get_thread_num()) % cpus.size()], &set);
    sched_setaffinity(0, sizeof set, &set);  // 0: the calling thread
  }
}

std::string simd_description() {
  return fmt::format("{} ({} floats per Eigen packet)", Eigen::SimdInstructionSetsInUse(),
                     Eigen::internal::packet_traits<float>::size);
}

std::int64_t last_level_cache_bytes() {
  std::int64_t best = 0;
  int best_level = 0;
  for (int i = 0; i < 8; ++i) {
    const std::string dir = fmt::format("/sys/devices/system/cpu/cpu0/cache/index{}/", i);
    std::ifstream lv(dir + "level"), sz(dir + "size");
    int level = 0;
    std::string size;
    if (!(lv >> level) || !(sz >> size) || size.empty()) continue;
    std::int64_t bytes = std::stoll(size);
    if (size.back() == 'K') bytes <<= 10;
    if (size.back() == 'M') bytes <<= 20;
    if (level >= best_level) {
      best_level = level;
      best = bytes;
    }
  }
  return best;
}

}  // namespace adambench
