// `libtorch`: torch::optim::Adam / AdamW exactly as the linked LibTorch ships them.
#include "impls/libtorch/aten_common.h"
#include "adambench/optimizer.h"
#include "adambench/register.h"

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/version.h>
#include <cmath>
#include <sstream>
#include <type_traits>

namespace adambench {
namespace aten_common {
std::string torch_version() { return TORCH_VERSION; }
std::string cuda_unavailable(dtype d) {
  if (is_16bit(d))
    return "LibTorch CUDA peers: float32/float64 only (torch keeps 16-bit state, no float32 master weights)";
  if (!at::hasCUDA()) return fmt::format("no CUDA device for LibTorch {} (built without CUDA, or no GPU)", TORCH_VERSION);
  return "";
}
}  // namespace aten_common

namespace {
using namespace aten_common;

// The C++ frontend gained maximize only in some versions; detect rather than assume.
template <typename O>
constexpr bool has_maximize = requires(O o) { o.maximize(true); };

// Binding, state I/O and the device mirror come from aten_optimizer: its m_, v_, vmax_ tensors are
// handed to torch::optim as its per-parameter state (step 0 at bind, as torch would create it on
// the first step; the loaded step after load_state). torch keeps its own step counter and, in
// principle, may replace a state tensor (LibTorch 1.13 updates all three in place, but the C++
// frontend does not promise it), so read_state() takes both back from torch's state first: what
// it reports is torch's state, as before the base class was shared.
template <typename Opt, typename Options, typename State>
class torch_optim final : public aten_optimizer {
 public:
  torch_optim(const adam_config& c, dtype d, bool cuda = false) : aten_optimizer(c, d, cuda) {}

  void step() override {
    dev_.grads_in(grads_);
    if (negate_grads())
      for (std::size_t i = 0; i < grads_.size(); ++i) at::neg_out(neg_[i], grads_[i]);
    opt_->step();
    dev_.params_out(params_);
  }

  void set_lr(double lr) override {
    aten_optimizer::set_lr(lr);
    for (auto& g : opt_->param_groups()) static_cast<Options&>(g.options()).lr(lr);
  }

  adam_state read_state() override {
    for (std::size_t i = 0; i < params_.size(); ++i) {
      auto it = opt_->state().find(key(params_[i]));
      if (it == opt_->state().end()) continue;  // installed at bind: torch never drops it
      auto& st = static_cast<State&>(*it->second);
      m_[i] = st.exp_avg();
      v_[i] = st.exp_avg_sq();
      if (cfg_.amsgrad) vmax_[i] = st.max_exp_avg_sq();
      step_ = st.step();
    }
    return aten_optimizer::read_state();
  }

 private:
  void on_bind() override {
    neg_.clear();
    for (std::size_t i = 0; i < params_.size(); ++i) {
      if (negate_grads()) neg_.push_back(at::empty_like(grads_[i]));
      params_[i].mutable_grad() = negate_grads() ? neg_.back() : grads_[i];
    }
    Options o(cfg_.lr);
    o.betas(std::make_tuple(cfg_.beta1, cfg_.beta2)).eps(cfg_.eps).weight_decay(cfg_.weight_decay).amsgrad(cfg_.amsgrad);
    if constexpr (has_maximize<Options>) o.maximize(cfg_.maximize);
    opt_ = std::make_unique<Opt>(params_, o);
    install_state();  // zeros at step 0: what torch would create lazily on the first step
  }
  void on_load_state() override { install_state(); }

  /// Hands m_, v_, vmax_ and step_ to torch::optim as its state, one entry per parameter.
  void install_state() {
    for (std::size_t i = 0; i < params_.size(); ++i) {
      auto st = std::make_unique<State>();
      st->step(step_);
      st->exp_avg(m_[i]);
      st->exp_avg_sq(v_[i]);
      if (cfg_.amsgrad) st->max_exp_avg_sq(vmax_[i]);
      opt_->state()[key(params_[i])] = std::move(st);
    }
  }

