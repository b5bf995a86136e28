#pragma once
/// The interface every implementation under test meets, and the registry that names them.
#include "adambench/config.h"
#include "adambench/tensor.h"

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace adambench {

/// Why a case cannot run, or nothing when it can. A skip is recorded with its reason, never hidden.
struct support {
  bool ok = true;
  std::string reason;
  static support yes() { return {}; }
  static support no(std::string why) { return {false, std::move(why)}; }
};

/// What a case asks of an implementation, beyond its adam_config.
struct case_features {
  dtype type = dtype::float32;
  /// The case feeds a NaN/inf gradient and then steps again, so the rule that turns m = ±inf into
  /// NaN (torch.optim's lerp_ since PyTorch 2.0) versus keeping it (mul_/add_) becomes visible.
  bool nonfinite_then_more_steps = false;
  /// The case feeds a NaN/inf gradient at some step (whether or not more steps follow).
  bool nonfinite_grad = false;
  /// The case starts from a given state (m, v, max_v, step) rather than zeros at step 0.
  bool starts_from_state = false;
  /// The caller trains models (convergence, sweeps), where non-Adam baselines (sgd-momentum) may run.
  bool baselines_allowed = false;
};

/// Options shared by every implementation.
struct impl_options {
  int threads = 1;  ///< CPU threads (OpenMP and LibTorch intra-op)
};

/// One Adam/AdamW implementation bound to caller-owned parameter and gradient buffers.
class optimizer {
 public:
  virtual ~optimizer() = default;
  /// Binds host buffers of one dtype: step() updates params in place and reads grads.
  /// State (m, v, max_v) starts at zero and step at 0.
  virtual void bind(std::span<const tensor_view> params, std::span<const tensor_view> grads) = 0;
  /// Replaces m, v, max_v and the step counter (params in `s` are ignored).
  virtual void load_state(const adam_state& s) = 0;
  /// One optimizer step with the current learning rate.
  virtual void step() = 0;
  /// Changes the learning rate for the following steps (schedules).
  virtual void set_lr(double lr) = 0;
  /// Parameters and state as float64 on the host.
  virtual adam_state read_state() = 0;
};

/// The role an implementation plays in speed's comparisons, so no runner has to know it by name.
enum class speed_peer {
  none,             ///< compared with the peers, not a peer itself
  libtorch,         ///< the "vs libtorch" reference (registered first) and one of the LibTorch CPU peers
  libtorch_other,   ///< another LibTorch CPU peer: the best of them is "vs best LibTorch"
  deepspeed,        ///< DeepSpeed's CPU Adam: "vs DeepSpeed"
};

/// A non-Adam baseline's reading of a case's baseline hyper-parameters (lr, momentum, weight decay)
/// as the adam_config its make() takes.
using baseline_config_fn = std::function<adam_config(double lr, double momentum, double weight_decay)>;

/// What runners need to know of an implementation beyond running it. Every field has a default,
/// so a registration that gives none (name, description, supports, make) is an Adam
/// implementation that is nobody's peer.
struct impl_traits {
  speed_peer peer = speed_peer::none;  ///< its place in speed's "vs ..." columns
  /// Set only for a non-Adam baseline (sgd-momentum): converge, sweep and tune train it with this
  /// config from the case's sgd_lr, sgd_momentum and weight decay, and never tune it.
  baseline_config_fn baseline_config{};
  /// The float64 oracle: converge trains it first and measures every other run's drift from it.
  bool oracle = false;
  /// A LibTorch CPU peer (either rank): the peers "vs best LibTorch" picks from.
  bool libtorch_peer() const { return peer == speed_peer::libtorch || peer == speed_peer::libtorch_other; }
  /// A non-Adam baseline (has a baseline_config).
  bool baseline() const { return static_cast<bool>(baseline_config); }
};

/// A registered implementation: its name, what it supports, how to make one and its traits.
struct impl_entry {
  std::string name;
  std::string description;
  std::function<support(const adam_config&, const case_features&)> supports;
  std::function<std::unique_ptr<optimizer>(const adam_config&, const impl_options&, dtype)> make;
  impl_traits traits{};  ///< optional fifth argument of ADAMBENCH_REGISTER_IMPL
};

/// Name -> implementation. Implementations register themselves with ADAMBENCH_REGISTER_IMPL
/// (adambench/register.h).
class registry {
 public:
  void add(impl_entry e);
  const impl_entry* find(const std::string& name) const;
  /// The traits of `name`; the defaults (no role) for a name not registered.
  const impl_traits& traits(const std::string& name) const;
  /// Throws input_error listing the known names when `name` is unknown.
  const impl_entry& at(const std::string& name) const;
  const std::vector<impl_entry>& all() const { return entries_; }
  std::vector<std::string> names() const;
  /// Orders the oracle (impl_traits::oracle: `reference`) first, then the others by name.
  void sort_reference_first();

 private:
  std::vector<impl_entry> entries_;
};

/// The registry with every implementation linked into this program (each registered by
/// ADAMBENCH_REGISTER_IMPL): "reference" first, then by name, whatever the link order.
registry& default_registry();

/// Adds `e` to default_registry(); returns true so a namespace-scope variable can call it.
bool register_impl(impl_entry e);

}  // namespace adambench
