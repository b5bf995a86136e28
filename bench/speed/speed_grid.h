#pragma once
/// The speed runner's grid: every benchmark it registers, in registration order, over which shape
/// lists and thread counts. Built from the suite and options before anything runs
/// (speed/speed_grid.cpp); the fixture times it, the summary and the reporters read it.
#include "adambench/optimizer.h"
#include "speed/speed.h"

#include <string>
#include <vector>

namespace adambench {

/// One benchmark: an implementation (or the probe) on one shape list, thread count and config.
struct bench_spec {
  std::string name;             ///< Google Benchmark's name (before its "/real_time" suffix)
  int shape = 0;
  const impl_entry* impl = nullptr;  ///< null: the probe
  adam_config cfg;
  int threads = 1;
  int probe = -1;               ///< index of the probe benchmark of the same shape/threads/amsgrad
  int libtorch = -1;            ///< index of the LibTorch reference's benchmark (speed_peer::libtorch) of the same case
  std::vector<int> peers;       ///< the LibTorch CPU peers of the same case (registered before this)
  int deepspeed = -1;           ///< index of DeepSpeed's benchmark (speed_peer::deepspeed) of the same case ("vs DeepSpeed")
  std::string impl_name() const { return impl ? impl->name : "probe"; }
};

/// What one `adambench speed` run registers.
struct speed_grid {
  std::vector<shape_list> shapes;    ///< after --shard
  std::vector<int> threads;          ///< the thread counts that run
  std::vector<bench_spec> specs;     ///< in registration order (the interleaving, speed/speed.cpp)
  std::vector<std::string> skipped;  ///< "NAME: reason" of each benchmark an implementation cannot run
};

/// The grid of the suite under the options. Throws input_error naming what and where (an unknown
/// implementation or model, no thread count within --threads).
speed_grid build_speed_grid(const speed_suite& suite, const registry& reg, const speed_options& opt);

}  // namespace adambench
