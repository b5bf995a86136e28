// Learning-rate schedules against values computed by hand from PyTorch's formulas
// (torch.optim.lr_scheduler: StepLR, CosineAnnealingLR, LinearLR + SequentialLR, ReduceLROnPlateau).
#include "adambench/errors.h"
#include "converge/schedules.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

using namespace adambench;

namespace {
// lr used by optimizer step t+1 after t scheduler steps, for t = 0..n-1.
std::vector<double> trace(const schedule_spec& s, double base, int n) {
  lr_schedule sch(s, base);
  std::vector<double> out;
  for (int t = 0; t < n; ++t) {
    out.push_back(sch.lr());
    sch.step();
  }
  return out;
}
}  // namespace

TEST_CASE("schedules: constant keeps the base lr", "[schedules]") {
  schedule_spec s;
  for (double lr : trace(s, 0.003, 50)) CHECK(lr == 0.003);
}

TEST_CASE("schedules: StepLR: base * gamma^floor(t / step_size)", "[schedules]") {
  schedule_spec s;
  s.kind = schedule_kind::step;
  s.step_size = 3;
  s.gamma = 0.5;
  const std::vector<double> want{0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125};
  auto got = trace(s, 0.1, 10);
  for (std::size_t t = 0; t < want.size(); ++t) CHECK(got[t] == Approx(want[t]).epsilon(1e-15));
}

TEST_CASE("schedules: CosineAnnealingLR: closed form that continues past T_max", "[schedules]") {
  schedule_spec s;
  s.kind = schedule_kind::cosine;
  s.t_max = 10;
  s.eta_min = 0.01;
  auto got = trace(s, 0.1, 16);
  CHECK(got[0] == Approx(0.1).epsilon(1e-15));
  // 0.01 + 0.09 * (1 + cos(pi/5)) / 2, cos(pi/5) = 0.8090169943749475
  CHECK(got[2] == Approx(0.0914057647468726).epsilon(1e-13));
  CHECK(got[5] == Approx(0.055).epsilon(1e-13));
  CHECK(got[10] == Approx(0.01).epsilon(1e-13));
  CHECK(got[15] == Approx(0.055).epsilon(1e-13));  // past T_max the cosine rises again, as in PyTorch
  CHECK(got[4] > got[5]);
  CHECK(got[11] > got[10]);
}

TEST_CASE("schedules: warmup_cosine: LinearLR then CosineAnnealingLR restarted at the milestone", "[schedules]") {
  schedule_spec s;
  s.kind = schedule_kind::warmup_cosine;
  s.warmup = 4;
  s.start_factor = 0.25;
  s.t_max = 14;  // whole run: 4 warmup + 10 cosine steps
  auto got = trace(s, 0.2, 15);
  const std::vector<double> warm{0.05, 0.0875, 0.125, 0.1625};  // 0.2 * (0.25 + 0.75 t / 4)
  for (int t = 0; t < 4; ++t) CHECK(got[t] == Approx(warm[t]).epsilon(1e-14));
  CHECK(got[4] == Approx(0.2).epsilon(1e-15));  // SequentialLR calls cosine.step(0): lr = base
  CHECK(got[9] == Approx(0.1).epsilon(1e-13));  // half way through the cosine
  CHECK(got[14] == Approx(0.0).margin(1e-15));
}

TEST_CASE("schedules: ReduceLROnPlateau: mode min with rel threshold and patience and cooldown", "[schedules]") {
  schedule_spec s;
  s.kind = schedule_kind::plateau;
  s.factor = 0.5;
  s.patience = 2;
  s.threshold = 0.1;
  s.cooldown = 1;
  lr_schedule p(s, 1.0);
  // Traced by hand through ReduceLROnPlateau.step(): better iff metric < best * (1 - 0.1).
  const std::vector<std::pair<double, double>> seq{
      {10.0, 1.0},   // best 10
      {9.5, 1.0},    // 9.5 < 9.0? no: 1 bad
      {9.2, 1.0},    // 2 bad
      {9.1, 0.5},    // 3 bad > patience: reduce, cooldown 1
      {9.05, 0.5},   // bad, but cooldown resets the count
      {9.05, 0.5},   // 1 bad
      {9.05, 0.5},   // 2 bad
      {9.05, 0.25},  // 3 bad: reduce
      {1.0, 0.25},   // better: best 1
  };
  for (auto [metric, lr] : seq) {
    p.observe(metric);
    CHECK(p.lr() == lr);
  }
  p.step();  // optimizer steps do not move a plateau schedule
  CHECK(p.lr() == 0.25);
}

TEST_CASE("schedules: ReduceLROnPlateau: min_lr floor and NaN metrics count as bad", "[schedules]") {
  schedule_spec s;
  s.kind = schedule_kind::plateau;
  s.factor = 0.5;
  s.patience = 0;
  s.min_lr = 0.3;
  lr_schedule p(s, 1.0);
  p.observe(1.0);
  CHECK(p.lr() == 1.0);
  p.observe(NAN);
  CHECK(p.lr() == 0.5);
  p.observe(2.0);
  CHECK(p.lr() == 0.3);  // max(0.25, min_lr)
  p.observe(2.0);
  CHECK(p.lr() == 0.3);
}

TEST_CASE("schedules: schedule names and validation", "[schedules]") {
  CHECK(parse_schedule_kind("warmup_cosine") == schedule_kind::warmup_cosine);
  CHECK_THROWS_AS(parse_schedule_kind("linear"), input_error);
  schedule_spec s;
  s.kind = schedule_kind::warmup_cosine;
  s.warmup = 10;
  s.t_max = 10;
  CHECK_THROWS_WITH(s.validate(), Catch::Contains("warmup 10"));
  s.t_max = 11;
  CHECK_NOTHROW(s.validate());
  s.factor = 1.5;
  CHECK_THROWS_WITH(s.validate(), Catch::Contains("factor 1.5"));
}
