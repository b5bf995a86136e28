#include "adambench/errors.h"
#include "gate/compare.h"
#include "gate/result_kind.h"
#include "gate/schema.h"
#include "core/stats.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

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
json context() { return {{"build", {{"git_commit", "abc"}}}, {"threads", 1}}; }
json gbench(const std::vector<double>& times, const std::string& name = "eigen/flat_16M", double frac = 0.95) {
  json j{{"context", {{"host_name", "h"}, {"adambench.schema_version", "1"}, {"adambench.suite", "embedded:ci"},
                      {"adambench.thread_counts", "1"}, {"adambench.build.git_commit", "abc"}}},
         {"benchmarks", json::array()}};
  for (std::size_t i = 0; i < times.size(); ++i)
    j["benchmarks"].push_back({{"name", name}, {"run_name", name}, {"run_type", "iteration"}, {"repetition_index", i},
                               {"real_time", times[i]}, {"time_unit", "us"}, {"probe_fraction", frac * 100.0 / times[i]}});
  j["benchmarks"].push_back({{"name", name + "_mean"}, {"run_name", name}, {"run_type", "aggregate"}, {"real_time", 1.0}, {"time_unit", "us"}});
  return j;
}
json agree_doc() {
  json errs{{"max_err_u", 0.5}, {"compared", 10}, {"failed", 0}};
  json r{{"case", "c"}, {"impl", "eigen"}, {"dtype", "float32"}, {"seed", 0}, {"verdict", "pass"},
         {"checks", {{{"step", 1}, {"ok", true}, {"params", errs}}}}};
  return {{"kind", "agree"}, {"schema_version", 1}, {"context", context()}, {"suite", "embedded:ci"}, {"interrupted", false},
          {"summary", {{"passed", 1}, {"failed", 0}, {"skipped", 0}}}, {"results", {r}}};
}
json converge_doc() {
  json base{{"kind", "converge"}, {"schema_version", 1}, {"context", context()}, {"suite", "embedded:smoke"}, {"interrupted", false},
            {"summary", {{"runs", 1}, {"skipped", 0}, {"errors", 0}}}, {"runs", json::array()}, {"aggregates", json::array()}};
  base["runs"].push_back({{"case", "q"}, {"impl", "eigen"}, {"batch_size", 32}, {"seed", 0}, {"verdict", "ok"}, {"curve_digest", "abc"}});
  base["aggregates"].push_back({{"case", "q"}, {"impl", "eigen"}, {"batch_size", 32}, {"failure_rate", 0.0},
                                {"final_val_loss", {{"median", 1.0}, {"lo", 0.9}, {"hi", 1.1}}},
                                {"steps_to_target", {{"median", 1000.0}, {"lo", 1000.0}, {"hi", 1000.0}}}});
  return base;
}
std::vector<double> noisy(double mean, double rel, int n, unsigned seed) {
  std::mt19937 g(seed);
  std::normal_distribution<double> d(mean, mean * rel);
  std::vector<double> x;
  for (int i = 0; i < n; ++i) x.push_back(d(g));
  return x;
}
// Through the schema, like a file read from disk.
std::vector<loaded_result> as(json j) { return {checked_result(std::move(j), "mem.json")}; }
gate_report cmp(json b, json c, gate_options o = {}) { return compare_results(as(std::move(b)), as(std::move(c)), o); }
}  // namespace

namespace {
// Whole runs of one benchmark, tagged like ab/calibrate tag them; run k's repetitions are runs[k].
json runs_doc(const std::vector<std::vector<double>>& runs, double frac = 0.95, const std::string& name = "eigen/flat_16M") {
  json j = gbench({1.0}, name);
  j["benchmarks"] = json::array();
  for (std::size_t r = 0; r < runs.size(); ++r)
    for (std::size_t i = 0; i < runs[r].size(); ++i)
      j["benchmarks"].push_back({{"name", name}, {"run_name", name}, {"run_type", "iteration"}, {"repetition_index", i},
                                 {"adambench_run", r + 1}, {"real_time", runs[r][i]}, {"time_unit", "us"},
                                 {"probe_fraction", frac * 100.0 / runs[r][i]}});
  return j;
}
// Three runs whose medians are near `mean` (runs differ by about 0.5%).
json three_runs(double mean, unsigned seed, double frac = 0.95) {
  return runs_doc({noisy(mean, 0.005, 9, seed), noisy(mean * 1.005, 0.005, 9, seed + 1), noisy(mean * 0.995, 0.005, 9, seed + 2)}, frac);
}
json noise_floor(double time, double fraction) {
  return {{"method", "test"}, {"runs", 9}, {"benchmarks", {{"eigen/flat_16M", {{"time", time}, {"probe_fraction", fraction}}}}}};
}
}  // namespace

