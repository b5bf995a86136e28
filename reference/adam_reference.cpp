#include "adam_reference.h"

#include "core/step_scalars.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace adambench {

namespace {
// Smallest normal number of a dtype: with gradual underflow a rounding's absolute error below it is
// at most eta = half the smallest subnormal spacing, and eta / u is exactly this number for every
// IEEE binary format (docs/tolerances.md, "Underflow").
double smallest_normal(dtype d) {
  switch (d) {
    case dtype::float64: return 0x1p-1022;
    case dtype::float32: return 0x1p-126;
    case dtype::bfloat16: return 0x1p-126;
    case dtype::float16: return 0x1p-14;
  }
  return 0x1p-126;
}
double unit_roundoff(dtype d) {
  switch (d) {
    case dtype::float64: return 0x1p-53;
    case dtype::float32: return 0x1p-24;
    case dtype::bfloat16: return 0x1p-8;
    case dtype::float16: return 0x1p-11;
  }
  return 0x1p-24;
}
}  // namespace

reference_adam::reference_adam(const adam_config& c, dtype arithmetic)
    : cfg_(c.validated()), tiny_(smallest_normal(arithmetic)), u_(unit_roundoff(arithmetic)) {}

void reference_adam::init(std::vector<std::vector<double>> params) {
  st_ = {};
  st_.params = std::move(params);
  bd_ = {};
  for (auto& p : st_.params) {
    bd_.params.emplace_back(p.size(), 0.0);  // inputs are exact: they were rounded to the dtype first
    bd_.m.emplace_back(p.size(), 0.0);
    bd_.v.emplace_back(p.size(), 0.0);
    if (cfg_.amsgrad) bd_.vmax.emplace_back(p.size(), 0.0);
    st_.m.emplace_back(p.size(), 0.0);
    st_.v.emplace_back(p.size(), 0.0);
    if (cfg_.amsgrad) st_.vmax.emplace_back(p.size(), 0.0);
  }
}

void reference_adam::load_state(const adam_state& s) {
  auto check = [&](const auto& a, const char* what) {
    if (a.size() != st_.params.size()) throw input_error(fmt::format("state {} has {} tensors, expected {}", what, a.size(), st_.params.size()));
    for (std::size_t i = 0; i < a.size(); ++i)
      if (a[i].size() != st_.params[i].size())
        throw input_error(fmt::format("state {}[{}] has {} elements, expected {}", what, i, a[i].size(), st_.params[i].size()));
  };
  check(s.m, "m");
  check(s.v, "v");
  if (cfg_.amsgrad) check(s.vmax, "max_v");
  if (s.step < 0) throw input_error(fmt::format("invalid step {}: must be >= 0", s.step));
  st_.m = s.m;
  st_.v = s.v;
  if (cfg_.amsgrad) st_.vmax = s.vmax;
  st_.step = s.step;
  for (auto* b : {&bd_.m, &bd_.v, &bd_.vmax})
    for (auto& x : *b) std::fill(x.begin(), x.end(), 0.0);
}

void reference_adam::set_lr(double lr) {
  adam_config c = cfg_;
  c.lr = lr;
  cfg_ = c.validated();
}

