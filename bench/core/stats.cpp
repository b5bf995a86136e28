#include "core/stats.h"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <stdexcept>
#include <cmath>
#include <numeric>
#include <random>

namespace adambench::stats {

double median(std::vector<double> x) {
  std::sort(x.begin(), x.end());  // +inf (never reached) sorts last
  const std::size_t n = x.size();
  if (n == 0) return std::nan("");
  if (n % 2) return x[n / 2];
  if (std::isinf(x[n / 2])) return x[n / 2];
  return 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

median_ci bootstrap_median(const std::vector<double>& x, double level, int resamples, std::uint64_t seed) {
  median_ci r;
  if (x.empty()) return {std::nan(""), std::nan(""), std::nan("")};
  r.median = median(x);
  std::mt19937_64 g(seed);
  std::uniform_int_distribution<std::size_t> pick(0, x.size() - 1);
  std::vector<double> meds(static_cast<std::size_t>(resamples)), s(x.size());
  for (auto& m : meds) {
    for (auto& v : s) v = x[pick(g)];
    m = median(s);
  }
  std::sort(meds.begin(), meds.end());
  const double a = (1 - level) / 2;
  auto q = [&](double p) {
    const auto i = static_cast<std::size_t>(std::clamp(std::floor(p * (resamples - 1) + 0.5), 0.0, resamples - 1.0));
    return meds[i];
  };
  r.lo = q(a);
  r.hi = q(1 - a);
  return r;
}

namespace {
// Number of arrangements giving each U for sample sizes (m, n): f(m, n, u) = f(m-1, n, u-n) + f(m, n-1, u).
std::vector<double> u_distribution(int m, int n) {
  std::vector<std::vector<std::vector<double>>> f(m + 1, std::vector<std::vector<double>>(n + 1));
  for (int i = 0; i <= m; ++i)
    for (int j = 0; j <= n; ++j) {
      f[i][j].assign(i * j + 1, 0.0);
      if (i == 0 || j == 0) {
        f[i][j][0] = 1.0;
        continue;
      }
      for (int u = 0; u <= i * j; ++u) {
        double a = u - j >= 0 && u - j <= (i - 1) * j ? f[i - 1][j][u - j] : 0.0;
        double b = u <= i * (j - 1) ? f[i][j - 1][u] : 0.0;
        f[i][j][u] = a + b;
      }
    }
  return f[m][n];
}
}  // namespace

u_test mann_whitney(const std::vector<double>& x, const std::vector<double>& y) {
  u_test r;
  const std::size_t m = x.size(), n = y.size();
  if (m == 0 || n == 0) return r;
  // Ranks with ties averaged.
  std::vector<std::pair<double, int>> all;
  for (double v : x) all.push_back({v, 0});
  for (double v : y) all.push_back({v, 1});
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.first < b.first; });
  std::vector<double> rank(all.size());
  double tie_term = 0;
  bool ties = false;
  for (std::size_t i = 0; i < all.size();) {
    std::size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) ++j;
    const double t = static_cast<double>(j - i);
    if (t > 1) {
      ties = true;
      tie_term += t * t * t - t;
    }
    for (std::size_t k = i; k < j; ++k) rank[k] = 0.5 * (static_cast<double>(i + j) + 1.0);
    i = j;
  }
  double rx = 0;
  for (std::size_t k = 0; k < all.size(); ++k)
    if (all[k].second == 0) rx += rank[k];
  r.u = rx - static_cast<double>(m * (m + 1)) / 2.0;
  const double mu = static_cast<double>(m * n) / 2.0;
  if (!ties && m <= 30 && n <= 30) {
    auto dist = u_distribution(static_cast<int>(m), static_cast<int>(n));
    const double total = std::accumulate(dist.begin(), dist.end(), 0.0);
    const double lo = std::min(r.u, static_cast<double>(m * n) - r.u);
    double tail = 0;
    for (int u = 0; u <= static_cast<int>(std::floor(lo + 1e-9)); ++u) tail += dist[u];
    r.p = std::min(1.0, 2.0 * tail / total);
    r.exact = true;
    return r;
  }
  const double N = static_cast<double>(m + n);
  const double var = static_cast<double>(m * n) / 12.0 * ((N + 1.0) - tie_term / (N * (N - 1.0)));
  if (var <= 0) return r;  // all values equal
  const double z = (std::fabs(r.u - mu) - 0.5) / std::sqrt(var);
  r.p = std::min(1.0, std::erfc(std::max(0.0, z) / std::sqrt(2.0)));
  return r;
}

t_test welch(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() < 2 || y.size() < 2) throw std::invalid_argument("welch: needs two values on each side");
  auto mean_var = [](const std::vector<double>& v) {
    const double m = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    double ss = 0;
    for (double e : v) ss += (e - m) * (e - m);
    return std::pair{m, ss / static_cast<double>(v.size() - 1)};
  };
  const auto [mx, vx] = mean_var(x);
  const auto [my, vy] = mean_var(y);
  const double nx = static_cast<double>(x.size()), ny = static_cast<double>(y.size());
  const double a = vx / nx, b = vy / ny;
  t_test r;
  if (a + b == 0) {
    r.p = mx == my ? 1.0 : 0.0;
    r.t = mx == my ? 0.0 : std::copysign(INFINITY, my - mx);
    r.df = nx + ny - 2;
    return r;
  }
  r.t = (my - mx) / std::sqrt(a + b);
  r.df = (a + b) * (a + b) / (a * a / (nx - 1) + b * b / (ny - 1));
  const boost::math::students_t dist(r.df);
  r.p = 2 * boost::math::cdf(boost::math::complement(dist, std::fabs(r.t)));
  return r;
}

}  // namespace adambench::stats
