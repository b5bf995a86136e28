#pragma once
/// Agreement metrics between an implementation's values and the reference's, and the tolerance
/// policy per dtype (docs/tolerances.md gives the measurements behind the numbers).
#include "adambench/tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace adambench {

/// Tolerance, in units of the dtype's unit roundoff u (2^-24 float32, 2^-53 float64).
/// Element i passes when its non-finite pattern matches the reference exactly (NaN where NaN, the
/// same infinity) and
///   |got_i - ref_i| <= k * u * bound_i
/// or got_i equals ref_i rounded to the dtype. bound_i is the reference's running error bound for
/// that value (reference_adam::bounds()): the magnitudes every rounding on the way to it touched,
/// carried through Adam's recurrences, so cancellation (m near 0, p crossing 0) and error growth
/// over many steps are accounted for element by element. docs/tolerances.md has the measurements.
struct tolerance {
  double k = 0;  ///< allowed error in units of u * bound
  double u = 0;  ///< unit roundoff of the dtype
};

/// The tolerance a correct implementation of `d` meets (any number of steps: the bound grows).
tolerance tolerance_for(dtype d);

/// Worst errors over the compared elements.
struct error_stats {
  double max_abs = 0, max_rel = 0, max_ulp = 0;
  double max_err_u = 0;  ///< max |got - ref| / (u * bound_i): what k bounds
  std::int64_t compared = 0, failed = 0;
  /// First failing element: flat index in the array, the two values.
  std::int64_t first_index = -1;
  double first_got = 0, first_ref = 0;
  std::vector<std::int64_t> bad_indices;  ///< up to 3 failing flat indices
  void merge(const error_stats& o);
};

/// Compares one array in dtype `d`.
error_stats compare_values(const std::vector<double>& got, const std::vector<double>& ref,
                           const std::vector<double>& bound, dtype d, const tolerance& t);

/// Distance in units in the last place of `d` between two values rounded to `d`
/// (0 when both NaN or the same infinity; +inf when only one is non-finite).
double ulp_distance(double a, double b, dtype d);

}  // namespace adambench