TEST_CASE("welch: Student's t with Welch-Satterthwaite degrees of freedom") {
  auto t = stats::welch({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10});
  CHECK(t.t == Approx(5.0));
  CHECK(t.df == Approx(8.0));
  CHECK(t.p == Approx(0.0010528).epsilon(1e-4));  // scipy.stats.t.sf(5, 8) * 2
  t = stats::welch({1, 2, 3}, {1, 2, 30});        // unequal variances: df well below n - 2
  CHECK(t.df < 2.5);
  CHECK(stats::welch({2, 2}, {2, 2}).p == 1.0);
  CHECK(stats::welch({2, 2}, {3, 3}).p == 0.0);
  CHECK_THROWS(stats::welch({1}, {1, 2}));
}

TEST_CASE("gate/speed: whole runs are the samples: 10% slower over 3 runs per side is a regression, one run is not") {
  auto rep = cmp(three_runs(100, 1), three_runs(110, 11));
  CHECK(rep.regressions == 1);
  CHECK_THAT(rep.rows[0].detail, Catch::Contains("median of 3 vs 3 run medians") && Catch::Contains("the baseline's own 3 runs"));
  rep = cmp(three_runs(100, 1), three_runs(90, 11));
  CHECK(rep.regressions == 0);
  CHECK(rep.improvements == 1);
  // Nine repetitions of one process are one sample: no verdict, however tight they are.
  rep = cmp(gbench(noisy(100, 0.005, 9, 1)), gbench(noisy(110, 0.005, 9, 2)));
  CHECK(rep.regressions == 0);
  CHECK(rep.inconclusive == 1);
  CHECK_THAT(rep.rows[0].detail, Catch::Contains("noise between runs is unmeasured"));
  CHECK(gate_verdict(rep) == "✅ no regression: 1 results compared, 1 inconclusive");  // said, not hidden
  rep = cmp(gbench(noisy(100, 0.005, 9, 1)), gbench(noisy(110, 0.005, 9, 2)), gate_options{.noise = noise_floor(0.02, 0.02)});
  CHECK(rep.inconclusive == 1);
  CHECK_THAT(rep.rows[0].detail, Catch::Contains("needs >= 2 whole runs per side"));
}

TEST_CASE("gate/speed: the measured A/A noise floor raises the minimum effect") {
  CHECK(cmp(three_runs(100, 1), three_runs(110, 11), gate_options{.noise = noise_floor(0.03, 0.03)}).regressions == 1);
  auto rep = cmp(three_runs(100, 1), three_runs(110, 11), gate_options{.noise = noise_floor(0.15, 0.15)});
  CHECK(rep.regressions == 0);
  CHECK(rep.unchanged == 1);
  CHECK_THAT(rep.rows[0].detail, Catch::Contains("min effect 15.0%"));
  // Stored with the baseline (calibrate's baseline.json) it is used the same way.
  json b = three_runs(100, 1);
  b["adambench_noise"] = noise_floor(0.15, 0.15);
  CHECK(cmp(b, three_runs(110, 11)).regressions == 0);
  // A change above the floor that the runs cannot confirm: inconclusive.
  rep = cmp(runs_doc({{100}, {130}, {80}}), runs_doc({{125}, {90}, {150}}), gate_options{.noise = noise_floor(0.05, 0.05)});
  CHECK(rep.inconclusive == 1);
}

TEST_CASE("gate/speed: the steadier figure is judged, and named") {
  // The whole machine 10% slower (probe too): time moved, the fraction of the probe did not.
  json c = three_runs(110, 11, 0.95 * 1.10);
  auto rep = cmp(three_runs(100, 1), c, gate_options{.noise = noise_floor(0.05, 0.01)});
  CHECK(rep.regressions == 0);
  CHECK_THAT(rep.rows[0].detail, Catch::StartsWith("fraction of probe"));
  rep = cmp(three_runs(100, 1), c, gate_options{.noise = noise_floor(0.01, 0.05)});
  CHECK(rep.regressions == 1);
  CHECK_THAT(rep.rows[0].detail, Catch::StartsWith("time (ns)"));
}

