// Counted speed: Callgrind's output as read, the figures derived from its events, and the counted
// gate (bench/count/count_gate.cpp) on synthetic count.json documents checked against the schema.
#include "adambench/config.h"
#include "gate/compare.h"
#include "history/store.h"
#include "count/count_callgrind.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

using namespace adambench;
using nlohmann::json;

namespace {

// Two requested dumps and the program-termination part, as Valgrind 3.19 writes them with
// --combine-dumps=yes (the second summary leaves its trailing zeros out, as Callgrind does).
const char* const two_dumps = R"(# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 15602
cmd:  ./t3 4194304
part: 1


desc: I1 cache: 32768 B, 64 B, 8-way associative
desc: D1 cache: 32768 B, 64 B, 8-way associative
desc: LL cache: 8388608 B, 64 B, 16-way associative

desc: Timerange: Basic block 0 - 1048591
desc: Trigger: Client Request: eigen/adam/flat_1M/threads:1

positions: line
events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw ILdmr DLdmr DLdmw
summary: 3000 1000 500 10 200 100 2 150 50 0 120 30

fn=main
0 3000 1000 500

totals: 3000 1000 500

part: 2

desc: Trigger: Client Request: probe/28B/flat 1M/threads:1

positions: line
events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw ILdmr DLdmr DLdmw
summary: 10 4 2

part: 3

desc: Trigger: Program termination

events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw ILdmr DLdmr DLdmw
summary: 18446744073706405854 18446744073708503036
)";

}  // namespace

TEST_CASE("parse_callgrind: requested dumps by name, trailing zeros, termination part left out") {
  const auto d = counting::parse_callgrind(two_dumps, "cg.out");
  REQUIRE(d.size() == 2);
  CHECK(d[0].name == "eigen/adam/flat_1M/threads:1");
  CHECK(d[0].events.at("Ir") == 3000);
  CHECK(d[0].events.at("DLdmw") == 30);
  CHECK(d[1].name == "probe/28B/flat 1M/threads:1");
  CHECK(d[1].events.at("Dw") == 2);
  CHECK(d[1].events.at("DLmr") == 0);
}

TEST_CASE("parse_callgrind: what is not Callgrind output is an environment failure naming the file") {
  CHECK_THROWS_AS(counting::parse_callgrind("hello\n", "x.out"), io_error);
  CHECK_THROWS_WITH(counting::parse_callgrind("# callgrind format\npart: 1\ndesc: Trigger: Client Request: a\nevents: Ir\nsummary: 12x\n", "x.out"),
                    Catch::Contains("x.out:5") && Catch::Contains("12x"));
  CHECK_THROWS_WITH(counting::parse_callgrind("# callgrind format\npart: 1\ndesc: Trigger: Client Request: a\nevents: Ir\n", "x.out"),
                    Catch::Contains("no summary:"));
  CHECK_THROWS_WITH(counting::parse_callgrind("# callgrind format\npart: 1\ndesc: Trigger: Client Request: a\nevents: Ir\nsummary: 1 2\n", "x.out"),
                    Catch::Contains("more numbers than events"));
}

TEST_CASE("figures_of: per step, DRAM bytes count fills and write-backs, cycles by the stated formula") {
  const auto d = counting::parse_callgrind(two_dumps, "cg.out");
  const auto f = counting::figures_of(d[0].events, 2, 64);
  CHECK(f.instructions == 1500);
  CHECK(f.data_reads == 500);
  CHECK(f.data_writes == 250);
  CHECK(f.d1_misses == (10 + 200 + 100) / 2.0);
  CHECK(f.ll_misses == (2 + 150 + 50) / 2.0);
  CHECK(f.ll_writebacks == (0 + 120 + 30) / 2.0);
  CHECK(f.dram_bytes == 64.0 * (202 + 150) / 2.0);
  // L1 hits + 5 x LL hits + 35 x RAM accesses (per step).
  const double acc = 1500 + 500 + 250, m1 = 155, ml = 101;
  CHECK(f.est_cycles == Approx((acc - m1) + 5 * (m1 - ml) + 35 * ml));
}

