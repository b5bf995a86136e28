#pragma once
#include "adambench/config.h"

#include <string>
#include <vector>

namespace adambench {

/// The [speed] part of a suite (docs/speed.md): what `adambench speed` registers with Google
/// Benchmark. Every listed value is one axis of the grid; the probe always runs alongside.
struct speed_suite {
  std::string source;  ///< file name or "embedded:NAME"
  std::vector<std::string> impls{"eigen", "libtorch"};
  std::vector<int> flat_log2;           ///< flat buffers of 2^k float32 parameters
  std::vector<std::string> models;      ///< shipped model names or model file paths
  std::vector<algo> algos{algo::adam};
  std::vector<bool> amsgrad{false};
  std::string threads = "all";          ///< "all": --threads only; "sweep": 1..--threads; "list"
  std::vector<int> thread_list;         ///< when threads == "list"
  double weight_decay = 0.0;
  int repetitions = 1;                  ///< >= 9 where the result gates (Mann-Whitney U)
  double min_time = 0.5;                ///< seconds per repetition
  double warmup_time = 0.1;             ///< seconds of untimed steps before the repetitions
};

/// Parses the [speed] part of a suite; throws input_error naming the file and field.
speed_suite parse_speed_suite(const std::string& text, const std::string& source);
}  // namespace adambench
