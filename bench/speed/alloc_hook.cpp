// The allocation hook of alloc_hook.h. Kept free of anything that allocates: the counters are
// lock-free atomics, and glibc's __libc_* entry points do the work.
#include "speed/alloc_hook.h"

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <malloc.h>

#if defined(__SANITIZE_ADDRESS__)
#define ADAMBENCH_NO_ALLOC_HOOK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#define ADAMBENCH_NO_ALLOC_HOOK 1
#endif
#endif
#if !defined(__GLIBC__)
#define ADAMBENCH_NO_ALLOC_HOOK 1
#endif

namespace adambench::alloc_hook {
namespace {
std::atomic<bool> armed{false};
std::atomic<std::int64_t> total{0}, peak{0};

inline void on_alloc(void* p) {
  if (!p || !armed.load(std::memory_order_relaxed)) return;
  const auto n = static_cast<std::int64_t>(malloc_usable_size(p));
  const std::int64_t now = total.fetch_add(n, std::memory_order_relaxed) + n;
  std::int64_t seen = peak.load(std::memory_order_relaxed);
  while (now > seen && !peak.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
  }
}
inline void on_free(void* p) {
  if (!p || !armed.load(std::memory_order_relaxed)) return;
  total.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
}
}  // namespace

#ifdef ADAMBENCH_NO_ALLOC_HOOK
bool available() { return false; }
#else
bool available() { return true; }
#endif

void arm() {
  total.store(0);
  peak.store(0);
  armed.store(true);
}

std::int64_t disarm() {
  armed.store(false);
  return peak.load();
}

}  // namespace adambench::alloc_hook

#ifndef ADAMBENCH_NO_ALLOC_HOOK
extern "C" {
void* __libc_malloc(std::size_t);
void __libc_free(void*);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void* __libc_valloc(std::size_t);
void* __libc_pvalloc(std::size_t);

using adambench::alloc_hook::on_alloc;
using adambench::alloc_hook::on_free;

void* malloc(std::size_t n) {
  void* p = __libc_malloc(n);
  on_alloc(p);
  return p;
}
void free(void* p) {
  on_free(p);
  __libc_free(p);
}
void* calloc(std::size_t a, std::size_t b) {
  void* p = __libc_calloc(a, b);
  on_alloc(p);
  return p;
}
void* realloc(void* old, std::size_t n) {
  // Counted as a free of the old block and an allocation of the new one (when it succeeds).
  const auto was = old ? static_cast<std::int64_t>(malloc_usable_size(old)) : 0;
  void* p = __libc_realloc(old, n);
  if (p || n == 0) {
    if (was && adambench::alloc_hook::armed.load(std::memory_order_relaxed))
      adambench::alloc_hook::total.fetch_sub(was, std::memory_order_relaxed);
    on_alloc(p);
  }
  return p;
}
void* memalign(std::size_t align, std::size_t n) {
  void* p = __libc_memalign(align, n);
  on_alloc(p);
  return p;
}
void* aligned_alloc(std::size_t align, std::size_t n) {
  void* p = __libc_memalign(align, n);
  on_alloc(p);
  return p;
}
int posix_memalign(void** out, std::size_t align, std::size_t n) {
  if (align < sizeof(void*) || (align & (align - 1)) != 0) return EINVAL;
  void* p = __libc_memalign(align, n);
  if (!p && n) return ENOMEM;
  on_alloc(p);
  *out = p;
  return 0;
}
void* valloc(std::size_t n) {
  void* p = __libc_valloc(n);
  on_alloc(p);
  return p;
}
void* pvalloc(std::size_t n) {
  void* p = __libc_pvalloc(n);
  on_alloc(p);
  return p;
}
}
#endif
