#pragma once
/// The work list of `cuda-mt` (plain C++, unit-tested on the CPU): the flattened parameter space
/// split into equal contiguous shares, one per resident thread block, cut at tensor boundaries.
/// Tensors are laid out at multiples of `align` elements (the arenas of cuda_common.cuh), and
/// share boundaries fall on multiples of `align` too, so every item starts vector-aligned.
#include <algorithm>
#include <cstdint>
#include <vector>

namespace adambench::cuda_impl {

/// A piece of one tensor: elements [offset, offset + len).
struct work_item {
  std::int32_t tensor;
  std::int32_t len;
  std::int64_t offset;
};

struct work_plan {
  std::vector<work_item> items;
  std::vector<std::int32_t> item_begin;  ///< block b runs items[item_begin[b] .. item_begin[b+1])
  int blocks = 0;                        ///< 0 when there is nothing to do
};

inline std::int64_t round_up(std::int64_t n, std::int64_t a) { return (n + a - 1) / a * a; }

/// Element offsets of each tensor in an arena where each starts at a multiple of `align`.
inline std::vector<std::int64_t> arena_offsets(const std::vector<std::int64_t>& sizes, std::int64_t align = 64) {
  std::vector<std::int64_t> off(sizes.size() + 1, 0);
  for (std::size_t i = 0; i < sizes.size(); ++i) off[i + 1] = off[i] + round_up(sizes[i], align);
  return off;
}

/// Splits the tensors of `sizes` over at most `max_blocks` blocks, each given at least
/// `min_per_block` elements' worth of the arena (so tiny lists do not spread over idle blocks).
inline work_plan plan_work(const std::vector<std::int64_t>& sizes, int max_blocks, std::int64_t min_per_block = 4096,
                           std::int64_t align = 64) {
  work_plan w;
  const std::vector<std::int64_t> base = arena_offsets(sizes, align);
  const std::int64_t units = base.back() / align;
  if (units == 0) return w;
  const std::int64_t want = std::max<std::int64_t>(1, units * align / std::max<std::int64_t>(min_per_block, 1));
  const int blocks = static_cast<int>(std::min<std::int64_t>(std::max(1, max_blocks), want));
  constexpr std::int64_t max_len = std::int64_t{1} << 30;
  std::size_t t = 0;
  for (int b = 0; b < blocks; ++b) {
    w.item_begin.push_back(static_cast<std::int32_t>(w.items.size()));
    const std::int64_t lo = units * b / blocks * align, hi = units * (b + 1) / blocks * align;
    while (t < sizes.size() && base[t] + sizes[t] <= lo) ++t;
    for (std::size_t i = t; i < sizes.size() && base[i] < hi; ++i) {
      std::int64_t s = std::max(lo, base[i]);
      const std::int64_t e = std::min(hi, base[i] + sizes[i]);
      for (; s < e; s += max_len)
        w.items.push_back({static_cast<std::int32_t>(i), static_cast<std::int32_t>(std::min(max_len, e - s)), s - base[i]});
    }
  }
  w.item_begin.push_back(static_cast<std::int32_t>(w.items.size()));
  w.blocks = blocks;
  return w;
}

}  // namespace adambench::cuda_impl
