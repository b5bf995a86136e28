#pragma once
/// The speed runner's Google Benchmark fixture (speed/speed_bench.cpp): binds the buffers of the
/// benchmark being measured, times its steps and sets its counters.
#include "speed/probe.h"
#include "speed/speed_grid.h"

#include <benchmark/benchmark.h>
#include <filesystem>
#include <memory>
#include <vector>

namespace adambench {

/// The buffers of the benchmark being measured: gradients and parameters are shared by every
/// implementation of a shape; the optimizer (with its state) lives while its benchmark runs.
/// Holds a reference to the grid, which must outlive it.
class speed_bench {
 public:
  speed_bench(const speed_grid& grid, std::vector<int> cpus);
  ~speed_bench();

  /// Peak bytes allocated during one step beyond the bound buffers and state, per benchmark
  /// (-1: not measured).
  const std::vector<std::int64_t>& extra_bytes() const { return extra_bytes_; }

  /// Benchmark i of the grid: Google Benchmark calls this for every repetition.
  void run(benchmark::State& st, int i);

  /// The temporary JSON file to remove when interrupted.
  void set_temp_file(std::filesystem::path p) { tmp_ = std::move(p); }

  /// Google Benchmark cannot be stopped midway (skipping the remaining repetitions trips its
  /// statistics' checks), so the runner stops the process between two repetitions: removes the
  /// temporary JSON, says so and exits 130. Only memory is left, which the exit frees.
  [[noreturn]] void stop_interrupted();

  /// Frees everything (after the run, or when a benchmark failed to set up).
  void release();

 private:
  void prepare(int i);
  double timed_loop(benchmark::State& st, const bench_spec& b);
  void set_counters(benchmark::State& st, int i, double secs);

  const std::vector<shape_list>& shapes_;
  const std::vector<bench_spec>& specs_;
  std::vector<int> cpus_;
  std::vector<std::vector<double>> rates_;  // params/s of every timed run, per benchmark
  std::vector<std::int64_t> extra_bytes_;   // per benchmark, from its armed step
  std::filesystem::path tmp_;
  int shape_ = -1, bound_ = -1;
  std::vector<host_tensor> p_, g_;
  std::vector<tensor_view> pv_, gv_;
  std::unique_ptr<optimizer> opt_;
  std::unique_ptr<bandwidth_probe> probe_;
};

/// The float32 parameters and gradients of a shape list, filled with the deterministic values
/// every speed and count benchmark steps over (parameters near 1, gradients in ±5e-3), and views
/// of them; replaces what the vectors held.
void make_step_buffers(const shape_list& sh, std::vector<host_tensor>& p, std::vector<host_tensor>& g, std::vector<tensor_view>& pv,
                       std::vector<tensor_view>& gv);

/// ADAMBENCH_PLANTED_SLOWDOWN=IMPL:FRACTION (test-only, docs/speed.md): the fraction of its own step
/// time that IMPL's timed loop spins after each step; 0 for every other implementation or when unset.
/// Throws input_error when the variable is malformed.
double planted_slowdown(const std::string& impl);

}  // namespace adambench
