#pragma once
/// Gradient traces (numpy.savez): parameters p0, p1, ..., gradients g0, g1, ... of shape
/// (T, *shape of pK), and optionally an initial state m0.., v0.., vmax0.. and a scalar `step`.
#include "core/npz.h"
#include "adambench/tensor.h"

#include <filesystem>
#include <optional>

namespace adambench {

/// A trace checked for names, dtypes and shapes.
struct trace_data {
  std::map<std::string, host_tensor> arrays;
  std::size_t n = 0;       ///< tensors
  dtype type = dtype::float32;
  std::int64_t rows = 0;   ///< recorded steps T
  std::optional<adam_state> initial;  ///< m, v, vmax (if given) and step; params empty
  const host_tensor& p(std::size_t i) const;
  const host_tensor& g(std::size_t i) const;
};

/// Array names when they are not p0, g0, ...: role -> name in the file, e.g. p0 -> "fc.weight".
using name_map = std::map<std::string, std::string>;
/// Reads a TOML file of `role = "name"` lines (roles p0.., g0.., m0.., v0.., vmax0.., step).
name_map read_name_map(const std::filesystem::path& path);
/// Renames arrays found under a mapped name to their role; others keep their names.
void apply_name_map(std::map<std::string, host_tensor>& arrays, const name_map& names);

/// Reads and checks a trace; throws input_error naming the file and the array.
trace_data read_trace(const std::filesystem::path& path, const name_map& names = {});

/// The rows to replay (all, or `steps` when given) after checking them against the trace, and that
/// an amsgrad run from an initial state has vmax0..; throws input_error naming `what` (the file).
std::int64_t steps_to_run(const trace_data& t, std::optional<std::int64_t> steps, bool amsgrad, const std::string& what);

/// Whether a gradient before the last of `steps` rows is NaN/inf (an implementation's support).
bool nonfinite_before_last(const trace_data& t, std::int64_t steps);

}  // namespace adambench
