#pragma once
/// The agreement runner: every implementation against the float64 reference from identical
/// inputs, comparing parameters and all state at chosen steps.
#include "core/optimizer.h"
#include "core/suite.h"

#include <filesystem>
#include <optional>

namespace adambench {

struct agree_options {
  std::vector<std::string> impls;  ///< overrides the suite's list when not empty
  std::vector<dtype> dtypes;       ///< overrides the suite's list when not empty
  std::optional<int> seed_count;   ///< seeds 0..N-1 instead of the suite's
  int threads = 1;
  std::optional<std::filesystem::path> out;  ///< folder for agree.json
  bool quiet = false;                        ///< no progress lines
  std::pair<int, int> shard{1, 1};           ///< run cases i with i % N == I - 1 (`--shard I/N`)
  std::string filter;                        ///< ECMAScript regex searched in case names (`--filter`); empty: all
  bool allow_empty = false;                  ///< exit 0 rather than 3 when every selected case was skipped
};

/// Runs the suite, prints the table, writes the result. Returns 0 all agree, 1 any disagrees,
/// 3 nothing was compared (every selected case skipped; 0 with allow_empty), 130 interrupted.
int run_agree(const agree_suite& suite, const registry& reg, const agree_options& opt);

}  // namespace adambench