namespace {

json count_row(const std::string& name, double cycles, double dram, std::int64_t params = 1 << 20) {
  json ev = json::object();
  for (auto* e : counting::event_names) ev[e] = 0;
  return {{"name", name}, {"impl", "eigen"}, {"algo", "adam"}, {"amsgrad", false}, {"shape", "flat_1M"}, {"params", params}, {"tensors", 1},
          {"verdict", "counted"}, {"events", ev},
          {"per_step", {{"instructions", cycles / 2}, {"data_reads", 1.0}, {"data_writes", 1.0}, {"d1_misses", 1.0}, {"ll_misses", 1.0},
                        {"ll_writebacks", 1.0}, {"dram_bytes", dram}, {"est_cycles", cycles}}},
          {"per_param", {{"instructions", cycles / 2 / params}, {"dram_bytes", dram / params}, {"est_cycles", cycles / params}}},
          {"min_bytes_per_param", 28}, {"working_set_bytes", 16 * params}, {"fits_in_ll", 16 * params <= 8388608},
          {"below_minimum", false}};
}

json count_doc(std::vector<json> rows, const std::string& flags = "-O3 -march=x86-64-v3") {
  json cache = {{"size", 32768}, {"assoc", 8}, {"line", 64}};
  return {{"schema_version", 1}, {"kind", "count"}, {"context", {{"build", {{"git_commit", "abc"}}}, {"threads", 1}}},
          {"suite", "embedded:ci"}, {"interrupted", false},
          {"build", {{"compiler", "gcc 12.2.0"}, {"kernel_flags", flags}, {"isa", "x86-64-v3 (AVX2)"}}},
          {"counting", {{"tool", "callgrind"}, {"valgrind", "valgrind-3.19.0"}, {"cache", {{"I1", cache}, {"D1", cache}, {"LL", cache}}},
                        {"steps", 2}, {"warmup_steps", 2}, {"threads", 1}, {"est_cycles_formula", "f"}, {"dram_bytes_rule", "r"},
                        {"min_bytes_rule", "m"}}},
          {"summary", {{"counted", rows.size()}, {"errors", 0}, {"skipped", 0}}}, {"results", rows}};
}

std::vector<loaded_result> as(json j) { return {checked_result(std::move(j), "count.json")}; }
gate_report cmp(json b, json c, gate_options o = {}) { return compare_results(as(std::move(b)), as(std::move(c)), o); }

const gate_row& row(const gate_report& r, const std::string& key) {
  for (auto& x : r.rows)
    if (x.key == key) return x;
  FAIL("no row " << key);
  throw;
}

const std::int64_t big = 1 << 22;  // 64 MiB working set: above the simulated LL
const double min_big = 28.0 * big;

}  // namespace

TEST_CASE("count gate: identical counts pass, a 2% cycles rise is a regression, 0.5% is no change") {
  json base = count_doc({count_row("eigen/adam/flat_4M/threads:1", 1e7, min_big, big)});
  auto r = cmp(base, base);
  CHECK(r.regressions == 0);
  CHECK(r.compared == 1);
  CHECK(gate_exit_code(r) == 0);
  r = cmp(base, count_doc({count_row("eigen/adam/flat_4M/threads:1", 1.02e7, min_big, big)}));
  CHECK(r.regressions == 1);
  CHECK(row(r, "eigen/adam/flat_4M/threads:1").detail.find("est. cycles/step") != std::string::npos);
  CHECK(gate_verdict(r).rfind("❌", 0) == 0);
  r = cmp(base, count_doc({count_row("eigen/adam/flat_4M/threads:1", 1.005e7, min_big, big)}));
  CHECK(r.regressions == 0);
  CHECK(row(r, "eigen/adam/flat_4M/threads:1").verdict == "no change");
  r = cmp(base, count_doc({count_row("eigen/adam/flat_4M/threads:1", 0.9e7, min_big, big)}));
  CHECK(r.improvements == 1);
  CHECK(gate_exit_code(r) == 0);
}

