#include "core/agreement_metrics.h"

#include <catch2/catch.hpp>
#include <cmath>

using namespace adambench;

TEST_CASE("ulp_distance counts representable values in the dtype") {
  CHECK(ulp_distance(1.0, 1.0, dtype::float32) == 0);
  CHECK(ulp_distance(1.0, std::nextafter(1.0f, 2.0f), dtype::float32) == 1);
  CHECK(ulp_distance(-0.0, 0.0, dtype::float32) == 0);
  CHECK(ulp_distance(1.0, std::nextafter(1.0, 2.0), dtype::float64) == 1);
  CHECK(ulp_distance(std::nextafter(0.0f, -1.0f), std::nextafter(0.0f, 1.0f), dtype::float32) == 2);
  CHECK(ulp_distance(std::nan(""), std::nan(""), dtype::float32) == 0);
  CHECK(std::isinf(ulp_distance(std::nan(""), 1.0, dtype::float32)));
  CHECK(std::isinf(ulp_distance(INFINITY, 1.0, dtype::float64)));
}

TEST_CASE("compare_values: within k * u * bound passes, beyond fails") {
  const tolerance t = tolerance_for(dtype::float64);
  const double u = t.u;
  std::vector<double> ref{1.0, 2.0}, bound{1.0, 2.0};
  auto e = compare_values({1.0 + 0.5 * t.k * u, 2.0}, ref, bound, dtype::float64, t);
  CHECK(e.failed == 0);
  CHECK(e.max_err_u == Approx(0.5 * t.k));
  e = compare_values({1.0, 2.0 + 4 * t.k * u}, ref, bound, dtype::float64, t);
  CHECK(e.failed == 1);
  CHECK(e.first_index == 1);
  REQUIRE(e.bad_indices.size() == 1);
}

TEST_CASE("compare_values: non-finite values must match exactly") {
  const tolerance t = tolerance_for(dtype::float32);
  std::vector<double> ref{std::nan(""), INFINITY, -INFINITY}, b{1, 1, 1};
  CHECK(compare_values({std::nan(""), INFINITY, -INFINITY}, ref, b, dtype::float32, t).failed == 0);
  CHECK(compare_values({0.0, INFINITY, -INFINITY}, ref, b, dtype::float32, t).failed == 1);
  CHECK(compare_values({std::nan(""), -INFINITY, -INFINITY}, ref, b, dtype::float32, t).failed == 1);
  CHECK(compare_values({std::nan(""), INFINITY, std::nan("")}, ref, b, dtype::float32, t).failed == 1);
  CHECK(compare_values({1.0}, {std::nan("")}, {1.0}, dtype::float32, t).failed == 1);
}

TEST_CASE("compare_values: a value equal to the reference rounded to the dtype passes with a zero bound") {
  const tolerance t = tolerance_for(dtype::float32);
  // 1e-63 underflows to 0 in float32: exact agreement in the dtype.
  CHECK(compare_values({0.0}, {1e-63}, {0.0}, dtype::float32, t).failed == 0);
  CHECK(compare_values({1e-7}, {0.0}, {0.0}, dtype::float32, t).failed == 1);
}

TEST_CASE("compare_values: size mismatch fails") {
  const tolerance t = tolerance_for(dtype::float32);
  CHECK(compare_values({1.0}, {1.0, 2.0}, {1.0, 1.0}, dtype::float32, t).failed == 1);
}
