#include "core/adam_config.h"
#include "gate/compare.h"
#include "core/stats.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>

using namespace adambench;
using nlohmann::json;

TEST_CASE("mann_whitney: exact p-values match the U distribution") {
  auto r = stats::mann_whitney({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10});
  CHECK(r.exact);
  CHECK(r.u == 0);
  CHECK(r.p == Approx(2.0 / 252.0));  // two of C(10,5) arrangements are this extreme
  r = stats::mann_whitney({1, 2, 3, 4, 5, 6, 7, 8, 9}, {10, 11, 12, 13, 14, 15, 16, 17, 18});
  CHECK(r.p == Approx(2.0 / 48620.0));
  r = stats::mann_whitney({1, 3, 5, 7, 9}, {2, 4, 6, 8, 10});
  CHECK(r.p > 0.5);
}

TEST_CASE("mann_whitney: ties use the normal approximation; identical samples give p = 1") {
  auto r = stats::mann_whitney({1, 1, 1}, {1, 1, 1});
  CHECK(!r.exact);
  CHECK(r.p == 1.0);
  r = stats::mann_whitney({1, 1, 2, 2, 3, 3, 4, 4, 5, 5}, {6, 6, 7, 7, 8, 8, 9, 9, 10, 10});
  CHECK(!r.exact);
  CHECK(r.p < 0.001);
}

TEST_CASE("median") {
  CHECK(stats::median({3, 1, 2}) == 2);
  CHECK(stats::median({4, 1, 2, 3}) == 2.5);
}

namespace {
json gbench(const std::vector<double>& times, const std::string& name = "eigen/flat_16M", double frac = 0.95) {
  json j{{"context", {{"host_name", "h"}}}, {"benchmarks", json::array()}};
  for (std::size_t i = 0; i < times.size(); ++i)
    j["benchmarks"].push_back({{"name", name}, {"run_name", name}, {"run_type", "iteration"}, {"repetition_index", i},
                               {"real_time", times[i]}, {"time_unit", "us"}, {"probe_fraction", frac * 100.0 / times[i]}});
  j["benchmarks"].push_back({{"name", name + "_mean"}, {"run_name", name}, {"run_type", "aggregate"}, {"real_time", 1.0}, {"time_unit", "us"}});
  return j;
}
std::vector<double> noisy(double mean, double rel, int n, unsigned seed) {
  std::mt19937 g(seed);
  std::normal_distribution<double> d(mean, mean * rel);
  std::vector<double> x;
  for (int i = 0; i < n; ++i) x.push_back(d(g));
  return x;
}
std::vector<loaded_result> as(const std::string& kind, json j) { return {{"mem.json", kind, std::move(j)}}; }
}  // namespace

TEST_CASE("gate/speed: a 10% slowdown over 9 repetitions is a regression") {
  auto rep = compare_results(as("speed", gbench(noisy(100, 0.01, 9, 1))), as("speed", gbench(noisy(110, 0.01, 9, 2))), {});
  CHECK(rep.regressions >= 1);
  rep = compare_results(as("speed", gbench(noisy(100, 0.01, 9, 1))), as("speed", gbench(noisy(90, 0.01, 9, 2))), {});
  CHECK(rep.regressions == 0);
  CHECK(rep.improvements >= 1);
}

TEST_CASE("gate/speed: noise below the effect size is no change; a large change the test cannot confirm is inconclusive") {
  auto rep = compare_results(as("speed", gbench(noisy(100, 0.01, 9, 1))), as("speed", gbench(noisy(101, 0.01, 9, 2))), {});
  CHECK(rep.regressions == 0);
  CHECK(rep.inconclusive == 0);
  rep = compare_results(as("speed", gbench({100, 60, 140})), as("speed", gbench({140, 70, 150})), {});
  CHECK(rep.regressions == 0);
  CHECK(rep.inconclusive >= 1);
}

TEST_CASE("gate/speed: against another machine the probe fraction is judged, not the time") {
  json b = gbench(noisy(100, 0.01, 9, 1)), c = gbench(noisy(50, 0.01, 9, 2), "eigen/flat_16M", 0.5 * 0.95);
  c["context"]["host_name"] = "other";  // twice as fast a machine, same fraction of its probe
  auto rep = compare_results(as("speed", b), as("speed", c), {});
  CHECK(rep.regressions == 0);
  CHECK(rep.improvements == 0);
}

