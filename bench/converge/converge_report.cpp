// Reporters of the convergence runner: they read converge_result only (converge/converge.h).
#include "core/results.h"
#include "shared/context.h"
#include "converge/converge.h"
#include "shared/report_util.h"

#include <fmt/format.h>
#include <set>

namespace adambench {

using namespace report_util;

namespace {

std::string num_field(double x) {  // empty for NaN so spreadsheets and pandas see a missing value
  if (std::isnan(x)) return "";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return fmt::format("{:.17g}", x);
}

std::string run_label(const converge_result& res, const run_record& x) {
  return fmt::format("{} b={} seed={}", res.cases[x.case_index].name, x.batch, x.seed);
}

void print_table(const converge_result& res) {
  fmt::print("Convergence: median over seeds [bootstrap 95% interval]; fail = diverged or target not reached\n");
  std::size_t w0 = 4, w1 = 4;
  for (auto& r : res.aggregates) w0 = std::max(w0, res.cases[r.case_index].name.size()), w1 = std::max(w1, r.impl.size());
  fmt::print("{:<{}}  {:<{}}  {:>5}  {:>8}  {:>26}  {:>22}  {:>20}  {:>9}  {:>4}  {:>9}  {:>5}  {:>17}\n", "case", w0, "impl", w1, "batch", "lr",
             "final val_loss", "val_acc", "steps to target", "s to tgt", "fail", "samples/s", "opt%", "drift loss / |dp|");
  for (auto& r : res.aggregates) {
    const converge_case& c = res.cases[r.case_index];
    if (r.seeds == 0) {
      fmt::print("{:<{}}  {:<{}}  {:>5}  {}\n", c.name, w0, r.impl, w1, r.batch, r.note);
      continue;
    }
    const bool tgt = c.target.has_value();
    const std::string steps = !tgt ? "-" : std::isinf(r.steps.median) ? "never" : ci_cell(r.steps, 6);
    fmt::print("{:<{}}  {:<{}}  {:>5}  {:>8}  {:>26}  {:>22}  {:>20}  {:>9}  {:>3.0f}%  {:>9}  {:>4.1f}%  {:>17}{}\n", c.name, w0, r.impl, w1, r.batch,
               fmt_g(r.lr, 3), ci_cell(r.val_loss, 4), ci_cell(r.val_acc, 4), steps, tgt && std::isfinite(r.wall.median) ? fmt_g(r.wall.median, 3) : "-",
               100 * r.fail_rate, std::isnan(r.throughput) ? "-" : fmt::format("{:.0f}", r.throughput), 100 * r.opt_share,
               std::isnan(r.drift_val) && std::isnan(r.drift_l2) ? "-" : fmt::format("{} / {}", fmt_g(r.drift_val, 2), fmt_g(r.drift_l2, 2)),
               r.note.empty() ? "" : "  " + r.note);
  }
}

std::string scaling_verdict(const batch_scaling_row& s) {
  std::string v = !s.first_reached ? "no batch size reaches the target"
                  : s.stops_falling_at ? fmt::format("stops falling at batch {}", *s.stops_falling_at)
                                       : "still falling at the largest batch";
  if (s.first_reached && *s.first_reached != s.points.front().first) v = fmt::format("reached from batch {}; {}", *s.first_reached, v);
  return v;
}

void print_section(const std::string& title, const std::vector<std::string>& lines) {
  if (lines.empty()) return;
  fmt::print("\n{}\n", title);
  for (auto& l : lines) fmt::print("  {}\n", l);
}

void print_notes(const converge_result& res) {
  std::vector<std::string> scaling, failed, skips, unmet(res.unmet);
  for (auto& s : res.scaling) {
    std::string pts;
    for (auto& [b, st] : s.points) pts += fmt::format(" {}:{}", b, std::isfinite(st) ? fmt::format("{:g}", st) : "never");
    scaling.push_back(fmt::format("{} {}: batch:steps{} -> {}", res.cases[s.case_index].name, s.impl, pts, scaling_verdict(s)));
  }
  std::set<std::string> uniq_skips;
  for (auto& x : res.runs) {
    if (x.r.verdict == "diverged") failed.push_back(fmt::format("{} {}: diverged at step {} ({})", run_label(res, x), x.r.impl, x.r.diverged_at, x.r.reason));
    if (x.r.verdict == "error") failed.push_back(fmt::format("{} {}: error: {}", run_label(res, x), x.r.impl, x.r.reason));
    if (x.r.verdict == "skip") uniq_skips.insert(fmt::format("{} {}: {}", res.cases[x.case_index].name, x.r.impl, x.r.reason));
  }
  if (!scaling.empty()) fmt::print("\nSteps to target by batch size (median over seeds; stops falling = the next batch size saves < 10%):\n");
  for (auto& l : scaling) fmt::print("  {}\n", l);
  print_section("Diverged or failed runs:", failed);
  print_section("Skipped (case impl: reason):", {uniq_skips.begin(), uniq_skips.end()});
  print_section("Expectations not met:", unmet);
}

nlohmann::json run_json(const converge_result& res, const run_record& x) {
  const converge_case& c = res.cases[x.case_index];
  const run_result& r = x.r;
  nlohmann::json j{{"case", c.name}, {"workload", c.workload.name}, {"workload_options", c.workload.describe()}, {"impl", r.impl},
                   {"batch_size", x.batch}, {"seed", x.seed}};
  j["config"] = default_registry().traits(r.impl).baseline() ? fmt::format("sgd momentum={:g} wd={:g}", c.sgd_momentum, c.config.weight_decay) : c.config.describe();
  j["lr"] = r.lr;
  j["lr_scaling"] = to_string(c.scaling);
  j["schedule"] = c.schedule.describe();
  if (c.grad_scale != 1.0) j["grad_scale"] = c.grad_scale;
  j["verdict"] = r.verdict;
  if (!r.reason.empty()) j["reason"] = r.reason;
  j["steps_budget"] = r.steps_budget;
  j["steps_done"] = r.steps_done;
  j["diverged_at_step"] = r.diverged_at >= 0 ? nlohmann::json(r.diverged_at) : nlohmann::json(nullptr);
  if (c.target) {
    j["target"] = {{"metric", c.target_is_accuracy ? "val_acc" : "val_loss"}, {"value", *c.target}};
    j["steps_to_target"] = r.steps_to_target >= 0 ? nlohmann::json(r.steps_to_target) : nlohmann::json(nullptr);
    j["wall_to_target_s"] = jnum(r.wall_to_target);
  }
  if (!r.curve.empty()) {
    auto& last = r.curve.back();
    j["final"] = {{"step", last.step}, {"train_loss", jnum(last.train_loss)}, {"val_loss", jnum(last.val_loss)}, {"val_acc", jnum(last.val_acc)}};
    j["curve_digest"] = curve_digest(r.curve);
  }
  j["train_seconds"] = r.train_s;
  j["optimizer_seconds"] = r.opt_s;
  j["eval_seconds"] = r.eval_s;
  j["samples_per_s"] = r.train_s > 0 ? jnum(static_cast<double>(r.samples) / r.train_s) : nlohmann::json(nullptr);
  j["optimizer_share"] = r.train_s > 0 ? jnum(r.opt_s / r.train_s) : nlohmann::json(nullptr);
  if (r.has_drift)
    j["drift_from_reference"] = {{"max_abs_val_loss", jnum(r.drift_val)}, {"max_abs_train_loss", jnum(r.drift_train)}, {"max_abs_val_acc", jnum(r.drift_acc)},
                                 {"param_l2", jnum(r.drift_l2)}, {"param_l2_rel", jnum(r.drift_l2_rel)}};
  if (!r.curve.empty()) j["curve_csv"] = curve_path(res, x);
  return j;
}

nlohmann::json aggregate_json(const converge_result& res, const aggregate_row& row) {
  const converge_case& c = res.cases[row.case_index];
  nlohmann::json a{{"case", c.name}, {"impl", row.impl}, {"batch_size", row.batch}, {"lr", row.lr}, {"seeds", row.seeds}};
  a["final_val_loss"] = ci_json(row.val_loss);
  if (row.has_acc) a["final_val_acc"] = ci_json(row.val_acc);
  if (c.target) {
    a["steps_to_target"] = ci_json(row.steps);
    a["wall_to_target_s"] = ci_json(row.wall);
  }
  a["failure_rate"] = row.fail_rate;
  a["samples_per_s"] = jnum(row.throughput);
  a["optimizer_share"] = jnum(row.opt_share);
  if (row.has_drift) a["drift_from_reference"] = {{"max_abs_val_loss", jnum(row.drift_val)}, {"param_l2", jnum(row.drift_l2)}};
  return a;
}

nlohmann::json scaling_json(const converge_result& res, const batch_scaling_row& s) {
  nlohmann::json sj{{"case", res.cases[s.case_index].name}, {"impl", s.impl}, {"points", nlohmann::json::array()}};
  for (auto& [b, st] : s.points) sj["points"].push_back({{"batch_size", b}, {"median_steps_to_target", jnum(st)}});
  sj["first_reaching_batch"] = s.first_reached ? nlohmann::json(*s.first_reached) : nlohmann::json(nullptr);
  sj["stops_falling_at"] = s.stops_falling_at ? nlohmann::json(*s.stops_falling_at) : nlohmann::json(nullptr);
  return sj;
}

}  // namespace

std::string curve_csv(const std::vector<curve_row>& rows) {
  std::string s = "step,epoch,lr,train_loss,val_loss,val_acc,wall_s\n";
  for (auto& r : rows)
    s += fmt::format("{},{},{},{},{},{},{:.6f}\n", r.step, num_field(r.epoch), num_field(r.lr), num_field(r.train_loss), num_field(r.val_loss),
                     num_field(r.val_acc), r.wall_s);
  return s;
}

std::string curve_digest(const std::vector<curve_row>& rows) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&](const void* p, std::size_t n) {
    auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ull;
  };
  for (auto& r : rows) {
    mix(&r.step, sizeof r.step);
    for (double v : {r.epoch, r.lr, r.train_loss, r.val_loss, r.val_acc}) mix(&v, sizeof v);
  }
  return fmt::format("{:016x}", h);
}

