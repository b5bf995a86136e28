// The sweep runner: suite parsing (ranges, modes, errors), the verdict rule with planted effects,
// the sgd-momentum baseline, and reproducibility (same seed, identical curves) through compute_sweep.
#include "adambench/config.h"
#include "core/suite.h"
#include "sweep/sweep.h"

#include <catch2/catch.hpp>
#include <cmath>

using namespace adambench;

namespace {

const char* study_text = R"(
[sweep]
impls = ["eigen"]
seeds = [0, 1, 2]
[[sweep.study]]
name = "s"
workload = "quadratic"
options = { dim = 10, condition = 10, noise = 0.5 }
lr = 0.01
batch_sizes = [16]
steps = 60
eval_every = 20
vary = { lr = { log = [1e-4, 1e-2], points = 3 }, beta2 = [0.99, 0.999] }
claim = { advice = "x", metric = "final_val_loss", a = { lr = 0.01 }, b = { lr = 0.001 }, min_effect = 0.1 }
)";

}  // namespace

TEST_CASE("sweep: suites parse, log ranges, one-factor and grid points", "[sweep][suite]") {
  auto s = parse_sweep_suite(study_text, "t.toml");
  REQUIRE(s.studies.size() == 1);
  auto& f = s.studies[0].factors;
  REQUIRE(f.size() == 2);
  const auto& lr = f[0].name == "lr" ? f[0] : f[1];
  REQUIRE(lr.values.size() == 3);
  CHECK(std::get<double>(lr.values[0].v) == Approx(1e-4));
  CHECK(std::get<double>(lr.values[1].v) == Approx(1e-3));
  CHECK(std::get<double>(lr.values[2].v) == Approx(1e-2));
  // One factor at a time: the base (lr 0.01, beta2 0.999), lr 1e-4 and 1e-3 alone, beta2 0.99 alone.
  auto pts = sweep_points(s);
  REQUIRE(pts.size() == 4);
  CHECK(pts[0].is_base);
  CHECK(pts[0].c.name == "s/base");
  for (auto& p : pts) CHECK(p.c.seeds == std::vector<std::uint64_t>{0, 1, 2});
  int beta2_changed = 0;
  for (auto& p : pts) beta2_changed += p.c.config.beta2 == 0.99;
  CHECK(beta2_changed == 1);
  s.studies[0].grid = true;
  CHECK(sweep_points(s).size() == 6);
}

TEST_CASE("sweep: bad suites name the file, study and field (exit 2)", "[sweep][suite]") {
  auto bad = [](const std::string& replace, const std::string& with) {
    std::string t = study_text;
    t.replace(t.find(replace), replace.size(), with);
    return t;
  };
  CHECK_THROWS_WITH(parse_sweep_suite(bad("steps = 60", "stepz = 60"), "x.toml"), Catch::Contains("x.toml") && Catch::Contains("study s") && Catch::Contains("stepz: unknown field"));
  CHECK_THROWS_WITH(parse_sweep_suite(bad("steps = 60", "steps = \"many\""), "x.toml"), Catch::Contains("steps: expected an integer"));
  CHECK_THROWS_WITH(parse_sweep_suite(bad("beta2 = [0.99, 0.999]", "beta2 = [0.99, 1.5]"), "x.toml"), Catch::Contains("beta2"));
  CHECK_THROWS_WITH(parse_sweep_suite(bad("points = 3", "points = 0"), "x.toml"), Catch::Contains("points: 0 must be >= 1"));
  CHECK_THROWS_WITH(parse_sweep_suite(bad("a = { lr = 0.01 }", "a = { eps = 0.01 }"), "x.toml"), Catch::Contains("eps is not a factor"));
  CHECK_THROWS_WITH(parse_sweep_suite(bad("metric = \"final_val_loss\"", "metric = \"speed\""), "x.toml"), Catch::Contains("claim.metric"));
  CHECK_THROWS_WITH(parse_sweep_suite("[converge]\n", "x.toml"), Catch::Contains("no [sweep] table"));
}

