#pragma once
/// One comparison of an implementation's final parameters and state with the reference's, and the
/// table `replay --compare` and `check` print.
#include "core/compare.h"
#include "core/tensor.h"

#include <cstdio>
#include <string>
#include <vector>

namespace adambench {

/// One array kind (params, m, v, max_v) over all tensors.
struct state_row {
  std::string name;
  error_stats stats;
  std::int64_t first_tensor = -1;  ///< tensor of the first failing element (stats.first_index is in it)
};

/// Parameters and state of `got` against `want` (the reference) with its running bounds.
struct state_comparison {
  std::vector<state_row> rows;
  std::int64_t got_step = 0, want_step = 0;
  double k = 0;  ///< the tolerance used, in units of u * bound
  bool ok() const;
};

/// Compares params, m, v (and max_v when `amsgrad`) in dtype `d` with tolerance_for(d).
state_comparison compare_state(const adam_state& got, const adam_state& want, const adam_state& bound, dtype d,
                               bool amsgrad);

/// The table, the first mismatching values of each failing array, and the verdict line.
void print_state_comparison(const state_comparison& c, std::FILE* out = stdout);

}  // namespace adambench
