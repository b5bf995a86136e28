#pragma once
/// One comparison of an implementation's parameters and state with the reference's, used by
/// agree, replay --compare and check, and the table replay and check print.
#include "core/agreement_metrics.h"
#include "adambench/tensor.h"

#include <cstdio>
#include <string>
#include <vector>

namespace adambench {

/// One array kind (params, m, v, max_v) over all tensors.
struct state_row {
  std::string name;
  error_stats stats;
  double k = 0;                    ///< tolerance used, in units of u * bound
  std::int64_t first_tensor = -1;  ///< tensor holding the first failure (-1: none, or a count mismatch)
  double first_err_u = 0;          ///< that tensor's worst error in units of u * bound
  std::string first_values;        ///< "m[0][3] got 1.5 want 1.25; ..." (up to 3), or the count mismatch
};

/// Parameters and state of `got` against `want` (the reference) with its running bounds.
struct state_comparison {
  std::vector<state_row> rows;
  std::int64_t got_step = 0, want_step = 0;
  bool ok() const;
};

/// Compares params in dtype `d` and m, v (and max_v when `amsgrad`) in d, or in float32 when d is
/// 16-bit (float32 master weights and state, docs/cuda.md), each with tolerance_for(its dtype).
state_comparison compare_state(const adam_state& got, const adam_state& want, const adam_state& bound, dtype d,
                               bool amsgrad);

/// The table, the first mismatching values of each failing array, and the verdict line.
void print_state_comparison(const state_comparison& c, std::FILE* out = stdout);

}  // namespace adambench
