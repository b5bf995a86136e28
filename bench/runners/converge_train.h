#pragma once
// Private to the convergence and sweep runners: one training run and the drift between two runs.
#include "runners/converge.h"

#include <functional>
#include <memory>

namespace adambench {

/// What one run trains: the case, its batch size and seed.
struct train_env {
  const converge_case& c;
  std::int64_t batch;
  std::uint64_t seed;
  int threads;
  bool quiet;
  std::string label;  ///< "CASE b=B seed=S" for progress lines
};

/// Makes the optimizer under test at a given initial learning rate.
using optimizer_factory = std::function<std::unique_ptr<optimizer>(double lr)>;

/// One training run: the workload from `seed`, the optimizer `make`s, data order from
/// mt19937_64(seed) — the same for every implementation. Never throws for divergence.
run_result train_one(const train_env& env, const std::string& impl, const optimizer_factory& make);

/// Fills r's drift fields from the reference run `ref` of the same case, batch size and seed.
void compute_drift(run_result& r, const run_result& ref);

}  // namespace adambench
