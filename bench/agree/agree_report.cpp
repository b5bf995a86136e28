// Reporters of the agreement runner: they read agree_result only (agree/agree.h).
#include "core/results.h"
#include "agree/agree.h"
#include "shared/context.h"
#include "shared/report_util.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace adambench {

namespace {

std::string fmt_num(double x) {
  if (std::isinf(x)) return "inf";
  if (x == 0) return "0";
  return fmt::format("{:.2g}", x);
}

std::string cell_text(const agree_result& res, const agree_key& row, const std::string& impl) {
  agree_cell cl;
  if (auto r = res.cells.find(row); r != res.cells.end())
    if (auto i = r->second.find(impl); i != r->second.end()) cl = i->second;
  return cl.fail ? "FAIL" : cl.pass ? fmt::format("ok {}", fmt_num(cl.err_u)) : cl.skip ? "skip" : "-";
}

// One row per case and dtype, one column per implementation. A cell shows the worst error over
// parameters and state in units of u * bound (the tolerance is tolerance_for().k).
void print_table(const agree_result& res) {
  fmt::print("Agreement with the float64 reference: worst |error| / (u * running bound); pass <= {:g} (float32 and float64)",
             tolerance_for(dtype::float32).k);
  if (std::any_of(res.dtypes.begin(), res.dtypes.end(), is_16bit))  // docs/cuda.md
    fmt::print("; 16-bit parameters <= {:g} (u = 2^-8 bfloat16, 2^-11 float16), their float32 state as float32",
               tolerance_for(dtype::bfloat16).k);
  fmt::print("\n");
  std::size_t w0 = 4;
  for (auto& k : res.rows) w0 = std::max(w0, k.first.size());
  fmt::print("{:<{}}  {:<8}", "case", w0, "dtype");
  for (auto& impl : res.impls) fmt::print("  {:>{}}", impl, std::max<std::size_t>(9, impl.size()));
  fmt::print("\n");
  for (auto& k : res.rows) {
    fmt::print("{:<{}}  {:<8}", k.first, w0, to_string(k.second));
    for (auto& impl : res.impls) fmt::print("  {:>{}}", cell_text(res, k, impl), std::max<std::size_t>(9, impl.size()));
    fmt::print("\n");
  }
}

void print_notes(const agree_result& res) {
  fmt::print("\nError growth by steps taken (worst over all cases: max ULP distance, then |error| / (u * bound)):\n");
  for (auto& [k, by_step] : res.growth) {
    fmt::print("  {:<18} {:<8}", k.first, to_string(k.second));
    for (auto& [t, e] : by_step) fmt::print("  {:>4} steps: {:>6} ulp {:>6} u", t, fmt_num(e.first), fmt_num(e.second));
    fmt::print("\n");
  }
  const auto skips = res.skip_reasons();
  if (!skips.empty()) {
    fmt::print("\nSkipped (implementation: reason):\n");
    for (auto& [impl, reasons] : skips)
      for (auto& r : reasons) fmt::print("  {}: {}\n", impl, r);
  }
  if (res.failed() == 0) return;
  fmt::print("\nDisagreements (first mismatching values):\n");
  for (auto& r : res.records)
    if (r.verdict != "pass" && r.verdict != "skip")
      fmt::print("  {} {} seed {} {}: {}\n", res.cases[r.case_index].name, to_string(r.type), r.seed, r.impl,
                 r.verdict == "error" ? "error: " + r.reason : r.first_mismatch);
}

nlohmann::json check_json(const agree_check& c) {
  nlohmann::json j{{"step", c.step}, {"step_counter", {{"got", c.got_step}, {"want", c.want_step}}}};
  for (const state_row& row : c.rows) {
    const error_stats& s = row.stats;
    j[row.name] = {{"max_abs", s.max_abs}, {"max_rel", s.max_rel}, {"max_ulp", s.max_ulp}, {"max_err_u", s.max_err_u},
                   {"compared", s.compared}, {"failed", s.failed}};
  }
  j["tolerance_u"] = c.tolerance_u;
  j["ok"] = c.ok;
  return j;
}

nlohmann::json record_json(const agree_result& res, const agree_record& r) {
  const agree_case& c = res.cases[r.case_index];
  std::int64_t numel = 0;
  for (auto& sh : c.shapes) numel += numel_of(sh);
  nlohmann::json j{{"case", c.name}, {"impl", r.impl}, {"dtype", to_string(r.type)}, {"seed", r.seed}, {"config", c.config.describe()},
                   {"grad", to_string(c.grad)}, {"tensors", c.shapes.size()}, {"numel", numel}, {"start_step", c.start_step},
                   {"random_state", c.random_state}, {"verdict", r.verdict}};
  if (!r.reason.empty()) j["reason"] = r.reason;
  if (!r.first_mismatch.empty()) j["first_mismatch"] = r.first_mismatch;
  j["checks"] = nlohmann::json::array();
  for (auto& c : r.checks) j["checks"].push_back(check_json(c));
  return j;
}

}  // namespace

void print_agree_summary(const agree_result& res) {
  print_table(res);
  print_notes(res);
  if (!res.stopped_at.empty()) fmt::print("\nInterrupted: stopped before {}; results above are complete up to there.\n", res.stopped_at);
  fmt::print("\nagree: {} passed, {} failed, {} skipped ({:.1f} s)\n", res.count("pass"), res.failed(), res.count("skip"), res.seconds);
}

nlohmann::json agree_json(const agree_result& res) {
  nlohmann::json j = report_util::result_base("agree", res.source, res.threads, res.shard, res.stopped_at, "stopped_before");
  if (res.empty_slice) j["empty_slice"] = true;
  j["impls"] = res.impls;
  j["tolerance_policy"] = "docs/tolerances.md";
  j["summary"] = {{"passed", res.count("pass")}, {"failed", res.failed()}, {"skipped", res.count("skip")}, {"seconds", res.seconds}};
  j["results"] = nlohmann::json::array();
  for (auto& r : res.records) j["results"].push_back(record_json(res, r));
  return j;
}

void write_agree_json(const agree_result& res, const std::filesystem::path& out) {
  auto path = out / "agree.json";
  write_json_atomic(path, agree_json(res));
  fmt::print("wrote {}\n", path.string());
}

}  // namespace adambench
