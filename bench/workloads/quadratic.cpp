// `quadratic`: f(x) = 1/2 (x - x*)^T A (x - x*) with A = Q diag(lambda) Q^T, lambda log-spaced from
// 1 to `condition`, Q a random rotation (fixed by `problem_seed`, so every run seed sees the same
// problem). Optimum f(x*) = 0. The minibatch gradient is A (x - x*) + noise * xi / sqrt(batch),
// xi ~ N(0, I) drawn from (seed, step): gradient noise shrinks with batch size as for a mean of
// `batch` independent samples, and every optimizer sees the same noise at the same step.
// A moving optimum (β2 responsiveness): with `shift_at` = T > 0, after step T the optimum moves to
// x* + shift * N(0, I) (fixed by problem_seed) and the loss (so every gradient, noise included) is
// multiplied by `scale_after`: Adam's second moment must forget the old gradient scale.
#include "adambench/errors.h"
#include "adambench/workload.h"
#include "adambench/register.h"

#include <cmath>
#include <fmt/format.h>
#include <random>

namespace adambench {
namespace {

class quadratic final : public workload {
 public:
  quadratic(const workload_spec& s, std::uint64_t seed) : seed_(seed) {
    dim_ = static_cast<int>(s.get("dim", 100));
    condition_ = s.get("condition", 100);
    noise_ = s.get("noise", 1.0);
    samples_ = static_cast<std::int64_t>(s.get("samples", 8192));
    const auto problem_seed = static_cast<std::uint64_t>(s.get("problem_seed", 0));
    const double init_scale = s.get("init_scale", 1.0);
    shift_at_ = static_cast<std::int64_t>(s.get("shift_at", 0));
    const double shift = s.get("shift", 1.0);
    scale_after_ = s.get("scale_after", 1.0);
    s.check_all_used();
    if (shift_at_ < 0 || !(scale_after_ > 0)) throw input_error("workload quadratic: shift_at must be >= 0 and scale_after > 0");
    if (dim_ < 1 || dim_ > 4096) throw input_error(fmt::format("workload quadratic: dim {} must be in [1, 4096]", dim_));
    if (!(condition_ >= 1)) throw input_error(fmt::format("workload quadratic: condition {} must be >= 1", condition_));
    if (samples_ < 1) throw input_error("workload quadratic: samples must be >= 1");
    const int n = dim_;
    // Random rotation: Gram-Schmidt on a Gaussian matrix (rows of q are orthonormal).
    std::mt19937_64 pr(mix_seed({problem_seed, 1}));
    std::normal_distribution<double> nd(0.0, 1.0);
    std::vector<double> q(static_cast<std::size_t>(n) * n);
    for (auto& x : q) x = nd(pr);
    for (int i = 0; i < n; ++i) {
      double* qi = &q[static_cast<std::size_t>(i) * n];
      for (int j = 0; j < i; ++j) {
        const double* qj = &q[static_cast<std::size_t>(j) * n];
        double d = 0;
        for (int k = 0; k < n; ++k) d += qi[k] * qj[k];
        for (int k = 0; k < n; ++k) qi[k] -= d * qj[k];
      }
      double nn = 0;
      for (int k = 0; k < n; ++k) nn += qi[k] * qi[k];
      nn = std::sqrt(nn);
      for (int k = 0; k < n; ++k) qi[k] /= nn;
    }
    a_.assign(static_cast<std::size_t>(n) * n, 0.0);
    for (int i = 0; i < n; ++i) {
      const double lambda = n == 1 ? 1.0 : std::pow(condition_, static_cast<double>(i) / (n - 1));
      const double* qi = &q[static_cast<std::size_t>(i) * n];
      for (int r = 0; r < n; ++r)
        for (int c = 0; c < n; ++c) a_[static_cast<std::size_t>(r) * n + c] += lambda * qi[r] * qi[c];
    }
    xstar_.resize(n);
    for (auto& x : xstar_) x = nd(pr);
    xstar_after_ = xstar_;
    for (auto& x : xstar_after_) x += shift * nd(pr);
    // Initial point from the run seed: x* + init_scale * N(0, I).
    std::mt19937_64 ir(mix_seed({seed, 2}));
    buf_.add({dim_});
    buf_.finish();
    for (int i = 0; i < n; ++i) buf_.pdata(0)[i] = static_cast<float>(xstar_[i] + init_scale * nd(ir));
  }

  std::int64_t train_size() const override { return samples_; }
  std::span<const tensor_view> params() override { return buf_.pv; }
  std::span<const tensor_view> grads() override { return buf_.gv; }

  double compute_grad(std::span<const std::int64_t> batch, std::int64_t step) override {
    moved_ = shift_at_ > 0 && step > shift_at_;
    std::vector<double> ad = residual_times_a();
    std::mt19937_64 r(mix_seed({seed_, 3, static_cast<std::uint64_t>(step)}));
    std::normal_distribution<double> nd(0.0, 1.0);
    const double s = noise_ / std::sqrt(static_cast<double>(std::max<std::size_t>(1, batch.size())));
    const double k = moved_ ? scale_after_ : 1.0;
    for (int i = 0; i < dim_; ++i) buf_.gdata(0)[i] = static_cast<float>(k * (ad[i] + s * nd(r)));
    return loss(ad);
  }

  eval_point evaluate() override {
    eval_point e;
    e.loss = loss(residual_times_a());
    return e;
  }

 private:
  std::vector<double> d_;  // x - x*
  std::vector<double> residual_times_a() {
    const int n = dim_;
    d_.resize(n);
    const std::vector<double>& xs = moved_ ? xstar_after_ : xstar_;
    for (int i = 0; i < n; ++i) d_[i] = static_cast<double>(buf_.pdata(0)[i]) - xs[i];
    std::vector<double> ad(n, 0.0);
    for (int r = 0; r < n; ++r) {
      double acc = 0;
      for (int c = 0; c < n; ++c) acc += a_[static_cast<std::size_t>(r) * n + c] * d_[c];
      ad[r] = acc;
    }
    return ad;
  }
  double loss(const std::vector<double>& ad) const {
    double f = 0;
    for (int i = 0; i < dim_; ++i) f += d_[i] * ad[i];
    return 0.5 * f * (moved_ ? scale_after_ : 1.0);
  }

  std::uint64_t seed_;
  int dim_;
  double condition_, noise_;
  std::int64_t samples_;
  std::vector<double> a_, xstar_, xstar_after_;
  std::int64_t shift_at_ = 0;
  double scale_after_ = 1.0;
  bool moved_ = false;  // the last step was after shift_at: evaluate() uses the moved problem
  param_buffers buf_;
};

void check(const workload_spec& s) { quadratic q(s, 0); }  // cheap: validates the options

}  // namespace

ADAMBENCH_REGISTER_WORKLOAD("quadratic", "convex quadratic, known optimum 0, chosen condition number, noise/sqrt(batch)", check,
       [](const workload_spec& s, std::uint64_t seed, int) { return std::make_unique<quadratic>(s, seed); });

}  // namespace adambench
