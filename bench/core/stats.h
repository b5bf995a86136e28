#pragma once
/// Shared statistics: medians, percentile-bootstrap intervals, the Mann-Whitney U and Welch t tests.
/// Used by the gate (speed), the convergence runner (seeds) and the reports' figures.
#include <cstdint>
#include <vector>

namespace adambench::stats {

/// Median; NaN for an empty sample. +inf values (e.g. "never reached") sort last and count.
double median(std::vector<double> x);

/// Median and percentile-bootstrap interval (fixed generator seed, so reports are reproducible).
struct median_ci {
  double median = 0, lo = 0, hi = 0;
};
/// The defaults of bootstrap_median, which result files state next to their intervals.
inline constexpr double default_level = 0.95;
inline constexpr int default_resamples = 2000;
inline constexpr std::uint64_t default_bootstrap_seed = 20240601;
median_ci bootstrap_median(const std::vector<double>& x, double level = default_level, int resamples = default_resamples,
                           std::uint64_t seed = default_bootstrap_seed);

/// Two-sided Mann-Whitney U test of "x and y come from the same distribution".
/// Exact p-value (enumerating the U distribution) when both samples have at most 30 values and
/// there are no ties; otherwise the normal approximation with tie and continuity corrections.
struct u_test {
  double u = 0;      ///< U statistic of x
  double p = 1;      ///< two-sided p-value
  bool exact = false;
};
u_test mann_whitney(const std::vector<double>& x, const std::vector<double>& y);

/// Two-sided Welch t-test of "x and y have the same mean" (unequal variances, Welch-Satterthwaite
/// degrees of freedom). Needs two values on each side; with zero variance on both sides p is 1 for
/// equal means and 0 otherwise.
struct t_test {
  double t = 0;   ///< (mean(y) - mean(x)) / standard error
  double df = 0;  ///< degrees of freedom
  double p = 1;   ///< two-sided p-value
};
t_test welch(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace adambench::stats
