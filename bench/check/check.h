#pragma once
/// `adambench check`: judges final parameters and state computed anywhere (Python, JAX, another
/// repository's kernel) against the float64 reference run over the same trace.
#include "adambench/config.h"

#include <filesystem>
#include <optional>

namespace adambench {

struct check_options {
  std::filesystem::path trace;   ///< TRACE.npz (check/trace.h)
  std::filesystem::path result;  ///< RESULT.npz: final p0.., m0.., v0.. (vmax0.. with amsgrad), optional step
  adam_config config;
  std::optional<std::int64_t> steps;  ///< the first T rows of the trace; all when unset
  std::filesystem::path names;        ///< optional TOML role = "array name" map for both files
};

/// Exit codes: 0 agrees, 1 disagrees (the table and the first mismatching values printed),
/// 2 bad input (thrown as input_error).
int run_check(const check_options& opt);

}  // namespace adambench
