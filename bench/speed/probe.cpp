// Bandwidth probe (compiled with the CPU kernel flags, like the Eigen implementation).
#include "speed/probe.h"

#include <Eigen/Core>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <new>
#include <fstream>
#include <omp.h>
#include <sched.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace adambench {

namespace {
constexpr std::size_t state_align = 64;  // Eigen's widest packet, as the Eigen implementation's state

// Streaming stores of one SIMD register, where the CPU has them (the other variants use Eigen's
// packets; these intrinsics exist on every x86-64, so the fallback is for other CPUs).
#if !(defined(__x86_64__) || defined(__i386__))
#define ADAMBENCH_NO_STREAM_STORES 1
#elif defined(__AVX512F__)
constexpr int stream_width = 16;
inline void stream_store(float* d, const float* s) { _mm512_stream_ps(d, _mm512_loadu_ps(s)); }
inline void stream_add(float* d, const float* a, const float* b) {
  _mm512_stream_ps(d, _mm512_add_ps(_mm512_loadu_ps(a), _mm512_loadu_ps(b)));
}
#elif defined(__AVX__)
constexpr int stream_width = 8;
inline void stream_store(float* d, const float* s) { _mm256_stream_ps(d, _mm256_loadu_ps(s)); }
inline void stream_add(float* d, const float* a, const float* b) {
  _mm256_stream_ps(d, _mm256_add_ps(_mm256_loadu_ps(a), _mm256_loadu_ps(b)));
}
#elif defined(__SSE2__)
constexpr int stream_width = 4;
inline void stream_store(float* d, const float* s) { _mm_stream_ps(d, _mm_loadu_ps(s)); }
inline void stream_add(float* d, const float* a, const float* b) { _mm_stream_ps(d, _mm_add_ps(_mm_loadu_ps(a), _mm_loadu_ps(b))); }
#else
#define ADAMBENCH_NO_STREAM_STORES 1
#endif

// The variants' loops over one chunk of n elements: p <- m, m <- v, v <- p + g (with amsgrad, x is
// max_v: v <- x, x <- p + g; else x is null); the passes return the first element left to the tail.
// The probe is the yardstick every speed figure is divided by, so these compile to the loops the
// code had written out in step(): always inlined, and `ams` by reference as that code read it
// (by value, GCC unswitches the stream and packet loops on it: other code, unmeasured).

// Eigen packets in the Eigen kernel's order: loads g, p, m, v (and x); stores m, v (x), p.
[[gnu::always_inline]] inline std::int64_t packet_pass(float* p, const float* g, float* m, float* v, float* x, const bool& ams, std::int64_t n) {
  using namespace Eigen::internal;
  using packet = packet_traits<float>::type;
  constexpr int width = packet_traits<float>::size;
  std::int64_t k = 0;
  for (const std::int64_t e = n - n % width; k < e; k += width) {
    const packet b = ploadu<packet>(g + k), a = ploadu<packet>(p + k), c = ploadu<packet>(m + k), d = ploadu<packet>(v + k);
    if (ams) {
      const packet f = ploadu<packet>(x + k);
      pstoreu(m + k, d);
      pstoreu(v + k, f);
      pstoreu(x + k, padd(a, b));
    } else {
      pstoreu(m + k, d);
      pstoreu(v + k, padd(a, b));
    }
    pstoreu(p + k, c);
  }
  return k;
}

#ifndef ADAMBENCH_NO_STREAM_STORES
// Whether p, m, v (and x) are aligned to a register, as streaming stores need.
[[gnu::always_inline]] inline bool stream_aligned(const float* p, const float* m, const float* v, const float* x, const bool& ams) {
  const auto misaligned = [&](const void* q) { return reinterpret_cast<std::uintptr_t>(q) % (stream_width * sizeof(float)) != 0; };
  return !misaligned(p) && !misaligned(m) && !misaligned(v) && !(ams && misaligned(x));
}

// Packets with streaming stores; p, m, v (and x) must be stream_aligned.
[[gnu::always_inline]] inline std::int64_t stream_pass(float* p, const float* g, float* m, float* v, float* x, const bool& ams, std::int64_t n) {
  // Each register is loaded before it is overwritten: same values as the other variants.
  std::int64_t k = 0;
  for (const std::int64_t e = n - n % stream_width; k < e; k += stream_width) {
    alignas(64) float a[stream_width];
    std::memcpy(a, p + k, sizeof a);
    stream_store(p + k, m + k);
    stream_store(m + k, v + k);
    if (ams) {
      stream_store(v + k, x + k);
      stream_add(x + k, a, g + k);
    } else {
      stream_add(v + k, a, g + k);
    }
  }
  _mm_sfence();  // streaming stores are weakly ordered: drain them before the barrier
  return k;
}
#endif

// The loop variant, and every variant's tail: elements k..n-1.
[[gnu::always_inline]] inline void loop_pass(float* p, const float* g, float* m, float* v, float* x, const bool& ams, std::int64_t k,
                                             std::int64_t n) {
  if (ams) {
#pragma omp simd
    for (std::int64_t j = k; j < n; ++j) {
      const float a = p[j], b = g[j], c = m[j], d = v[j], e = x[j];
      p[j] = c;
      m[j] = d;
      v[j] = e;
      x[j] = a + b;
    }
  } else {
#pragma omp simd
    for (std::int64_t j = k; j < n; ++j) {
      const float a = p[j], b = g[j], c = m[j], d = v[j];
      p[j] = c;
      m[j] = d;
      v[j] = a + b;
    }
  }
}

}  // namespace