void reference_adam::step(const std::vector<std::vector<double>>& grads) {
  if (grads.size() != st_.params.size())
    throw input_error(fmt::format("{} gradients for {} parameters", grads.size(), st_.params.size()));
  const adam_config& c = cfg_;
  // torch.optim: step_t += 1, then bias corrections from the step as a Python float (double).
  st_.step += 1;
  // bias_correction1/2, step_size = lr / bias_correction1, bias_correction2_sqrt, 1 - lr * wd.
  const adam_step_scalars sc = adam_step_scalars_at(static_cast<double>(st_.step), c.lr, c.beta1, c.beta2, c.weight_decay);
  const double T = tiny_;  // one rounding that may underflow, in units of u (docs/tolerances.md)
  for (std::size_t i = 0; i < grads.size(); ++i) {
    auto& p = st_.params[i];
    auto& m = st_.m[i];
    auto& v = st_.v[i];
    if (grads[i].size() != p.size())
      throw input_error(fmt::format("gradient {} has {} elements, parameter has {}", i, grads[i].size(), p.size()));
    auto& bp = bd_.params[i];
    auto& bm = bd_.m[i];
    auto& bv = bd_.v[i];
    for (std::size_t k = 0; k < p.size(); ++k) {
      double g = grads[i][k];
      double bg = 0;                                            // bound on the error of g (inputs exact)
      if (c.maximize) g = -g;                                   // grad = -grad if maximize
      if (c.kind == algo::adamw) {
        p[k] = p[k] * sc.decay_mul;                             // AdamW: param.mul_(1 - lr * wd)
        bp[k] = bp[k] * std::fabs(sc.decay_mul) + std::fabs(p[k]) + T;
      } else if (c.weight_decay != 0.0) {
        g = g + c.weight_decay * p[k];                          // Adam: grad.add(param, alpha=wd)
        bg = c.weight_decay * bp[k] + std::fabs(g) + c.weight_decay * std::fabs(p[k]) + T;
      }
      const double m_old = m[k], v_old = v[k];
      m[k] = aten_lerp(m[k], g, sc.w1);                         // exp_avg.lerp_(grad, 1 - beta1)
      // Up to two products (lerp's weight*(g-m), or beta1*m and (1-beta1)*g) can underflow.
      bm[k] = c.beta1 * bm[k] + sc.w1 * bg + 2.0 * (std::fabs(m_old) + std::fabs(g)) + 2.0 * T;
      v[k] = v[k] * c.beta2 + sc.one_minus_beta2 * g * g;       // exp_avg_sq.mul_(b2).addcmul_(g, g, 1-b2)
      // Three products can underflow: v*beta2, g*g and (1-beta2)*g*g (g ~ 1e-20 in float32).
      bv[k] = c.beta2 * bv[k] + 2.0 * sc.one_minus_beta2 * std::fabs(g) * bg + 3.0 * (v_old + g * g) + 3.0 * T;
      double vh = v[k], bvh = bv[k];
      if (c.amsgrad) {
        // torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq): NaN propagates.
        double& mx = st_.vmax[i][k];
        mx = (std::isnan(mx) || std::isnan(vh)) ? std::nan("") : std::max(mx, vh);
        bd_.vmax[i][k] = std::max(bd_.vmax[i][k], bvh);
        vh = mx;
        bvh = bd_.vmax[i][k];
      }
      const double sq = std::sqrt(vh);
      // v's error e = u*bvh reaches sqrt(v) as |sqrt(v') - sqrt(v)| <= e / (sqrt(v) + sqrt(max(v-e, 0)))
      // (e / (2 sqrt(v)) while e << v) and never more than sqrt(e): that caps it where v is
      // subnormal or zero and e is as large as v itself.
      double bsq_in = 0.0;
      if (bvh > 0) {
        const double lin = bvh / (sq + std::sqrt(std::max(vh - u_ * bvh, 0.0)));
        const double hol = std::sqrt(bvh / u_);
        bsq_in = lin < hol ? lin : hol;
      }
      const double bsq = bsq_in + sq;
      const double denom = sq / sc.bc2_sqrt + c.eps;            // (sqrt(v) / sqrt(bc2)).add_(eps)
      const double bden = bsq / sc.bc2_sqrt + 2.0 * denom;
      const double r = m[k] / denom;
      const double br = bm[k] / denom + std::fabs(m[k]) * bden / (denom * denom) + std::fabs(r) + T;
      const double upd = (-sc.step_size) * r;
      p[k] = p[k] + upd;                                        // param.addcdiv_(m, denom, -step_size)
      bp[k] = bp[k] + sc.step_size * br + 2.0 * std::fabs(upd) + std::fabs(p[k]) + T;
    }
  }
}

}  // namespace adambench