std::string curve_path(const converge_result& res, const run_record& x) {
  return fmt::format("curves/{}__{}__b{}__s{}.csv", file_safe(res.cases[x.case_index].name), file_safe(x.r.impl), x.batch, x.seed);
}

void print_converge_summary(const converge_result& res) {
  print_table(res);
  print_notes(res);
  if (!res.stopped_at.empty()) fmt::print("\nInterrupted: stopped at {}; results above are complete up to there.\n", res.stopped_at);
  fmt::print("\nconverge: {} runs, {} reached target, {} diverged, {} skipped, {} errors, {} expectations unmet ({:.1f} s)\n", res.runs.size(),
             res.reached(), res.count("diverged"), res.count("skip"), res.count("error"), res.unmet.size(), res.seconds);
}

nlohmann::json converge_json(const converge_result& res, const converge_options& opt) {
  nlohmann::json j = result_head("converge", res.source, opt.threads, opt.shard, res.stopped_at);
  if (res.empty_slice) j["empty_slice"] = true;
  j["drift_policy"] = "docs/convergence.md";
  j["summary"] = {{"runs", res.runs.size()}, {"reached_target", res.reached()}, {"diverged", res.count("diverged")}, {"skipped", res.count("skip")},
                  {"errors", res.count("error")}, {"expectations_unmet", res.unmet.size()}, {"seconds", res.seconds}};
  j["expectations_unmet"] = res.unmet;
  j["runs"] = nlohmann::json::array();
  for (auto& x : res.runs) j["runs"].push_back(run_json(res, x));
  j["aggregates"] = nlohmann::json::array();
  for (auto& a : res.aggregates)
    if (a.seeds > 0) j["aggregates"].push_back(aggregate_json(res, a));
  j["batch_scaling"] = nlohmann::json::array();
  for (auto& s : res.scaling) j["batch_scaling"].push_back(scaling_json(res, s));
  return j;
}

void write_curves(const converge_result& res, const std::filesystem::path& out) {
  for (auto& x : res.runs)
    if (!x.r.curve.empty()) write_file_atomic(out / curve_path(res, x), curve_csv(x.r.curve));
}

void write_converge_outputs(const converge_result& res, const converge_options& opt) {
  if (opt.tensorboard) write_converge_tensorboard(res, *opt.tensorboard);
  if (!opt.out) return;
  write_curves(res, *opt.out);
  auto path = *opt.out / "converge.json";
  write_json_atomic(path, converge_json(res, opt));
  fmt::print("wrote {} and {} curves under {}\n", path.string(), res.runs.size() - static_cast<std::size_t>(res.count("skip")), (*opt.out / "curves").string());
}

}  // namespace adambench
