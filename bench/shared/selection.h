#pragma once
// Which cases a run takes: --case/--study name filters and --shard I/N slices, shared by the
// convergence and sweep runners.
#include "adambench/errors.h"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace adambench {

/// Keeps the items whose name matches one of the regexes `filters` (`--filter`; all when none);
/// throws input_error when none is left. The CLI has checked that each regex compiles.
template <class T>
void filter_by_name(std::vector<T>& items, const std::vector<std::string>& filters, const std::string& what) {
  if (filters.empty()) return;
  std::vector<std::regex> res;
  for (auto& f : filters) res.emplace_back(f);
  std::erase_if(items, [&](const T& x) {
    return std::none_of(res.begin(), res.end(), [&](const std::regex& r) { return std::regex_search(x.name, r); });
  });
  if (items.empty()) throw input_error(fmt::format("{} {}", what, fmt::join(filters, ", ")));
}

/// The I-th of N interleaved slices: items i with i % N == I - 1.
template <class T>
void shard_slice(std::vector<T>& items, std::pair<int, int> shard) {
  if (shard.second <= 1) return;
  std::vector<T> mine;
  for (std::size_t i = 0; i < items.size(); ++i)
    if (static_cast<int>(i % static_cast<std::size_t>(shard.second)) == shard.first - 1) mine.push_back(std::move(items[i]));
  items = std::move(mine);
}

}  // namespace adambench
