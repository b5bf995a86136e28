// core/work_split.h: the threads' shares of a tensor list (the Eigen implementation and the probe).
#include "core/work_split.h"

#include <catch2/catch.hpp>
#include <vector>

using namespace adambench;

namespace {
// How often each element of each tensor is visited by the shares of `threads` threads; checks that
// every piece starts at a multiple of `align` (or the tensor's start) and that pieces come in order.
std::vector<std::vector<int>> visits(const std::vector<std::int64_t>& sizes, std::int64_t align, int threads,
                                     std::vector<std::int64_t>* share_sizes = nullptr) {
  work_split w;
  w.assign(sizes, align);
  std::vector<std::vector<int>> seen;
  for (auto n : sizes) seen.emplace_back(static_cast<std::size_t>(n), 0);
  for (int t = 0; t < threads; ++t) {
    std::int64_t mine = 0;
    w.for_each_piece(t, threads, [&](std::size_t i, std::int64_t first, std::int64_t end) {
      CHECK(first % align == 0);
      CHECK(first < end);
      CHECK(end <= sizes[i]);
      for (std::int64_t k = first; k < end; ++k) ++seen[i][static_cast<std::size_t>(k)];
      mine += end - first;
    });
    if (share_sizes) share_sizes->push_back(mine);
  }
  return seen;
}

bool each_once(const std::vector<std::vector<int>>& seen) {
  for (auto& t : seen)
    for (int c : t)
      if (c != 1) return false;
  return true;
}
}  // namespace

TEST_CASE("work_split: every element once, in equal shares cut at the alignment") {
  const std::vector<std::int64_t> sizes{1, 7, 0, 40000, 1023, 0, 33153, 15, 0};
  for (int threads : {1, 2, 3, 4, 7, 64}) {
    std::vector<std::int64_t> shares;
    CHECK(each_once(visits(sizes, 16, threads, &shares)));
    std::int64_t total = 0;
    for (auto n : sizes) total += n;
    for (auto s : shares) CHECK(std::abs(s - total / threads) <= 16 * 2);  // a cut moves by < align
  }
  // Tiny lists and more threads than elements: the late threads get nothing, nothing is lost.
  CHECK(each_once(visits({3}, 16, 8)));
  CHECK(each_once(visits({0, 0}, 16, 2)));
  CHECK(each_once(visits({}, 16, 2)));
}

TEST_CASE("work_split: a parallel step only from min_elems_per_thread elements per thread") {
  work_split w;
  w.assign({2 * work_split::min_elems_per_thread - 1}, 16);
  CHECK(w.threads_for(2) == 1);
  w.assign({2 * work_split::min_elems_per_thread}, 16);
  CHECK(w.threads_for(2) == 2);
  CHECK(w.threads_for(1) == 1);
  w.assign({}, 16);
  CHECK(w.threads_for(4) == 1);
}
