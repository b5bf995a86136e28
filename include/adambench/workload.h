#pragma once
/// Workloads: gradient sources for the convergence runner. A workload owns float32 parameters
/// and gradient buffers (seen by optimizers as tensor_views), computes a minibatch loss and its
/// gradient, and evaluates on held-out data. It knows nothing of optimizers or runners.
#include "adambench/tensor.h"

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace adambench {

/// Loss (and accuracy where the task has one) on the held-out set.
struct eval_point {
  double loss = std::numeric_limits<double>::quiet_NaN();
  double acc = std::numeric_limits<double>::quiet_NaN();  ///< NaN when the task has no accuracy
};

/// A gradient source with float32 parameters. Example:
///   auto w = default_workloads().make(spec, /*seed=*/0, /*threads=*/2);
///   double loss = w->compute_grad(batch_indices, /*step=*/1);   // grads() now hold dL/dp
class workload {
 public:
  virtual ~workload() = default;
  /// Samples in one epoch (the runner shuffles 0..train_size()-1 each epoch).
  virtual std::int64_t train_size() const = 0;
  /// Parameter buffers (float32), updated in place by the optimizer.
  virtual std::span<const tensor_view> params() = 0;
  /// Gradient buffers (float32), written by compute_grad().
  virtual std::span<const tensor_view> grads() = 0;
  /// Loss of the minibatch at the current parameters; writes its gradient into grads().
  /// `step` (1-based) seeds any synthetic gradient noise, so noise is the same for every optimizer.
  virtual double compute_grad(std::span<const std::int64_t> batch, std::int64_t step) = 0;
  /// Held-out loss and accuracy at the current parameters.
  virtual eval_point evaluate() = 0;
  virtual bool has_accuracy() const { return false; }
};

/// A workload's name and options from a suite: numbers and strings, checked by the workload.
struct workload_spec {
  std::string name;
  std::map<std::string, double> num;
  std::map<std::string, std::string> str;
  std::string data_dir;   ///< MNIST-format folder (Fashion-MNIST workloads)
  std::string text_file;  ///< corpus (character LM)

  /// Option value or its default; records the key as known so unknown keys can be reported.
  double get(const std::string& key, double def) const;
  std::string get_str(const std::string& key, const std::string& def) const;
  /// Throws input_error naming the first option no get() asked for.
  void check_all_used() const;
  /// "dim=100 condition=1000" for tables and JSON.
  std::string describe() const;

 private:
  mutable std::set<std::string> used_;
};

/// One registered workload: how to check its inputs cheaply (before any run) and how to make it.
struct workload_entry {
  std::string name;
  std::string description;
  /// Throws input_error for bad options or missing files, naming what and where.
  std::function<void(const workload_spec&)> check;
  /// A workload with initial parameters drawn from `seed` (the same seed gives the same weights).
  std::function<std::unique_ptr<workload>(const workload_spec&, std::uint64_t seed, int threads)> make;
  /// String options that name files: a suite's relative paths there resolve against the suite's folder.
  std::vector<std::string> path_options = {};
};

class workload_registry {
 public:
  void add(workload_entry e);
  const workload_entry* find(const std::string& name) const;
  /// Throws input_error listing the known names.
  const workload_entry& at(const std::string& name) const;
  const std::vector<workload_entry>& all() const { return entries_; }

 private:
  std::vector<workload_entry> entries_;
};

/// Every workload linked into this program, each registered by ADAMBENCH_REGISTER_WORKLOAD
/// (adambench/register.h).
workload_registry& default_workloads();

/// Adds `e` to default_workloads(); returns true so a namespace-scope variable can call it.
bool register_workload(workload_entry e);

/// Owning float32 buffers for analytic workloads: parameters and gradients with views on them.
struct param_buffers {
  std::vector<host_tensor> p, g;
  std::vector<tensor_view> pv, gv;
  void add(shape_t shape) {
    p.emplace_back(dtype::float32, shape);
    g.emplace_back(dtype::float32, shape);
  }
  void finish() {  // views after all add() calls (vector growth moves the tensors' metadata)
    pv.clear();
    gv.clear();
    for (auto& t : p) pv.push_back(t.view());
    for (auto& t : g) gv.push_back(t.view());
  }
  float* pdata(std::size_t i) { return static_cast<float*>(p[i].data()); }
  float* gdata(std::size_t i) { return static_cast<float*>(g[i].data()); }
};

/// A generator seeded from several words (seed, purpose, step ...): independent streams.
std::uint64_t mix_seed(std::initializer_list<std::uint64_t> words);

}  // namespace adambench
