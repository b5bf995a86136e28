// `logreg`: multinomial logistic regression (softmax, cross-entropy) on synthetic Gaussian blobs:
// `classes` centres drawn N(0, separation^2 I) in `dim` dimensions (fixed by problem_seed), points
// = centre + N(0, I). Parameters W (classes x dim, init_scale * N(0, 1) from the run seed) and b (zeros).
// Gradients are computed by hand in float64; no LibTorch.
#include "adambench/errors.h"
#include "adambench/workload.h"
#include "adambench/register.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <random>

namespace adambench {
namespace {

class logreg final : public workload {
 public:
  logreg(const workload_spec& s, std::uint64_t seed) {
    dim_ = static_cast<int>(s.get("dim", 20));
    k_ = static_cast<int>(s.get("classes", 4));
    const auto n_train = static_cast<std::int64_t>(s.get("train", 8192));
    const auto n_val = static_cast<std::int64_t>(s.get("val", 2048));
    const double sep = s.get("separation", 1.0);
    const auto problem_seed = static_cast<std::uint64_t>(s.get("problem_seed", 0));
    const double init_scale = s.get("init_scale", 0.1);
    s.check_all_used();
    if (dim_ < 1 || k_ < 2 || n_train < 1 || n_val < 1)
      throw input_error("workload logreg: needs dim >= 1, classes >= 2, train >= 1, val >= 1");
    std::mt19937_64 pr(mix_seed({problem_seed, 11}));
    std::normal_distribution<double> nd(0.0, 1.0);
    std::vector<double> centres(static_cast<std::size_t>(k_) * dim_);
    for (auto& c : centres) c = sep * nd(pr);
    auto draw = [&](std::int64_t n, std::vector<double>& x, std::vector<int>& y) {
      x.resize(static_cast<std::size_t>(n) * dim_);
      y.resize(n);
      for (std::int64_t i = 0; i < n; ++i) {
        y[i] = static_cast<int>(pr() % static_cast<std::uint64_t>(k_));
        for (int d = 0; d < dim_; ++d) x[i * dim_ + d] = centres[y[i] * dim_ + d] + nd(pr);
      }
    };
    draw(n_train, xtr_, ytr_);
    draw(n_val, xva_, yva_);
    buf_.add({k_, dim_});
    buf_.add({k_});
    buf_.finish();
    std::mt19937_64 ir(mix_seed({seed, 12}));
    for (std::int64_t i = 0; i < buf_.p[0].numel(); ++i) buf_.pdata(0)[i] = static_cast<float>(init_scale * nd(ir));
    for (int i = 0; i < k_; ++i) buf_.pdata(1)[i] = 0.0f;
  }

  std::int64_t train_size() const override { return static_cast<std::int64_t>(ytr_.size()); }
  std::span<const tensor_view> params() override { return buf_.pv; }
  std::span<const tensor_view> grads() override { return buf_.gv; }
  bool has_accuracy() const override { return true; }

  double compute_grad(std::span<const std::int64_t> batch, std::int64_t) override {
    std::vector<double> gw(static_cast<std::size_t>(k_) * dim_, 0.0), gb(k_, 0.0), p(k_);
    double loss = 0;
    for (std::int64_t i : batch) {
      loss += probs(&xtr_[i * dim_], ytr_[i], p);
      p[ytr_[i]] -= 1.0;  // d(cross-entropy)/d(logits) = softmax - onehot
      for (int c = 0; c < k_; ++c) {
        gb[c] += p[c];
        for (int d = 0; d < dim_; ++d) gw[c * dim_ + d] += p[c] * xtr_[i * dim_ + d];
      }
    }
    const double inv = 1.0 / static_cast<double>(batch.size());
    for (std::size_t j = 0; j < gw.size(); ++j) buf_.gdata(0)[j] = static_cast<float>(gw[j] * inv);
    for (int c = 0; c < k_; ++c) buf_.gdata(1)[c] = static_cast<float>(gb[c] * inv);
    return loss * inv;
  }

  eval_point evaluate() override {
    std::vector<double> p(k_);
    double loss = 0;
    std::int64_t correct = 0;
    const auto n = static_cast<std::int64_t>(yva_.size());
    for (std::int64_t i = 0; i < n; ++i) {
      loss += probs(&xva_[i * dim_], yva_[i], p);
      if (std::max_element(p.begin(), p.end()) - p.begin() == yva_[i]) ++correct;
    }
    return {loss / static_cast<double>(n), static_cast<double>(correct) / static_cast<double>(n)};
  }

 private:
  // Softmax probabilities into p; returns the cross-entropy of label y (log-sum-exp for stability).
  double probs(const double* x, int y, std::vector<double>& p) {
    const float* w = buf_.pdata(0);
    const float* b = buf_.pdata(1);
    double mx = -INFINITY;
    for (int c = 0; c < k_; ++c) {
      double z = b[c];
      for (int d = 0; d < dim_; ++d) z += static_cast<double>(w[c * dim_ + d]) * x[d];
      p[c] = z;
      mx = std::max(mx, z);
    }
    double sum = 0;
    for (int c = 0; c < k_; ++c) sum += std::exp(p[c] - mx);
    const double lse = mx + std::log(sum);
    const double loss = lse - p[y];
    for (int c = 0; c < k_; ++c) p[c] = std::exp(p[c] - lse);
    return loss;
  }

  int dim_, k_;
  std::vector<double> xtr_, xva_;
  std::vector<int> ytr_, yva_;
  param_buffers buf_;
};

}  // namespace

ADAMBENCH_REGISTER_WORKLOAD("logreg", "softmax regression on synthetic Gaussian blobs (accuracy reported)",
       [](const workload_spec& s) { logreg w(s, 0); },
       [](const workload_spec& s, std::uint64_t seed, int) { return std::make_unique<logreg>(s, seed); });

}  // namespace adambench
