#pragma once
/// How the Eigen implementation and the bandwidth probe share one step's elements among OpenMP
/// threads: the tensor list is one sequence of elements, cut into equal contiguous shares, one per
/// thread, at multiples of `align` elements inside a tensor (a cache line: no two threads write one
/// line). One parallel region per step, no work queue, no per-chunk bookkeeping; a tensor list of
/// 10,000 small tensors costs one loop per tensor and thread.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace adambench {

class work_split {
 public:
  /// The tensors' element counts, in order; `align`: the cut granularity inside a tensor.
  void assign(const std::vector<std::int64_t>& sizes, std::int64_t align) {
    align_ = std::max<std::int64_t>(1, align);
    starts_.assign(1, 0);
    for (std::int64_t n : sizes) starts_.push_back(starts_.back() + n);
  }

  /// Elements over all tensors.
  std::int64_t total() const { return starts_.empty() ? 0 : starts_.back(); }

  /// Below this many elements per thread a step runs on fewer threads: a parallel region's fork and
  /// join (about a microsecond each with libgomp's spinning workers) outweigh the halved loop.
  static constexpr std::int64_t min_elems_per_thread = 4096;

  /// The threads worth using, at most `max_threads`; 1 means: no parallel region.
  int threads_for(int max_threads) const {
    return static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(max_threads, total() / min_elems_per_thread)));
  }

  /// Calls f(tensor, first, end) for each non-empty piece of thread t's share (t in 0..threads-1),
  /// in tensor order; the shares of 0..threads-1 cover every element once.
  template <class F>
  void for_each_piece(int t, int threads, F&& f) const {
    const std::size_t count = starts_.empty() ? 0 : starts_.size() - 1;
    const cursor a = at(cut(t, threads)), b = at(cut(t + 1, threads));
    for (std::size_t i = a.tensor; i < count && i <= b.tensor; ++i) {
      const std::int64_t first = i == a.tensor ? a.offset : 0;
      const std::int64_t end = i == b.tensor ? b.offset : starts_[i + 1] - starts_[i];
      if (end > first) f(i, first, end);
    }
  }

 private:
  struct cursor {
    std::size_t tensor;
    std::int64_t offset;
  };
  std::int64_t cut(int t, int threads) const {
    return t >= threads ? total() : static_cast<std::int64_t>(static_cast<__int128>(total()) * t / threads);
  }
  /// The tensor holding element `e` of the sequence and the offset in it, rounded down to align.
  cursor at(std::int64_t e) const {
    if (e >= total()) return {starts_.size() - 1, 0};
    const std::size_t i = static_cast<std::size_t>(std::upper_bound(starts_.begin(), starts_.end(), e) - starts_.begin()) - 1;
    const std::int64_t off = e - starts_[i];
    return {i, off - off % align_};
  }

  std::vector<std::int64_t> starts_;  ///< starts_[i]: the first element of tensor i; back(): total
  std::int64_t align_ = 1;
};

}  // namespace adambench