TEST_CASE("gate/speed: against another machine the probe fraction is judged, not the time") {
  json b = three_runs(100, 1), c = three_runs(50, 11, 0.5 * 0.95);
  CHECK(cmp(b, c).improvements == 1);  // same machine: twice as fast
  c["context"]["host_name"] = "other";  // twice as fast a machine, same fraction of its probe
  auto rep = cmp(b, c);
  CHECK(rep.regressions == 0);
  CHECK(rep.improvements == 0);
  CHECK_THAT(rep.rows[0].detail, Catch::StartsWith("fraction of probe"));
}

TEST_CASE("gate/speed: the noise floor is (max - min) / min of the run medians; merging keeps runs apart") {
  auto as_result = [](json j, const char* p) { return checked_result(std::move(j), p); };
  std::vector<loaded_result> runs{as_result(runs_doc({{99, 100, 101}}), "1.json"), as_result(runs_doc({{110, 110, 500}}), "2.json"),
                                  as_result(runs_doc({{105}}), "3.json")};
  json n = speed_noise_of(runs);
  CHECK(n["runs"] == 3);
  CHECK(n["benchmarks"]["eigen/flat_16M"]["time"].get<double>() == Approx(0.10));
  json merged = merge_repeats({runs[0], as_result(runs_doc({{1}, {2}}), "two.json"), runs[2]});
  std::set<long long> tags;
  for (auto& b : merged["benchmarks"]) tags.insert(b["adambench_run"].get<long long>());
  CHECK(tags == std::set<long long>{1, 2, 3, 4});
  CHECK(speed_samples_of(merged)[0].second.run_time_ns == std::vector<double>{100e3, 1e3, 2e3, 105e3});
}

TEST_CASE("gate/speed: a missing or errored benchmark is a regression; other thread counts are not compared") {
  json b = gbench(noisy(100, 0.01, 9, 1)), c = gbench(noisy(100, 0.01, 9, 2), "eigen/other");
  CHECK_THROWS_WITH(cmp(b, c), Catch::Contains("nothing compared"));
  json two = gbench(noisy(100, 0.01, 9, 2));
  two["benchmarks"].push_back(gbench({100}, "libtorch/flat_16M")["benchmarks"][0]);
  json c2 = gbench(noisy(100, 0.01, 9, 3));
  auto rep = cmp(two, c2);
  CHECK(rep.regressions == 1);
  CHECK(cmp(two, c2, gate_options{.allow_missing = true}).regressions == 0);
  json c3 = two;
  c3["benchmarks"][0]["error_occurred"] = true;
  CHECK(cmp(two, c3).regressions == 1);
  json t = gbench(noisy(100, 0.01, 9, 2));
  t["context"]["adambench.thread_counts"] = "2";
  CHECK_THROWS_WITH(cmp(b, t), Catch::Contains("thread counts"));
}

TEST_CASE("gate/agree: a disagreement is a regression without a baseline; growth is a warning") {
  json base = agree_doc(), cand = base;
  CHECK(cmp(base, cand).regressions == 0);
  cand["results"][0]["checks"][0]["params"]["max_err_u"] = 5.0;
  auto rep = cmp(base, cand);
  CHECK(rep.regressions == 0);
  CHECK(rep.warnings == 1);
  cand["results"][0]["verdict"] = "fail";
  CHECK(cmp(base, cand).regressions == 1);
}

TEST_CASE("gate/agree: coverage: missing, newly skipped, interrupted and contradicted passes are regressions") {
  json base = agree_doc(), cand = base;
  cand["results"][0]["seed"] = 1;  // base's result missing, a new one instead: nothing compared
  CHECK_THROWS_WITH(cmp(base, cand), Catch::Contains("nothing compared"));
  json two = base;
  two["results"].push_back(base["results"][0]);
  two["results"][1]["impl"] = "libtorch";
  CHECK(cmp(two, base).regressions == 1);
  CHECK(cmp(two, base, gate_options{.allow_missing = true}).regressions == 0);
  cand = two;
  cand["results"][1]["verdict"] = "skip";
  CHECK(cmp(two, cand).regressions == 1);
  cand = two;
  cand["interrupted"] = true;
  CHECK(cmp(two, cand).regressions == 1);
  cand = two;
  cand["results"][1]["checks"][0]["params"]["failed"] = 3;  // a "pass" its own checks contradict
  CHECK(cmp(two, cand).regressions == 1);
  cand = two;
  cand["results"][1]["checks"][0]["params"]["failed"] = "zz";
  CHECK_THROWS_WITH(as(cand), Catch::Contains("$.results[1].checks[0].params.failed"));
  cand = two;
  cand["suite"] = "suites/default.toml";
  CHECK_THROWS_WITH(cmp(two, cand), Catch::Contains("differ in suite"));
  CHECK_THROWS_WITH(cmp(two, gbench({1, 2})), Catch::Contains("different kinds"));
}

