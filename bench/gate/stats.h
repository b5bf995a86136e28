#pragma once
/// Statistics for the gate: Mann-Whitney U, medians, bootstrap intervals.
#include <cstdint>
#include <vector>

namespace adambench::stats {

double median(std::vector<double> x);

/// Two-sided Mann-Whitney U test of "x and y come from the same distribution".
/// Exact p-value (enumerating the U distribution) when both samples have at most 30 values and
/// there are no ties; otherwise the normal approximation with tie and continuity corrections.
struct u_test {
  double u = 0;      ///< U statistic of x
  double p = 1;      ///< two-sided p-value
  bool exact = false;
};
u_test mann_whitney(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace adambench::stats
