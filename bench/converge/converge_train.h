#pragma once
// Private to the convergence and sweep runners: one training run and the drift between two runs.
#include "converge/converge.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <numeric>
#include <random>
#include <span>

namespace adambench {

/// Minibatches without replacement within an epoch, reshuffled each epoch from the seed's stream:
/// the data order of every training run (and of `adambench data-order`, for loops outside adambench).
class batch_sampler {
 public:
  batch_sampler(std::int64_t n, std::int64_t b, std::uint64_t seed)
      : order_(mix_seed({seed, 0xda7a})), perm_(static_cast<std::size_t>(n)), pos_(n), batch_(static_cast<std::size_t>(b)) {}
  std::span<const std::int64_t> next() {
    const auto n = static_cast<std::int64_t>(perm_.size());
    for (auto& x : batch_) {
      if (pos_ == n) {  // also before the first batch
        std::iota(perm_.begin(), perm_.end(), 0);
        std::shuffle(perm_.begin(), perm_.end(), order_);
        pos_ = 0;
      }
      x = perm_[static_cast<std::size_t>(pos_++)];
    }
    return batch_;
  }

 private:
  std::mt19937_64 order_;
  std::vector<std::int64_t> perm_;
  std::int64_t pos_;
  std::vector<std::int64_t> batch_;
};

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