TEST_CASE("gate/converge: the band passes changes within seed spread and drift, fails worse training; --exact is bitwise") {
  json base = converge_doc(), cand = base;
  CHECK(cmp(base, cand).regressions == 0);
  cand["runs"][0]["curve_digest"] = "abd";
  CHECK(cmp(base, cand).regressions == 0);  // a rounding change: not a regression by default...
  CHECK(cmp(base, cand, gate_options{.exact = true}).regressions == 1);  // ...but bitwise it is
  cand = base;
  cand["aggregates"][0]["final_val_loss"] = {{"median", 1.5}, {"lo", 1.4}, {"hi", 1.6}};  // beyond 2 x seed spread 0.2
  CHECK(cmp(base, cand).regressions == 1);
  cand["aggregates"][0]["final_val_loss"] = {{"median", 1.15}, {"lo", 0.95}, {"hi", 1.2}};  // within the band
  CHECK(cmp(base, cand).regressions == 0);
  cand = base;
  cand["aggregates"][0]["steps_to_target"] = {{"median", 1100.0}, {"lo", 1100.0}, {"hi", 1100.0}};  // +10%: beyond the 5% floor
  CHECK(cmp(base, cand).regressions == 1);
  cand["aggregates"][0]["steps_to_target"] = {{"median", 1040.0}, {"lo", 1040.0}, {"hi", 1040.0}};
  CHECK(cmp(base, cand).regressions == 0);
  cand = base;
  cand["runs"][0]["verdict"] = "diverged";
  CHECK(cmp(base, cand).regressions == 1);
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

TEST_CASE("gate: merge joins shards 1..N once each, of one kind, suite and build") {
  json a = agree_doc(), b = agree_doc();
  a["shard"] = "1/2";
  b["shard"] = "2/2";
  b["results"][0]["seed"] = 1;
  b["results"][0]["verdict"] = "fail";
  b["summary"] = {{"passed", 0}, {"failed", 1}, {"skipped", 0}};
  auto A = checked_result(a, "a"), B = checked_result(b, "b");
  json m = merge_results({A, B});
  CHECK(m["results"].size() == 2);
  CHECK(m["summary"]["failed"] == 1);
  CHECK(!m.contains("shard"));
  CHECK_THROWS_WITH(merge_results({A, A}), Catch::Contains("shard 1/2 given twice"));
  CHECK_THROWS_WITH(merge_results({A}), Catch::Contains("shard 2/2 is missing"));
  json c = b;
  c["context"]["build"]["git_commit"] = "def";
  CHECK_THROWS_WITH(merge_results({A, checked_result(c, "c")}), Catch::Contains("build"));
  CHECK_THROWS_AS(merge_results({A, checked_result(gbench({1}), "s")}), input_error);
}

TEST_CASE("gate: merge keeps pieces of one run: different runs are refused, stale ones count as missing") {
  auto piece = [](const std::string& shard, const std::string& run, int seed) {
    json j = agree_doc();
    j["shard"] = shard;
    if (!run.empty()) j["context"]["run_id"] = run;
    j["results"][0]["seed"] = seed;
    return checked_result(j, "shard " + shard + " of " + run);
  };
  const auto a1 = piece("1/2", "run7", 0), a2 = piece("2/2", "run7", 1), old2 = piece("2/2", "run6", 1);
  CHECK(merge_results({a1, a2}, std::string("run7"))["context"]["run_id"] == "run7");
  // Without a run given, pieces must agree among themselves; the error names both shards and runs.
  CHECK_THROWS_WITH(merge_results({a1, old2}), Catch::Contains("shard 2/2") && Catch::Contains("run 'run6'") && Catch::Contains("run 'run7'"));
  CHECK_THROWS_WITH(merge_results({a1, piece("2/2", "", 1)}), Catch::Contains("no run id"));
  // With the run given, a piece of another run is left out: its shard is missing, and the error says whose piece was there.
  CHECK_THROWS_WITH(merge_results({a1, old2}, std::string("run7")),
                    Catch::Contains("shard 2/2 is missing") && Catch::Contains("of run 'run7'") && Catch::Contains("run 'run6', left out"));
  CHECK_THROWS_WITH(merge_results({old2}, std::string("run7")), Catch::Contains("none of the 1 pieces belongs to run 'run7'"));
  CHECK(merge_results({a2, a1, old2}, std::string("run7"))["results"].size() == 2);
}

TEST_CASE("gate: merge puts shards in order, takes the head of a piece that selected something, joins speed rows") {
  auto piece = [](json j, const std::string& shard, bool empty) {
    j["shard"] = shard;
    if (empty) {
      j["empty_slice"] = true;
      j["results"] = json::array();
      j["summary"] = {{"passed", 0}, {"failed", 0}, {"skipped", 0}};
      j["suite"] = "embedded:ci";
      j["context"]["machine"] = {{"hostname", "bare"}};
    }
    return checked_result(j, shard);
  };
  json three = agree_doc();
  three["results"][0]["seed"] = 1;
  const json m = merge_results({piece(three, "3/3", false), piece(agree_doc(), "1/3", true), piece(agree_doc(), "2/3", false)});
  CHECK(m["results"][0]["seed"] == 0);  // shard 2 before shard 3, whatever the order given
  CHECK(m["results"].size() == 2);
  CHECK(m["summary"]["passed"] == 2);
  CHECK(!m.contains("empty_slice"));
  CHECK(!m["context"].contains("machine"));  // the head is shard 2's, not the empty shard 1's
  CHECK(!selected_nothing(m));
  // Every piece empty: the merge says it selected nothing (adambench merge exits 3 on it).
  CHECK(selected_nothing(merge_results({piece(agree_doc(), "1/2", true), piece(agree_doc(), "2/2", true)})));
  // Speed: the per-row summary of every shard, not only the first one's.
  json s1 = gbench({1}, "eigen/a"), s2 = gbench({1}, "eigen/b");
  s1["context"]["adambench.shard"] = "1/2";
  s2["context"]["adambench.shard"] = "2/2";
  s1["adambench_rows"] = {{{"name", "eigen/a"}}};
  s2["adambench_rows"] = {{{"name", "eigen/b"}}};
  const json ms = merge_results({checked_result(s2, "s2"), checked_result(s1, "s1")});
  REQUIRE(ms["adambench_rows"].size() == 2);
  CHECK(ms["adambench_rows"][1]["name"] == "eigen/b");
  CHECK(!ms["context"].contains("adambench.shard"));
}

TEST_CASE("gate: the Markdown starts with the verdict and stays under 60,000 characters") {
  json base = agree_doc();
  base["results"] = json::array();
  for (int i = 0; i < 3000; ++i) {
    json r = agree_doc()["results"][0];
    r["case"] = std::string(200, 'x') + std::to_string(i);
    base["results"].push_back(r);
  }
  json cand = base;
  for (auto& r : cand["results"]) r["verdict"] = "fail", r["first_mismatch"] = std::string(500, 'y');
  auto rep = cmp(base, cand);
  const std::string md = gate_markdown(rep, "b", "c");
  CHECK(md.rfind("❌ 3000 regressions", 0) == 0);
  CHECK(md.size() <= 60000);
  CHECK(md.find("more not shown") != std::string::npos);
  CHECK(gate_markdown(cmp(base, base), "b", "c").rfind("✅ no regression: 3000 results compared", 0) == 0);
}

// The table of result kinds is generated from bench/*/*_kind.cpp: a descriptor left out of the build
// (or a kind without its schema) shows here before the gate, merge or history meets one of its files.
TEST_CASE("result kinds: one descriptor per kind, each with its embedded schema, listed in order") {
  std::vector<std::string> names;
  for (const auto* k : result_kinds()) {
    names.push_back(k->name);
    CHECK(has_schema(k->name));
    CHECK(find_result_kind(k->name) == k);
    CHECK(!k->shard_lists.empty());
    CHECK(!k->history_list.empty());
    CHECK(k->figures != nullptr);
  }
  CHECK(names == std::vector<std::string>{"agree", "speed", "converge", "sweep", "count"});
  CHECK(result_kind_names([](const result_kind& d) { return d.compare != nullptr; }) ==
        std::vector<std::string>{"agree", "speed", "converge", "count"});
  CHECK(find_result_kind("tune") == nullptr);  // tune.json is read by the report only
  CHECK(find_result_kind("nope") == nullptr);
}
