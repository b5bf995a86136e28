#pragma once
/// The registration macros: an implementation or a workload registers itself at program start,
/// next to its code, so adding one is adding one file (linked whole: docs/extending.md).
#include "adambench/optimizer.h"
#include "adambench/workload.h"

#define ADAMBENCH_CONCAT_INNER_(a, b) a##b
#define ADAMBENCH_CONCAT_(a, b) ADAMBENCH_CONCAT_INNER_(a, b)

/// Registers an implementation at program start, next to its code (one per use; any scope that
/// allows a variable). The arguments are an impl_entry's: name, description, supports, make and,
/// optionally, its impl_traits (defaults: an Adam implementation, nobody's peer).
///   ADAMBENCH_REGISTER_IMPL("my-adam", "my SIMD step",
///       [](const adambench::adam_config&, const adambench::case_features&) { return adambench::support::yes(); },
///       [](const adambench::adam_config& c, const adambench::impl_options& o, adambench::dtype d) {
///         return std::make_unique<my_adam>(c, o, d); });
/// A LibTorch peer under another name: append `{.peer = adambench::speed_peer::libtorch_other}`.
#define ADAMBENCH_REGISTER_IMPL(...)                                                        \
  [[maybe_unused]] static const bool ADAMBENCH_CONCAT_(adambench_impl_registered_, __COUNTER__) = \
      ::adambench::register_impl(::adambench::impl_entry{__VA_ARGS__})

/// Registers a workload at program start, next to its code. The arguments are a workload_entry's:
/// name, description, check, make, and optionally the options that are file paths.
///   ADAMBENCH_REGISTER_WORKLOAD("my-task", "what it trains", check_fn, make_fn);
#define ADAMBENCH_REGISTER_WORKLOAD(...)                                                        \
  [[maybe_unused]] static const bool ADAMBENCH_CONCAT_(adambench_workload_registered_, __COUNTER__) = \
      ::adambench::register_workload(::adambench::workload_entry{__VA_ARGS__})
