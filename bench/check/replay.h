#pragma once
/// Gradient replay: run one implementation over a user's recorded gradients (numpy.savez trace).
#include "adambench/optimizer.h"

#include <filesystem>
#include <optional>

namespace adambench {

struct replay_options {
  std::filesystem::path trace;
  std::string impl;
  adam_config config;
  std::optional<std::int64_t> steps;  ///< first T rows; all when unset
  std::filesystem::path out;          ///< RESULT.npz
  bool compare = false;               ///< also run the reference and print agreement metrics
  int threads = 1;
};

/// Exit codes: 0 done (and, with compare, agrees), 1 disagrees (compare only), 2 bad input
/// (thrown as input_error), 3 the implementation does not support the case.
int run_replay(const registry& reg, const replay_options& opt);

}  // namespace adambench
