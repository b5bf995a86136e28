// `deepspeed-cpu`: DeepSpeed's CPU Adam (the C++ kernel behind DeepSpeedCPUAdam, ZeRO-Offload's
// optimizer), compiled from the PyPI deepspeed sdist's own csrc/adam/cpu_adam_impl.cpp with the
// flags DeepSpeed's CPUAdamBuilder picks for this host (cmake/deepspeed_cpu.cmake). It is called
// the way DeepSpeedCPUAdam.step calls it: one ds_adam_step (Python's adam_update) per parameter
// tensor, fp32 parameters, gradients and state, the step counter, lr, betas, eps and weight decay as
// floats, bias_correction on, and the adamw flag fixed when the optimizer is created. Where the
// sources were not built in (the default Debian build/, an offline setup), every case is a recorded
// skip with the reason CMake found.
#include "adambench/optimizer.h"
#include "adambench/register.h"

#ifdef ADAMBENCH_DEEPSPEED_VERSION
#include "impls/libtorch/aten_common.h"

#include <cpu_adam.h>  // DeepSpeed's: Adam_Optimizer, create_adam_optimizer, ds_adam_step
#include <omp.h>

#include <atomic>
#include <cmath>
#endif

#include <algorithm>
#include <fmt/format.h>

namespace adambench {
namespace {

#ifdef ADAMBENCH_DEEPSPEED_VERSION
using namespace aten_common;

/// DeepSpeed's SIMD path as its builder chose it (simd.h's SIMD_WIDTH: floats per vector).
std::string simd_name() {
#if defined(__AVX512__)
  return fmt::format("AVX512, SIMD width {}", SIMD_WIDTH);
#elif defined(__AVX256__)
  return fmt::format("AVX2, SIMD width {}", SIMD_WIDTH);
#elif defined(__NEON__)
  return fmt::format("NEON, SIMD width {}", SIMD_WIDTH);
#else
  return "scalar, SIMD width 1";
#endif
}

class deepspeed_adam final : public aten_optimizer {
 public:
  deepspeed_adam(const adam_config& c, const impl_options& o)
      : aten_optimizer(c, dtype::float32, false), threads_(std::max(1, o.threads)), id_(next_id()) {
    // DeepSpeedCPUAdam.__init__: create_adam(opt_id, lr, beta1, beta2, eps, weight_decay, adamw_mode, should_log)
    create_adam_optimizer(id_, static_cast<float>(cfg_.lr), static_cast<float>(cfg_.beta1),
                          static_cast<float>(cfg_.beta2), static_cast<float>(cfg_.eps),
                          static_cast<float>(cfg_.weight_decay), cfg_.kind == algo::adamw, false);
  }
  ~deepspeed_adam() override { destroy_adam_optimizer(id_); }
  deepspeed_adam(const deepspeed_adam&) = delete;
  deepspeed_adam& operator=(const deepspeed_adam&) = delete;

  void step() override {
    ++step_;
    // DeepSpeed's `#pragma omp parallel for` takes the caller's OpenMP thread count
    // (torch.set_num_threads in Python sets the same ICV).
    omp_set_num_threads(threads_);
    const std::size_t t = static_cast<std::size_t>(step_);
    for (std::size_t i = 0; i < params_.size(); ++i)
      ds_adam_step(id_, t, static_cast<float>(cfg_.lr), static_cast<float>(cfg_.beta1), static_cast<float>(cfg_.beta2),
                   static_cast<float>(cfg_.eps), static_cast<float>(cfg_.weight_decay), true, params_[i], grads_[i],
                   m_[i], v_[i]);
  }

 private:
  static int next_id() {
    static std::atomic<int> id{0};
    return id++;
  }

  int threads_;
  int id_;
};

/// What DeepSpeed's CPU Adam cannot be asked for, or yes.
support supports(const adam_config& c, const case_features& f) {
  if (f.type == dtype::float64) return support::no("DeepSpeed's CPU Adam has no float64 kernel (fp32, fp16 and bf16 parameters only)");
  if (is_16bit(f.type))
    return support::no("deepspeed-cpu runs DeepSpeedCPUAdam as ZeRO-Offload does, on fp32 parameters and fp32 state");
  if (c.amsgrad) return support::no("DeepSpeed's CPU Adam has no amsgrad");
  if (c.maximize) return support::no("DeepSpeed's CPU Adam has no maximize");
  return support::yes();
}

std::string description() {
  return fmt::format("DeepSpeed {} CPU Adam (csrc/adam/cpu_adam_impl.cpp, Step_8, {}), one ds_adam_step per tensor",
                     ADAMBENCH_DEEPSPEED_VERSION, simd_name());
}

std::unique_ptr<optimizer> make(const adam_config& c, const impl_options& o, dtype d) {
  if (!supports(c, case_features{d}).ok) throw input_error(supports(c, case_features{d}).reason);
  return std::make_unique<deepspeed_adam>(c, o);
}
#else
support supports(const adam_config&, const case_features&) { return support::no(ADAMBENCH_DEEPSPEED_SKIP); }
std::string description() { return "DeepSpeed's CPU Adam: not built into this build (every case: the reason below)"; }
std::unique_ptr<optimizer> make(const adam_config&, const impl_options&, dtype) {
  throw input_error(fmt::format("deepspeed-cpu: {}", ADAMBENCH_DEEPSPEED_SKIP));
}
#endif

}  // namespace

ADAMBENCH_REGISTER_IMPL("deepspeed-cpu", description(), supports, make, {.peer = speed_peer::deepspeed});

}  // namespace adambench