TEST_CASE("count gate: DRAM bytes gate on their own, a cache-resident baseline is judged against the minimum traffic") {
  json base = count_doc({count_row("eigen/adam/flat_4M/threads:1", 1e7, min_big, big)});
  auto r = cmp(base, count_doc({count_row("eigen/adam/flat_4M/threads:1", 1e7, 32.0 * big, big)}));  // an extra read pass: 28 -> 32 B/param
  CHECK(r.regressions == 1);
  CHECK(row(r, "eigen/adam/flat_4M/threads:1").detail.find("DRAM bytes/step") != std::string::npos);
  // 0 -> 64 bytes on a cache-resident step is 64 / (28 x params): no change, not an infinite ratio.
  json small = count_doc({count_row("eigen/adam/flat_64K/threads:1", 1e5, 0.0, 1 << 16)});
  r = cmp(small, count_doc({count_row("eigen/adam/flat_64K/threads:1", 1e5, 64.0, 1 << 16)}));
  CHECK(r.regressions == 0);
  r = cmp(small, count_doc({count_row("eigen/adam/flat_64K/threads:1", 1e5, 0.05 * 28 * (1 << 16), 1 << 16)}));
  CHECK(r.regressions == 1);
}

TEST_CASE("count gate: --min-effect moves the threshold") {
  json base = count_doc({count_row("eigen/adam/flat_4M/threads:1", 1e7, min_big, big)});
  gate_options o;
  o.count_min_effect = 0.05;
  CHECK(cmp(base, count_doc({count_row("eigen/adam/flat_4M/threads:1", 1.04e7, min_big, big)}), o).regressions == 0);
  CHECK(cmp(base, count_doc({count_row("eigen/adam/flat_4M/threads:1", 1.06e7, min_big, big)}), o).regressions == 1);
}

TEST_CASE("count gate: missing, newly skipped, errored and below-minimum rows are regressions, new rows are listed") {
  json base = count_doc({count_row("a/adam/x/threads:1", 1e7, min_big, big), count_row("b/adam/x/threads:1", 1e7, min_big, big)});
  json cand = count_doc({count_row("a/adam/x/threads:1", 1e7, min_big, big), count_row("c/adam/x/threads:1", 1e7, min_big, big)});
  auto r = cmp(base, cand);
  CHECK(r.regressions == 1);
  CHECK(row(r, "b/adam/x/threads:1").verdict == "regression");
  CHECK(row(r, "c/adam/x/threads:1").verdict == "new");
  gate_options allow;
  allow.allow_missing = true;
  CHECK(cmp(base, cand, allow).regressions == 0);

  json skipped = base;
  skipped["results"][1] = {{"name", "b/adam/x/threads:1"}, {"verdict", "skip"}, {"reason", "no CUDA device"}};
  r = cmp(base, skipped);
  CHECK(row(r, "b/adam/x/threads:1").detail.find("newly skipped: no CUDA device") != std::string::npos);
  CHECK(r.regressions == 1);
  json errored = base;
  errored["results"][1] = {{"name", "b/adam/x/threads:1"}, {"verdict", "error"}, {"reason", "no Callgrind dump"}};
  CHECK(cmp(base, errored).regressions == 1);
  json below = base;
  below["results"][1]["below_minimum"] = true;
  below["results"][1]["per_param"]["dram_bytes"] = 16.0;
  r = cmp(base, below);
  CHECK(r.regressions == 1);
  CHECK(row(r, "b/adam/x/threads:1").detail.find("measurement problem") != std::string::npos);
  CHECK(cmp(below, base).regressions == 1);  // a baseline row below the minimum is no baseline
}

TEST_CASE("count gate: another compiler, kernel flags, ISA or cache model is refused with one line naming it") {
  json base = count_doc({count_row("a/adam/x/threads:1", 1e7, min_big, big)});
  CHECK_THROWS_WITH(cmp(base, count_doc({count_row("a/adam/x/threads:1", 1e7, min_big, big)}, "-O3 -march=native")),
                    Catch::Contains("kernel flags") && Catch::Contains("-march=native") && Catch::Contains("not comparable"));
  json isa = base;
  isa["build"]["isa"] = "x86-64-v4 (AVX512F)";
  CHECK_THROWS_WITH(cmp(base, isa), Catch::Contains("ISA"));
  json cc = base;
  cc["build"]["compiler"] = "clang 16";
  CHECK_THROWS_WITH(cmp(base, cc), Catch::Contains("compiler"));
  json ll = base;
  ll["counting"]["cache"]["LL"]["size"] = 1 << 20;
  CHECK_THROWS_WITH(cmp(base, ll), Catch::Contains("cache model"));
  // Nothing counted on either side: nothing compared is bad input, never a pass.
  json none = count_doc({{{"name", "a/adam/x/threads:1"}, {"verdict", "skip"}, {"reason", "r"}}});
  CHECK_THROWS_WITH(cmp(none, none), Catch::Contains("nothing compared"));
}

