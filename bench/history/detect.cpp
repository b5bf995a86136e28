#include "history/detect.h"

#include "core/stats.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace adambench::history {

double relative_change(double a, double b) {
  if (a == b) return 0.0;  // also inf == inf
  if (std::isinf(a)) return b < a ? -1.0 : INFINITY;  // "never reached" -> reached: all of it
  if (a == 0.0) return b > 0 ? INFINITY : -INFINITY;
  return (b - a) / std::fabs(a);
}

namespace {

using vec = std::vector<double>;

vec slice(const vec& x, std::size_t a, std::size_t b) { return vec(x.begin() + static_cast<long>(a), x.begin() + static_cast<long>(b)); }

// Smallest exact two-sided p-value the U test can give for sizes (m, n): 2 / C(m+n, n).
double min_p(std::size_t m, std::size_t n) {
  double c = 1;
  for (std::size_t i = 1; i <= n; ++i) c = c * static_cast<double>(m + i) / static_cast<double>(i);
  return 2.0 / c;
}

double robust_sigma(const vec& x) {
  const double m = stats::median(x);
  vec d;
  for (double v : x) d.push_back(std::fabs(v - m));
  return 1.4826 * stats::median(d);
}

bool is_regression(double rel, int better) { return (better < 0 && rel > 0) || (better > 0 && rel < 0); }

struct candidate {
  change_point cp;
  std::size_t l0 = 0, r1 = 0;  // the windows: [l0, index) and [index, r1)
};

// A step between windows L and R, if any: the U test where the windows are big enough for it to
// reach alpha, otherwise the tail rule (every run of R beyond L's median by tail_z robust sigmas of
// H, the up to 3K runs before the split: a steadier estimate of the noise than L's 8).
std::optional<candidate> evaluate(const vec& L, const vec& R, const vec& H, const detect_options& o) {
  const double mL = stats::median(L), mR = stats::median(R);
  const double rel = relative_change(mL, mR);
  if (std::isnan(rel) || std::fabs(rel) < o.min_effect) return std::nullopt;
  candidate c;
  c.cp.kind = "step";
  c.cp.before = mL;
  c.cp.after = mR;
  c.cp.rel_change = rel;
  if (min_p(L.size(), R.size()) < o.alpha) {
    const double p = stats::mann_whitney(L, R).p;
    if (!(p < o.alpha)) return std::nullopt;
    c.cp.p = p;
    c.cp.method = "u-test";
    return c;
  }
  // Every newer run on its own lies beyond the older median by the bar: robust to an outlier among
  // the older runs (a loaded machine's one slow run), which a plain "beyond every older run" is not.
  // On a log scale when every value is positive, so a time and its reciprocal rate (time_ns and
  // params_per_second of one benchmark) are judged alike.
  const bool up = mR > mL;
  auto pos = [](const vec& v) { return std::all_of(v.begin(), v.end(), [](double x) { return x > 0; }); };
  const bool logs = pos(L) && pos(R) && pos(H);
  auto f = [&](double x) { return logs ? std::log(x) : x; };
  vec h;
  for (double v : H) h.push_back(f(v));
  // The MAD of a few runs often underestimates the spread: fewer than 8 runs widen the bar.
  const double z = o.tail_z * std::sqrt(std::max(1.0, 8.0 / static_cast<double>(H.size())));
  const double bar = z * robust_sigma(h), m = f(mL);
  for (double v : R)
    if (!(up ? f(v) - m > bar : m - f(v) > bar)) return std::nullopt;
  c.cp.method = "tail";
  return c;
}

// Where in a group of flagged splits the step is: the split with the least absolute deviation from
// the two medians over the group's whole span (asv's L1 criterion, applied to one step).
double split_cost(const vec& x, std::size_t a, std::size_t s, std::size_t b) {
  double c = 0;
  for (auto [lo, hi] : {std::pair{a, s}, std::pair{s, b}}) {
    const vec part = slice(x, lo, hi);
    const double m = stats::median(part);
    for (double v : part) c += std::isinf(v) && std::isinf(m) ? 0.0 : std::fabs(v - m);
  }
  return c;
}

// Theil-Sen slope: the median of all pairwise slopes.
double theil_sen(const vec& x) {
  vec s;
  for (std::size_t i = 0; i < x.size(); ++i)
    for (std::size_t j = i + 1; j < x.size(); ++j) s.push_back((x[j] - x[i]) / static_cast<double>(j - i));
  return stats::median(s);
}

std::optional<change_point> drift_in(const vec& x, std::size_t a, std::size_t b, const detect_options& o) {
  const std::size_t m = b - a, t = m / 3;
  if (t < 2 || !(min_p(t, t) < o.drift_alpha)) return std::nullopt;
  vec w = slice(x, a, b);
  for (double v : w)
    if (!std::isfinite(v)) return std::nullopt;  // "never reached" has no slope
  const vec A = slice(w, 0, t), C = slice(w, m - t, m);
  const double mA = stats::median(A), mC = stats::median(C);
  const double rel = relative_change(mA, mC);
  if (std::isnan(rel) || std::fabs(rel) < o.min_effect) return std::nullopt;
  const double p = stats::mann_whitney(A, C).p;
  if (!(p < o.drift_alpha)) return std::nullopt;
  // The fitted line must agree: a drift is a trend over the whole stretch, not two flat halves.
  const double total = relative_change(mA, mA + theil_sen(w) * static_cast<double>(m - 1));
  if (!(std::fabs(total) >= o.min_effect) || (total > 0) != (rel > 0)) return std::nullopt;
  change_point cp;
  cp.kind = "drift";
  cp.method = "drift";
  cp.from = a;
  cp.index = b - 1;
  cp.before = mA;
  cp.after = mC;
  cp.rel_change = rel;
  cp.p = p;
  return cp;
}

}  // namespace