TEST_CASE("sweep: the verdict rule on planted effects", "[sweep]") {
  sweep_claim cl;
  cl.min_effect = 0.1;
  auto verdict = [&](std::vector<double> e) {
    claim_result c;
    c.per_seed = std::move(e);
    judge_claim(c, cl);
    return c.verdict;
  };
  CHECK(verdict({0.3, 0.4, 0.5, 0.35, 0.45}) == "holds here");
  CHECK(verdict({0.01, 0.02, -0.01, 0.0, 0.03}) == "does not hold here");  // below min_effect
  CHECK(verdict({-0.5, -0.4, -0.6}) == "does not hold here");              // the opposite holds
  CHECK(verdict({-0.5, 0.4, 0.6, -0.3, 0.5}) == "inconclusive");          // straddles 0
  CHECK(verdict({0.5, 0.6}) == "inconclusive");                           // too few seeds
  CHECK(verdict({INFINITY, 0.5, 0.6}) == "holds here");                   // the baseline diverged once
}

TEST_CASE("sweep: sgd-momentum is torch.optim.SGD and runs only where baselines are allowed", "[sweep][sgd]") {
  const impl_entry& e = default_registry().at("sgd-momentum");
  case_features f;
  CHECK(!e.supports(adam_config{}, f).ok);  // never in agreement runs against Adam's reference
  f.baselines_allowed = true;
  CHECK(e.supports(adam_config{}, f).ok);
  std::vector<float> p{1.0f, -2.0f}, g{0.5f, 1.0f};
  std::vector<tensor_view> pv{{p.data(), {2}}}, gv{{g.data(), {2}}};
  REQUIRE(e.traits.baseline());  // lr, momentum and weight decay reach it through its registered mapping
  auto opt = e.make(e.traits.baseline_config(0.1, 0.9, 0.01), impl_options{}, dtype::float32);
  opt->bind(pv, gv);
  opt->step();  // buf = g + wd p = 0.51, 0.98; p -= 0.1 buf
  CHECK(p[0] == Approx(1.0f - 0.1f * 0.51f));
  CHECK(p[1] == Approx(-2.0f - 0.1f * 0.98f));
  const float b0 = 0.5f + 0.01f * p[0];
  const float p0 = p[0];
  opt->step();  // buf = 0.9 buf + (g + wd p)
  CHECK(p[0] == Approx(p0 - 0.1f * (0.9f * 0.51f + b0)));
}

TEST_CASE("sweep: same seed, identical curves, another seed, another curve", "[sweep][runner]") {
  auto s = parse_sweep_suite(study_text, "t.toml");
  sweep_options o;
  o.conv.quiet = true;
  auto a = compute_sweep(s, default_registry(), o), b = compute_sweep(s, default_registry(), o);
  REQUIRE(a.conv.runs.size() == 4 * 3);
  REQUIRE(a.conv.runs.size() == b.conv.runs.size());
  for (std::size_t i = 0; i < a.conv.runs.size(); ++i) {
    CHECK(a.conv.runs[i].r.verdict == "ok");
    CHECK(curve_digest(a.conv.runs[i].r.curve) == curve_digest(b.conv.runs[i].r.curve));
  }
  CHECK(curve_digest(a.conv.runs[0].r.curve) != curve_digest(a.conv.runs[1].r.curve));  // seeds 0 and 1
  REQUIRE(a.claims.size() == 1);
  CHECK(a.claims[0].per_seed.size() == 3);
  CHECK(a.claims[0].verdict == b.claims[0].verdict);
  REQUIRE(a.summaries.size() == 4);
  CHECK(a.summaries[0].seeds == 3);
}

TEST_CASE("sweep: shipped tuning suites parse, have their claims, and their inputs exist", "[sweep][suite]") {
  for (const char* name : {"tuning", "tuning-smoke"}) {
    INFO(name);
    const std::string text = embedded_suite(name);
    REQUIRE(!text.empty());
    auto s = parse_sweep_suite(text, name);
    std::size_t claims = 0;
    for (auto& st : s.studies) claims += st.claims.size();
    CHECK(claims >= (std::string(name) == "tuning" ? 8u : 4u));
    converge_suite cs{name, {}, {0}, {}};
    for (auto& p : sweep_points(s)) cs.cases.push_back(p.c);
    CHECK_NOTHROW(check_converge_inputs(cs, default_registry(), converge_options{}));
  }
}