TEST_CASE("merge: count shards join into one result, pieces of another instrument are refused") {
  json a = count_doc({count_row("a/adam/flat_1M/threads:1", 1e7, min_big, big)}), b = count_doc({count_row("a/adam/flat_4M/threads:1", 1e7, min_big, big)});
  a["shard"] = "1/2";
  b["shard"] = "2/2";
  const json m = merge_results({checked_result(a, "s1.json"), checked_result(b, "s2.json")});
  CHECK(m["results"].size() == 2);
  CHECK(m["summary"]["counted"] == 2);
  CHECK(!m.contains("shard"));
  CHECK_NOTHROW(checked_result(m, "merged.json"));
  json other = b;
  other["build"]["kernel_flags"] = "-O3 -march=native";
  CHECK_THROWS_WITH(merge_results({checked_result(a, "s1.json"), checked_result(other, "s2.json")}),
                    Catch::Contains("differ in build") && Catch::Contains("-march=native"));
  CHECK_THROWS_WITH(merge_results({checked_result(a, "s1.json")}), Catch::Contains("shard 2/2 is missing"));
}

TEST_CASE("count gate: an interrupted candidate is never a pass") {
  json base = count_doc({count_row("a/adam/x/threads:1", 1e7, min_big, big)});
  json cand = base;
  cand["interrupted"] = true;
  cand["stopped_before"] = "b/adam/x/threads:1";
  auto r = cmp(base, cand);
  CHECK(r.regressions == 1);
}

TEST_CASE("count schema: a counted row needs its figures, a skipped one its reason") {
  json doc = count_doc({count_row("a/adam/x/threads:1", 1e7, min_big, big)});
  doc["results"][0].erase("per_step");
  CHECK_THROWS_WITH(checked_result(doc, "c.json"), Catch::Contains("count result schema"));
  json skip = count_doc({{{"name", "a"}, {"verdict", "skip"}}});
  CHECK_THROWS_AS(checked_result(skip, "c.json"), input_error);
  json neg = count_doc({count_row("a/adam/x/threads:1", -1.0, min_big, big)});
  CHECK_THROWS_AS(checked_result(neg, "c.json"), input_error);
}

TEST_CASE("history: count.json figures are kept, cycles and DRAM bytes lower-is-better, the probe neutral") {
  const auto dir = std::filesystem::temp_directory_path() / "adambench-count-history-test";
  std::filesystem::create_directories(dir);
  const auto file = dir / "count.json";
  std::ofstream(file) << count_doc({count_row("eigen/adam/flat_4M/threads:1", 1e7, min_big, big),
                                    count_row("probe/28B/flat_4M/threads:1", 5e6, min_big, big)})
                             .dump();
  const auto p = history::parse_result_file(file);
  CHECK(p.kind == "count");
  CHECK(p.commit == "abc");
  bool cycles = false, dram = false;
  for (auto& f : p.figures) {
    if (f.benchmark == "count/eigen/adam/flat_4M/threads:1" && f.metric == "est_cycles_per_step") cycles = f.value == 1e7;
    if (f.benchmark == "count/eigen/adam/flat_4M/threads:1" && f.metric == "dram_bytes_per_param") dram = f.value == 28.0;
  }
  CHECK(cycles);
  CHECK(dram);
  CHECK(history::direction_of("count", "count/eigen/adam/flat_4M/threads:1", "est_cycles_per_step") == -1);
  CHECK(history::direction_of("count", "count/eigen/adam/flat_4M/threads:1", "dram_bytes_per_step") == -1);
  CHECK(history::direction_of("count", "count/probe/28B/flat_4M/threads:1", "est_cycles_per_step") == 0);
  std::filesystem::remove_all(dir);
}
