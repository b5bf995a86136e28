#pragma once
/// The counting runner (`adambench count`, docs/speed.md "Counted speed"): the speed suite's
/// benchmarks stepped under Valgrind's Callgrind with a fixed simulated cache, counting exactly K
/// steps after warm-up of each. `run_count` re-runs this program under Valgrind as the hidden
/// `count-worker` subcommand (`run_count_worker`), reads Callgrind's dumps and writes count.json.
/// Counting is deterministic: the same build and suite give the same figures at any load.
#include "adambench/optimizer.h"
#include "speed/speed_suite.h"

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace adambench {

struct count_options {
  std::string suite_arg;                     ///< the suite as given (in the worker: its text, from the request)
  std::vector<std::string> impls;            ///< overrides the suite's list when not empty
  std::string filter;                        ///< regex searched in benchmark names (empty: all)
  std::optional<std::filesystem::path> out;  ///< folder for count.json
  int steps = 2;                             ///< K counted steps per benchmark (figures are per step)
  int warmup = 2;                            ///< untimed steps before counting; the last one under Valgrind
  std::pair<int, int> shard{1, 1};           ///< `--shard I/N`: shape lists i with i % N == I - 1
  bool quiet = false, allow_empty = false;
};

/// Counts the suite's speed benchmarks at one thread under Valgrind and writes count.json. Returns
/// 0, 2 for bad input (nothing run), 3 when every selected benchmark was skipped (0 with
/// allow_empty), 4 when Valgrind is missing or cannot run this build (one line naming the fix),
/// 130 when interrupted (count.json keeps the benchmarks counted before, "interrupted": true).
int run_count(const speed_suite& suite, const registry& reg, const count_options& opt);

/// The worker, run under Callgrind by run_count: reads what to count from `request` (JSON written
/// by run_count), steps every selected benchmark, counting K steps of each between client requests,
/// and writes what it did to manifest.json beside the request. 130 when interrupted (the manifest
/// says before which benchmark), 4 when not under Valgrind.
int run_count_worker(const registry& reg, const std::filesystem::path& request);

}  // namespace adambench