std::vector<change_point> detect_changes(const std::vector<double>& x, int better, const detect_options& o) {
  std::vector<change_point> out;
  const std::size_t n = x.size(), K = static_cast<std::size_t>(std::max(2, o.window));
  const std::size_t h = static_cast<std::size_t>(std::max(2, o.min_history));
  // Steps, left to right: the best split of the first group of flagged splits, then again from it.
  std::size_t start = 0;
  while (true) {
    std::vector<candidate> group;
    for (std::size_t s = start + h; s < n; ++s) {
      const std::size_t l0 = std::max(start, s >= K ? s - K : 0), r1 = std::min(n, s + K);
      const std::size_t h0 = std::max(start, s >= 3 * K ? s - 3 * K : 0);
      auto c = evaluate(slice(x, l0, s), slice(x, s, r1), slice(x, h0, s), o);
      if (c) {
        c->cp.from = c->cp.index = s;
        c->l0 = l0;
        c->r1 = r1;
        group.push_back(*c);
      } else if (!group.empty()) {
        break;
      }
    }
    if (group.empty()) break;
    const std::size_t a = group.front().l0, b = group.back().r1;
    const candidate* best = &group.front();
    for (auto& c : group)
      if (split_cost(x, a, c.cp.index, b) < split_cost(x, a, best->cp.index, b)) best = &c;
    out.push_back(best->cp);
    start = best->cp.index;
  }
  // Drifts inside each step-free segment (the newest 64 runs of it; for the newest segment also
  // its last 3K runs, so a recent drift is not diluted by a long flat past).
  std::vector<std::size_t> bounds{0};
  for (auto& c : out) bounds.push_back(c.index);
  bounds.push_back(n);
  std::vector<change_point> drifts;
  for (std::size_t i = 0; i + 1 < bounds.size(); ++i) {
    const std::size_t b = bounds[i + 1], a = std::max(bounds[i], b > 64 ? b - 64 : 0);
    auto d = drift_in(x, a, b, o);
    if (!d && b == n && b - a > 3 * K) d = drift_in(x, b - 3 * K, b, o);
    if (d) drifts.push_back(*d);
  }
  out.insert(out.end(), drifts.begin(), drifts.end());
  for (auto& c : out) c.regression = is_regression(c.rel_change, better);
  std::sort(out.begin(), out.end(), [](const change_point& a, const change_point& b) { return a.index < b.index; });
  return out;
}

}  // namespace adambench::history