const char* bandwidth_probe::variant_name(variant v) {
  switch (v) {
    case variant::loop: return "loop";
    case variant::packet: return "packet";
    case variant::stream: return "stream";
  }
  return "?";
}

void bandwidth_probe::aligned_free::operator()(float* p) const { std::free(p); }

bandwidth_probe::bandwidth_probe(std::span<const tensor_view> params, std::span<const tensor_view> grads, bool amsgrad, int threads)
    : amsgrad_(amsgrad), threads_(std::max(1, threads)) {
  // One allocation per tensor and stream, 64-byte aligned, like the Eigen implementation's m and v.
  // (An earlier probe kept all m and v in one std::vector: 16-byte aligned, so every 64-byte packet
  // of m and v straddled two cache lines, and m and v a power of two apart — docs/speed.md.)
  auto alloc = [&](std::int64_t n) {
    const std::size_t bytes = (static_cast<std::size_t>(std::max<std::int64_t>(n, 1)) * sizeof(float) + state_align - 1) / state_align * state_align;
    float* p = static_cast<float*>(std::aligned_alloc(state_align, bytes));
    if (!p) throw std::bad_alloc();
    std::memset(p, 0, bytes);
    state_.emplace_back(p);
    return p;
  };
  std::vector<std::int64_t> sizes;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const std::int64_t n = params[i].numel();
    numel_ += n;
    float* m = alloc(n);
    float* v = alloc(n);
    float* x = amsgrad ? alloc(n) : nullptr;
    tensors_.push_back({static_cast<float*>(params[i].data), static_cast<const float*>(grads[i].data), m, v, x});
    sizes.push_back(n);
  }
  split_.assign(sizes, 64 / sizeof(float));  // the Eigen implementation's split: same shares, same cuts
}

void bandwidth_probe::step(variant var) {
  const bool ams = amsgrad_;
  auto one = [&](std::size_t i, std::int64_t first, std::int64_t end) {
    const span_f& t = tensors_[i];
    float* __restrict p = t.p + first;
    const float* __restrict g = t.g + first;
    float* __restrict m = t.m + first;
    float* __restrict v = t.v + first;
    float* __restrict x = ams ? t.vmax + first : nullptr;
    const std::int64_t n = end - first;
    std::int64_t k = 0;
    if (var == variant::packet) k = packet_pass(p, g, m, v, x, ams, n);
#ifndef ADAMBENCH_NO_STREAM_STORES
    if (var == variant::stream && stream_aligned(p, m, v, x, ams)) k = stream_pass(p, g, m, v, x, ams, n);
#endif
    loop_pass(p, g, m, v, x, ams, k, n);
  };
  // One thread: no parallel region (as in the Eigen implementation: libgomp would allocate a team).
  const int threads = split_.threads_for(threads_);
  if (threads <= 1) return split_.for_each_piece(0, 1, one);
#pragma omp parallel num_threads(threads)
  split_.for_each_piece(omp_get_thread_num(), omp_get_num_threads(), one);
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
