#pragma once
/// The throughput runner: Google Benchmark timing one optimizer step of each implementation over
/// flat buffers and real models' tensor lists, next to a bandwidth probe with Adam's access pattern.
/// Output is Google Benchmark's own JSON (tools/compare.py works on it) plus a summary table.
#include "adambench/optimizer.h"
#include "speed/speed_suite.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace adambench {

/// A list of parameter tensors: a flat buffer or a model's (docs/speed.md).
struct shape_list {
  std::string name;    ///< "flat_16M", "gpt2_small", ...
  std::string source;  ///< "flat", "embedded:NAME" or a file path
  std::vector<shape_t> shapes;
  std::int64_t numel = 0;
};

/// Parses a model file: one tensor per line, `name d0 d1 ...` (no dimensions: a 0-dim tensor),
/// an optional trailing `*N` repeating the line N times, `#` comments, and optional `@params N` /
/// `@tensors N` lines that the totals must match. Throws input_error naming source:line.
shape_list parse_model_file(const std::string& text, const std::string& name, const std::string& source);
/// A model shipped in the binary (suites/models/NAME.txt at build time) or a model file. A bare
/// name is looked up among the shipped models; anything else is a path, tried as given and then
/// relative to `suite_dir`. Throws input_error listing the shipped names when neither exists.
shape_list load_model(const std::string& name_or_path, const std::filesystem::path& suite_dir);
/// Names of the shipped models.
std::vector<std::string> shipped_models();
/// 2^k parameters in one tensor, named flat_1K, flat_16M, ...
shape_list flat_shape(int log2_numel);

struct speed_options {
  std::vector<std::string> impls;  ///< overrides the suite's list when not empty
  int threads = 1;                 ///< the maximum; the suite's `threads` says which counts run
  std::optional<std::filesystem::path> out;  ///< folder for speed.json and speed.txt
  bool pin = false;                ///< pin OpenMP threads to CPUs (sched_setaffinity)
  std::vector<std::string> benchmark_args;   ///< passed to benchmark::Initialize
  std::pair<int, int> shard{1, 1};           ///< `--shard I/N`: shape lists i with i % N == I - 1
  bool allow_empty = false;                  ///< exit 0 rather than 3 when every benchmark was skipped
};

/// Registers and runs the suite's benchmarks, prints Google Benchmark's table and the summary,
/// writes the results. Returns 0, 3 when every implementation's benchmark was skipped (0 with
/// allow_empty; nothing runs or is written), or 130 when interrupted (nothing written). Bad input throws
/// input_error before anything runs.
int run_speed(const speed_suite& suite, const registry& reg, const speed_options& opt);

}  // namespace adambench
