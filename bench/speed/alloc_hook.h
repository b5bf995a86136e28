#pragma once
/// Memory per step: an allocation hook that counts the bytes allocated while it is armed.
///
/// alloc_hook.cpp defines malloc, free, calloc, realloc, posix_memalign, aligned_alloc, memalign,
/// valloc and pvalloc. Linked into the executable, these definitions interpose on glibc's for the
/// whole process (LibTorch's shared libraries and libstdc++'s operator new included: the dynamic
/// linker resolves every library's malloc to the executable's first), and forward to glibc's own
/// (__libc_malloc, ...). While armed, each allocation adds malloc_usable_size() of the block to a
/// running total and each free of a block subtracts it; the peak of the total is the most memory
/// held at once beyond what existed when the hook was armed. Memory that an implementation maps
/// itself (mmap) is not seen; glibc's own large blocks are (malloc maps them, the hook sees malloc).
#include <cstdint>

namespace adambench::alloc_hook {

/// True when this build interposes on malloc (false under AddressSanitizer, which owns malloc).
bool available();
/// Zeroes the running total and the peak, then starts counting (process-wide, all threads).
void arm();
/// Stops counting; returns the peak of the running total since arm() (bytes, >= 0).
std::int64_t disarm();

}  // namespace adambench::alloc_hook
