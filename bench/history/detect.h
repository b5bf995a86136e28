#pragma once
/// Change points in one figure's history (one value per run, oldest first).
///
/// Method (docs/history.md): a windowed Mann-Whitney U test for steps, a tail rule for the newest
/// few runs (too few for the U test to reach its level), and a drift test inside each step-free
/// segment (first third against last third, plus the Theil-Sen slope), so that a slow drift that
/// no comparison of neighbouring runs flags is still found.
#include <cstddef>
#include <string>
#include <vector>

namespace adambench::history {

/// Thresholds of the detector; the defaults are the ones `history add` stores change points with.
struct detect_options {
  int window = 8;            ///< K: runs on each side of a candidate step
  double alpha = 0.001;      ///< level of the U test at each candidate step (many splits are tested)
  double drift_alpha = 0.01; ///< level of the drift test (one or two tests per segment)
  double min_effect = 0.05;  ///< smallest relative change of the median that counts
  double tail_z = 5.0;       ///< tail rule: the shift must exceed this many robust sigmas (1.4826 MAD) of the runs before (more below 8 runs)
  int min_history = 4;       ///< runs needed before a candidate step
};

/// One change: a step (between index-1 and index) or a drift (over [from, index]).
struct change_point {
  std::string kind;          ///< "step" or "drift"
  std::size_t from = 0;      ///< drift: first run of the drifting stretch; step: == index
  std::size_t index = 0;     ///< step: first run after the step; drift: last run of the stretch
  double before = 0, after = 0;  ///< medians before and after (drift: first and last third)
  double rel_change = 0;     ///< (after - before) / |before|
  double p = -1;             ///< p-value of the U test; -1 for the tail rule
  std::string method;        ///< "u-test", "tail" or "drift"
  bool regression = false;   ///< worse for the figure's direction (never for a neutral figure)
};

/// Finds the change points of `x`. better: -1 lower is better, +1 higher is better, 0 neutral.
/// NaN values are not allowed (the caller drops them); +inf ("never reached") is a value.
std::vector<change_point> detect_changes(const std::vector<double>& x, int better, const detect_options& o = {});

/// The relative change (b - a) / |a|, with 0 -> x giving +-inf and equal values giving 0.
double relative_change(double a, double b);

}  // namespace adambench::history
