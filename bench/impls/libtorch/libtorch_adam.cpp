// `libtorch`: torch::optim::Adam / AdamW exactly as the linked LibTorch ships them.
#include "impls/libtorch/aten_common.h"
#include "core/optimizer.h"

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

template <typename Opt, typename Options, typename State>
class torch_optim final : public optimizer {
 public:
  torch_optim(const adam_config& c, dtype d, bool cuda = false) : cfg_(c.validated()), type_(d) { dev_.on = cuda; }

  void bind(std::span<const tensor_view> params, std::span<const tensor_view> grads) override {
    params_.clear();
    grads_.clear();
    neg_.clear();
    dev_.clear();
    for (std::size_t i = 0; i < params.size(); ++i) {
      at::Tensor p = dev_.param(params[i], type_);
      grads_.push_back(dev_.grad(grads[i], type_));
      if (negate_grads()) neg_.push_back(at::empty_like(grads_.back()));
      p.mutable_grad() = negate_grads() ? neg_.back() : grads_.back();
      params_.push_back(p);
    }
    Options o(cfg_.lr);
    o.betas(std::make_tuple(cfg_.beta1, cfg_.beta2)).eps(cfg_.eps).weight_decay(cfg_.weight_decay).amsgrad(cfg_.amsgrad);
    if constexpr (has_maximize<Options>) o.maximize(cfg_.maximize);
    opt_ = std::make_unique<Opt>(params_, o);
  }

  void load_state(const adam_state& s) override {
    for (std::size_t i = 0; i < params_.size(); ++i) {
      auto st = std::make_unique<State>();
      st->step(s.step);
      const auto dv = params_[i].device();
      st->exp_avg(from_doubles(s.m[i], params_[i].sizes(), type_).to(dv));
      st->exp_avg_sq(from_doubles(s.v[i], params_[i].sizes(), type_).to(dv));
      if (cfg_.amsgrad) st->max_exp_avg_sq(from_doubles(s.vmax[i], params_[i].sizes(), type_).to(dv));
      opt_->state()[key(params_[i])] = std::move(st);
    }
  }

  void step() override {
    dev_.grads_in(grads_);
    if (negate_grads())
      for (std::size_t i = 0; i < grads_.size(); ++i) at::neg_out(neg_[i], grads_[i]);
    opt_->step();
    dev_.params_out(params_);
  }

  void set_lr(double lr) override {
    for (auto& g : opt_->param_groups()) static_cast<Options&>(g.options()).lr(lr);
  }

  adam_state read_state() override {
    adam_state s;
    for (auto& p : params_) {
      s.params.push_back(to_doubles(p));
      auto it = opt_->state().find(key(p));
      if (it == opt_->state().end()) {  // no step taken yet: torch creates state lazily
        s.m.emplace_back(p.numel(), 0.0);
        s.v.emplace_back(p.numel(), 0.0);
        if (cfg_.amsgrad) s.vmax.emplace_back(p.numel(), 0.0);
        continue;
      }
      auto& st = static_cast<State&>(*it->second);
      s.step = st.step();
      s.m.push_back(to_doubles(st.exp_avg()));
      s.v.push_back(to_doubles(st.exp_avg_sq()));
      if (cfg_.amsgrad) s.vmax.push_back(to_doubles(st.max_exp_avg_sq()));
    }
    return s;
  }

 private:
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

  adam_config cfg_;
  dtype type_;
  device_mirror dev_;
  std::vector<at::Tensor> params_, grads_, neg_;
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
       });
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
