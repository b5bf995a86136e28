// `rosenbrock`: f(x) = sum_{i<n-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2, optimum f(1,...,1) = 0.
// Start: the classic (-1.2, 1, -1.2, 1, ...) plus init_scale * N(0, 1) from the run seed.
// Optional gradient noise (noise / sqrt(batch), from (seed, step)) like `quadratic`.
#include "adambench/errors.h"
#include "adambench/workload.h"
#include "adambench/register.h"

#include <cmath>
#include <random>

namespace adambench {
namespace {

class rosenbrock final : public workload {
 public:
  rosenbrock(const workload_spec& s, std::uint64_t seed) : seed_(seed) {
    dim_ = static_cast<int>(s.get("dim", 10));
    noise_ = s.get("noise", 0.0);
    samples_ = static_cast<std::int64_t>(s.get("samples", 8192));
    const double init_scale = s.get("init_scale", 0.1);
    s.check_all_used();
    if (dim_ < 2) throw input_error("workload rosenbrock: dim must be >= 2");
    buf_.add({dim_});
    buf_.finish();
    std::mt19937_64 r(mix_seed({seed, 2}));
    std::normal_distribution<double> nd(0.0, 1.0);
    for (int i = 0; i < dim_; ++i) buf_.pdata(0)[i] = static_cast<float>((i % 2 ? 1.0 : -1.2) + init_scale * nd(r));
  }

  std::int64_t train_size() const override { return samples_; }
  std::span<const tensor_view> params() override { return buf_.pv; }
  std::span<const tensor_view> grads() override { return buf_.gv; }

  double compute_grad(std::span<const std::int64_t> batch, std::int64_t step) override {
    const float* x = buf_.pdata(0);
    std::vector<double> g(dim_, 0.0);
    for (int i = 0; i + 1 < dim_; ++i) {
      const double a = x[i + 1] - static_cast<double>(x[i]) * x[i], b = 1.0 - x[i];
      g[i] += -400.0 * x[i] * a - 2.0 * b;
      g[i + 1] += 200.0 * a;
    }
    if (noise_ > 0) {
      std::mt19937_64 r(mix_seed({seed_, 3, static_cast<std::uint64_t>(step)}));
      std::normal_distribution<double> nd(0.0, 1.0);
      const double s = noise_ / std::sqrt(static_cast<double>(std::max<std::size_t>(1, batch.size())));
      for (auto& v : g) v += s * nd(r);
    }
    for (int i = 0; i < dim_; ++i) buf_.gdata(0)[i] = static_cast<float>(g[i]);
    return value();
  }

  eval_point evaluate() override { return {value()}; }

 private:
  double value() const {
    const float* x = const_cast<param_buffers&>(buf_).pdata(0);
    double f = 0;
    for (int i = 0; i + 1 < dim_; ++i) {
      const double a = x[i + 1] - static_cast<double>(x[i]) * x[i], b = 1.0 - x[i];
      f += 100.0 * a * a + b * b;
    }
    return f;
  }
  std::uint64_t seed_;
  int dim_;
  double noise_;
  std::int64_t samples_;
  param_buffers buf_;
};

}  // namespace

ADAMBENCH_REGISTER_WORKLOAD("rosenbrock", "N-dimensional Rosenbrock, optimum 0 at (1, ..., 1)",
       [](const workload_spec& s) { rosenbrock w(s, 0); },
       [](const workload_spec& s, std::uint64_t seed, int) { return std::make_unique<rosenbrock>(s, seed); });

}  // namespace adambench