  // torch.optim defines maximize as stepping on -grad (its first op); the C++ frontend has no
  // maximize option up to at least 2.15, so the optimizer is handed the negated gradient.
  bool negate_grads() const {
    if constexpr (has_maximize<Options>) return false;
    return cfg_.maximize;
  }

  // The state map is keyed by the TensorImpl address: a string in LibTorch 1.x, a void* in 2.x.
  auto key(const at::Tensor& p) {
    using map_t = std::remove_reference_t<decltype(opt_->state())>;
    using key_t = typename map_t::key_type;
    if constexpr (std::is_same_v<key_t, std::string>) {
      std::ostringstream os;  // what LibTorch 1.x's c10::guts::to_string did (gone in 2.x)
      os << p.unsafeGetTensorImpl();
      return os.str();
    } else
      return static_cast<key_t>(p.unsafeGetTensorImpl());
  }

  std::vector<at::Tensor> neg_;
  std::unique_ptr<Opt> opt_;
};

/// Whether the linked torch::optim::Adam updates m as torch.optim does (lerp_): after an inf
/// gradient and a finite one, m is NaN with lerp_ (inf + w * (g - inf)) and stays inf with
/// mul_/add_. Measured once on a 1-element tensor rather than assumed from the version.
bool updates_m_like_torch_optim() {
  static const bool yes = [] {
    at::Tensor p = at::zeros({1}, at::kFloat), g = at::full({1}, INFINITY, at::kFloat);
    p.mutable_grad() = g;
    torch::optim::Adam opt(std::vector<at::Tensor>{p}, torch::optim::AdamOptions(1e-3));
    opt.step();
    g.fill_(1.0);
    opt.step();
    for (auto& [k, st] : opt.state()) return std::isnan(static_cast<torch::optim::AdamParamState&>(*st).exp_avg().item<float>());
    return false;
  }();
  return yes;
}

support libtorch_supports(const adam_config& c, const case_features& f) {
  if (is_16bit(f.type)) return support::no("CPU implementation: only float32/float64");
  if (f.nonfinite_then_more_steps && !updates_m_like_torch_optim())
    return support::no(fmt::format("LibTorch {} C++ torch::optim updates m with mul_/add_ where torch.optim uses lerp_ "
                                   "(measured): after a ±inf gradient m stays ±inf here and becomes NaN in the reference",
                                   TORCH_VERSION));
  return support::yes();
}

}  // namespace

ADAMBENCH_REGISTER_IMPL("libtorch", fmt::format("torch::optim::Adam/AdamW of LibTorch {} (maximize: stepped on the negated gradient)", TORCH_VERSION), libtorch_supports,
       [](const adam_config& c, const impl_options& o, dtype d) -> std::unique_ptr<optimizer> {
         at::set_num_threads(std::max(1, o.threads));
         if (c.kind == algo::adam)
           return std::make_unique<torch_optim<torch::optim::Adam, torch::optim::AdamOptions, torch::optim::AdamParamState>>(c, d);
         return std::make_unique<torch_optim<torch::optim::AdamW, torch::optim::AdamWOptions, torch::optim::AdamWParamState>>(c, d);
       },
       {.peer = speed_peer::libtorch});
// The same on the GPU (device copies; grads copied in and params out inside step()).
ADAMBENCH_REGISTER_IMPL("libtorch-cuda", fmt::format("torch::optim::Adam/AdamW of LibTorch {} on CUDA tensors", TORCH_VERSION),
       [](const adam_config& c, const case_features& f) {
         if (auto why = cuda_unavailable(f.type); !why.empty()) return support::no(why);
         return libtorch_supports(c, f);
       },
       [](const adam_config& c, const impl_options&, dtype d) -> std::unique_ptr<optimizer> {
         if (c.kind == algo::adam)
           return std::make_unique<torch_optim<torch::optim::Adam, torch::optim::AdamOptions, torch::optim::AdamParamState>>(c, d, true);
         return std::make_unique<torch_optim<torch::optim::AdamW, torch::optim::AdamWOptions, torch::optim::AdamWParamState>>(c, d, true);
       });

}  // namespace adambench
