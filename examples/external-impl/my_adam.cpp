// A scalar Adam/AdamW of "another repository", registered with adambench by one macro. It uses only
// the public header: no LibTorch header is needed to compile it.
#include <adambench/adambench.h>

#include <cmath>
#include <memory>
#include <vector>

namespace {

using namespace adambench;

/// PyTorch's for-loop op order, in the buffers' own type T (float or double).
template <class T>
class my_adam final : public optimizer {
 public:
  explicit my_adam(const adam_config& c) : c_(c.validated()) {}

  void bind(std::span<const tensor_view> params, std::span<const tensor_view> grads) override {
    p_.assign(params.begin(), params.end());
    g_.assign(grads.begin(), grads.end());
    m_.clear(), v_.clear(), vmax_.clear();
    for (auto& p : p_) {
      m_.emplace_back(p.numel(), T(0));
      v_.emplace_back(p.numel(), T(0));
      vmax_.emplace_back(c_.amsgrad ? p.numel() : 0, T(0));
    }
    step_ = 0;
  }
  void load_state(const adam_state& s) override {
    for (std::size_t i = 0; i < p_.size(); ++i)
      for (std::size_t k = 0; k < m_[i].size(); ++k) {
        m_[i][k] = static_cast<T>(s.m[i][k]);
        v_[i][k] = static_cast<T>(s.v[i][k]);
        if (c_.amsgrad) vmax_[i][k] = static_cast<T>(s.vmax[i][k]);
      }
    step_ = s.step;
  }
  void set_lr(double lr) override { c_.lr = lr; }
  void step() override {
    ++step_;
    const T b1 = T(c_.beta1), b2 = T(c_.beta2), lr = T(c_.lr), eps = T(c_.eps), wd = T(c_.weight_decay);
    const T bc1 = T(1) - std::pow(b1, T(step_)), bc2 = T(1) - std::pow(b2, T(step_));
    const T step_size = lr / bc1, bc2_sqrt = std::sqrt(bc2);
    for (std::size_t i = 0; i < p_.size(); ++i) {
      T* p = static_cast<T*>(p_[i].data);
      const T* gp = static_cast<const T*>(g_[i].data);
      for (std::size_t k = 0; k < m_[i].size(); ++k) {
        T g = c_.maximize ? -gp[k] : gp[k];
        if (c_.kind == algo::adamw)
          p[k] = p[k] * (T(1) - lr * wd);
        else if (c_.weight_decay != 0)
          g = g + wd * p[k];
        const T w = T(1) - b1;  // m.lerp_(g, 1 - beta1), ATen's two-sided formula
        m_[i][k] = w < T(0.5) ? m_[i][k] + w * (g - m_[i][k]) : g - (g - m_[i][k]) * (T(1) - w);
        v_[i][k] = v_[i][k] * b2 + (T(1) - b2) * g * g;
        T vh = v_[i][k];
        if (c_.amsgrad) vh = vmax_[i][k] = std::fmax(vmax_[i][k], vh);
#ifdef MY_ADAM_PLANTED_BUG
        const T denom = std::sqrt(vh / bc2 + eps);  // the bug: eps inside the square root
#else
        const T denom = std::sqrt(vh) / bc2_sqrt + eps;
#endif
        p[k] = p[k] + (-step_size) * (m_[i][k] / denom);
      }
    }
  }
  adam_state read_state() override {
    adam_state s;
    s.step = step_;
    auto widen = [](const T* x, std::size_t n) { return std::vector<double>(x, x + n); };
    for (std::size_t i = 0; i < p_.size(); ++i) {
      s.params.push_back(widen(static_cast<const T*>(p_[i].data), m_[i].size()));
      s.m.push_back(widen(m_[i].data(), m_[i].size()));
      s.v.push_back(widen(v_[i].data(), v_[i].size()));
      if (c_.amsgrad) s.vmax.push_back(widen(vmax_[i].data(), vmax_[i].size()));
    }
    return s;
  }

 private:
  adam_config c_;
  std::vector<tensor_view> p_, g_;
  std::vector<std::vector<T>> m_, v_, vmax_;
  std::int64_t step_ = 0;
};

}  // namespace

ADAMBENCH_REGISTER_IMPL("my-adam", "an external scalar Adam/AdamW (examples/external-impl)",
    [](const adambench::adam_config&, const adambench::case_features& f) {
      if (f.type != adambench::dtype::float32 && f.type != adambench::dtype::float64)
        return adambench::support::no("float32 and float64 only");
      return adambench::support::yes();
    },
    [](const adambench::adam_config& c, const adambench::impl_options&,
       adambench::dtype d) -> std::unique_ptr<adambench::optimizer> {
      if (d == adambench::dtype::float64) return std::make_unique<my_adam<double>>(c);
      return std::make_unique<my_adam<float>>(c);
    });