TEST_CASE("gate/agree: a disagreement is a regression without a baseline; growth is a warning") {
  json base{{"kind", "agree"}, {"schema_version", 1}, {"results", json::array()}};
  json r{{"case", "c"}, {"impl", "eigen"}, {"dtype", "float32"}, {"seed", 0}, {"verdict", "pass"},
         {"checks", {{{"step", 1}, {"params", {{"max_err_u", 0.5}}}}}}};
  base["results"].push_back(r);
  json cand = base;
  CHECK(compare_results(as("agree", base), as("agree", cand), {}).regressions == 0);
  cand["results"][0]["checks"][0]["params"]["max_err_u"] = 5.0;
  auto rep = compare_results(as("agree", base), as("agree", cand), {});
  CHECK(rep.regressions == 0);
  CHECK(rep.warnings == 1);
  cand["results"][0]["verdict"] = "fail";
  CHECK(compare_results({}, as("agree", cand), {}).regressions == 1);
}

TEST_CASE("gate/converge: deterministic curves compare exactly; seeded ones by interval overlap") {
  json base{{"kind", "converge"}, {"schema_version", 1}, {"runs", json::array()}, {"aggregates", json::array()}};
  base["runs"].push_back({{"case", "q"}, {"impl", "eigen"}, {"batch_size", 32}, {"seed", 0}, {"verdict", "ok"}, {"curve_digest", "abc"}});
  base["aggregates"].push_back({{"case", "q"}, {"impl", "eigen"}, {"batch_size", 32}, {"failure_rate", 0.0},
                                {"final_val_loss", {{"median", 1.0}, {"lo", 0.9}, {"hi", 1.1}}}});
  json cand = base;
  CHECK(compare_results(as("converge", base), as("converge", cand), {}).regressions == 0);
  cand["runs"][0]["curve_digest"] = "abd";
  CHECK(compare_results(as("converge", base), as("converge", cand), {}).regressions == 1);
  cand = base;
  cand["aggregates"][0]["final_val_loss"] = {{"median", 1.3}, {"lo", 1.2}, {"hi", 1.4}};
  CHECK(compare_results(as("converge", base), as("converge", cand), {}).regressions == 1);
  cand["aggregates"][0]["final_val_loss"] = {{"median", 1.05}, {"lo", 0.95}, {"hi", 1.2}};  // overlaps
  CHECK(compare_results(as("converge", base), as("converge", cand), {}).regressions == 0);
  cand["runs"][0]["verdict"] = "diverged";
  CHECK(compare_results(as("converge", base), as("converge", cand), {}).regressions == 1);
}

TEST_CASE("gate: missing, truncated and foreign files are one-line input errors") {
  namespace fs = std::filesystem;
  fs::path d = fs::temp_directory_path() / ("adambench-gate-" + std::to_string(::getpid()));
  fs::create_directories(d);
  CHECK_THROWS_WITH(load_results(d / "absent.json"), Catch::EndsWith("absent.json: no such file"));
  std::ofstream(d / "trunc.json") << R"({"kind": "agree", "results": [)";
  CHECK_THROWS_WITH(load_results(d / "trunc.json"), Catch::Contains("not valid JSON, truncated"));
  std::ofstream(d / "foreign.json") << R"({"hello": 1})";
  CHECK_THROWS_WITH(load_results(d / "foreign.json"), Catch::Contains("not an adambench result"));
  std::ofstream(d / "bin.json") << "\x89PNG\r\n";
  CHECK_THROWS_AS(load_results(d / "bin.json"), input_error);
  fs::remove_all(d);
}

TEST_CASE("gate: merge joins shards of one kind and refuses mixed kinds") {
  json a{{"kind", "agree"}, {"schema_version", 1}, {"shard", "1/2"}, {"results", {{{"verdict", "pass"}}}}};
  json b{{"kind", "agree"}, {"schema_version", 1}, {"shard", "2/2"}, {"results", {{{"verdict", "fail"}}}}};
  json m = merge_results({{"a", "agree", a}, {"b", "agree", b}});
  CHECK(m["results"].size() == 2);
  CHECK(m["summary"]["failed"] == 1);
  CHECK(!m.contains("shard"));
  CHECK_THROWS_AS(merge_results({{"a", "agree", a}, {"s", "speed", gbench({1})}}), input_error);
}
