#pragma once
/// The speed runner's result: one summary row per benchmark of the grid, computed from Google
/// Benchmark's runs (speed/speed_summary.cpp). The reporters (speed/speed_report.h) read only
/// these rows and the grid.
#include "speed/speed_grid.h"

#include <benchmark/benchmark.h>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace adambench {

/// A row above this fraction of the limit is a measurement problem, not a result (docs/speed.md).
inline constexpr double limit_tolerance = 1.03;

/// One figure with its spread over repetitions.
struct speed_figure {
  double median = std::nan(""), stddev = std::nan(""), lo = std::nan(""), hi = std::nan("");
  bool has() const { return !std::isnan(median); }
};

/// One row of the summary: an implementation (or the probe) on one case, from the reported runs.
struct row_summary {
  int spec = -1;                      ///< index into speed_grid::specs
  std::string error;                  ///< Google Benchmark's error message, when it failed
  speed_figure time_us, rate, bytes_rate;   ///< time per step; params/s; bytes/s
  speed_figure limit_fraction;        ///< params/s over the probe's (the limit's) median
  bool over_limit = false;            ///< median above limit_tolerance of the limit
  std::string best_peer;              ///< the fastest LibTorch CPU peer of the case
  speed_figure vs_best;               ///< params/s over best_peer's median
  speed_figure vs_deepspeed;          ///< params/s over deepspeed-cpu's median on the same case
  std::vector<std::pair<std::string, speed_figure>> vs_peers;  ///< over each peer's median
  std::int64_t extra_bytes = -1;      ///< peak bytes allocated by one step (-1: not measured)
  bool present() const { return time_us.has() || !error.empty(); }
};

/// What a speed run measured.
struct speed_summary {
  std::vector<row_summary> rows;    ///< one per benchmark of the grid, in grid order
  std::int64_t llc_bytes = 0;       ///< the last-level cache (0: unknown): a working set inside it is a cache figure
};

/// The summary from Google Benchmark's runs (single runs or aggregates) and each benchmark's
/// measured extra bytes per step.
speed_summary summarise(const speed_grid& grid, const std::vector<std::int64_t>& extra_bytes,
                        const std::vector<benchmark::BenchmarkReporter::Run>& runs);

}  // namespace adambench
