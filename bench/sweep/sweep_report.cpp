// Reporters of the sweep runner: they read sweep_result only (sweep/sweep.h).
#include "core/results.h"
#include "shared/context.h"
#include "shared/report_util.h"
#include "sweep/sweep.h"

#include <fmt/format.h>

namespace adambench {

using namespace report_util;

namespace {

nlohmann::json value_json(const factor_value& f) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, f.v);
}

nlohmann::json settings_json(const std::vector<std::pair<std::string, factor_value>>& s) {
  nlohmann::json j = nlohmann::json::object();
  for (auto& [k, v] : s) j[k] = value_json(v);
  return j;
}

nlohmann::json point_json(const sweep_result& res, const point_summary& s) {
  const sweep_point& p = res.points[s.point];
  const converge_case& c = p.c;
  nlohmann::json j{{"study", res.suite.studies[p.study].name}, {"point", c.name}, {"is_base", p.is_base}, {"settings", settings_json(p.settings)},
                   {"impl", s.impl}, {"workload", c.workload.name}, {"workload_options", c.workload.describe()}, {"config", c.config.describe()},
                   {"batch_size", c.batch_sizes[0]}, {"schedule", c.schedule.describe()}, {"seeds", s.seeds}};
  if (c.grad_scale != 1.0) j["grad_scale"] = c.grad_scale;
  if (!s.skip_reason.empty() && s.seeds == 0) j["skip_reason"] = s.skip_reason;
  j["interval_method"] = interval_method(s.seeds);
  j["final_train_loss"] = ci_json(s.final_train_loss);
  j["final_val_loss"] = ci_json(s.final_val_loss);
  if (!std::isnan(s.final_val_acc.median)) j["final_val_acc"] = ci_json(s.final_val_acc);
  j["generalization_gap"] = ci_json(s.gap);
  if (c.target) {
    j["target"] = {{"metric", c.target_is_accuracy ? "val_acc" : "val_loss"}, {"value", *c.target}};
    j["steps_to_target"] = ci_json(s.steps_to_target);
    j["time_to_target_s"] = ci_json(s.time_to_target);
  }
  j["diverged"] = s.diverged;
  j["divergence_rate"] = s.seeds ? jnum(static_cast<double>(s.diverged) / s.seeds) : nlohmann::json(nullptr);
  j["diverged_at_steps"] = s.diverged_at;
  j["runs"] = nlohmann::json::array();
  for (auto i : s.runs) {
    auto& x = res.conv.runs[i];
    const curve_row* last = x.r.curve.empty() ? nullptr : &x.r.curve.back();
    j["runs"].push_back({{"seed", x.seed}, {"verdict", x.r.verdict}, {"steps_done", x.r.steps_done},
                         {"diverged_at_step", x.r.diverged_at >= 0 ? nlohmann::json(x.r.diverged_at) : nlohmann::json(nullptr)},
                         {"final_train_loss", jnum(last ? last->train_loss : NAN)}, {"final_val_loss", jnum(last ? last->val_loss : NAN)},
                         {"final_val_acc", jnum(last ? last->val_acc : NAN)}, {"curve_csv", curve_path(res.conv, x)},
                         {"curve_digest", curve_digest(x.r.curve)}});
  }
  return j;
}

nlohmann::json claim_json(const sweep_result& res, const claim_result& c) {
  const sweep_study& st = res.suite.studies[c.study];
  const sweep_claim& cl = st.claims[c.claim];
  nlohmann::json j{{"study", st.name}, {"advice", cl.advice}, {"kind", cl.kind}, {"compared", c.compared}, {"impl", c.impl},
                   {"metric", cl.metric}, {"better", cl.higher_is_better ? "higher" : "lower"}};
  if (cl.kind == "compare") j["a"] = settings_json(cl.a), j["b"] = settings_json(cl.b), j["effect_kind"] = cl.relative ? "relative" : "absolute";
  else j["effect_kind"] = "slope", j["scaling_rules"] = {{"linear", 1.0}, {"sqrt", 0.5}};
  j["min_effect"] = cl.min_effect;
  j["seeds"] = c.per_seed.size();
  j["per_seed_effect"] = nlohmann::json::array();
  for (double e : c.per_seed) j["per_seed_effect"].push_back(jnum(e));
  j["effect"] = ci_json(c.effect);
  j["interval_method"] = interval_method(static_cast<int>(c.per_seed.size()));
  j["verdict"] = c.verdict;
  j["why"] = c.why;
  j["figure"] = st.name;  // the report draws one figure per study, named after it
  return j;
}

}  // namespace

void print_sweep_summary(const sweep_result& res) {
  fmt::print("Sweep: median over seeds [bootstrap 95% interval]; gap = val_loss - train_loss\n");
  std::size_t w = 5;
  for (auto& s : res.summaries) w = std::max(w, res.points[s.point].c.name.size());
  fmt::print("{:<{}}  {:<14}  {:>5}  {:>26}  {:>26}  {:>22}  {:>22}  {:>8}\n", "point", w, "impl", "seeds", "final val_loss", "final train_loss", "gap",
             "val_acc", "diverged");
  for (auto& s : res.summaries) {
    if (s.seeds == 0) {
      fmt::print("{:<{}}  {:<14}  skip: {}\n", res.points[s.point].c.name, w, s.impl, s.skip_reason);
      continue;
    }
    fmt::print("{:<{}}  {:<14}  {:>5}  {:>26}  {:>26}  {:>22}  {:>22}  {:>8}\n", res.points[s.point].c.name, w, s.impl, s.seeds,
               ci_cell(s.final_val_loss, 4), ci_cell(s.final_train_loss, 4), ci_cell(s.gap, 3), ci_cell(s.final_val_acc, 4),
               fmt::format("{}/{}", s.diverged, s.seeds));
  }
  if (!res.claims.empty()) fmt::print("\nClaims (effect > 0 favours the advice; rule: docs/tuning.md):\n");
  for (auto& c : res.claims) {
    const sweep_claim& cl = res.suite.studies[c.study].claims[c.claim];
    fmt::print("  {:<18} {:<20} effect {} over {} seeds: {}  ({})\n    {}: {}\n", res.suite.studies[c.study].name, c.verdict, ci_cell(c.effect, 3),
               c.per_seed.size(), cl.metric, c.why, cl.advice, c.compared);
  }
  if (!res.conv.stopped_at.empty()) fmt::print("\nInterrupted: stopped at {}; results above are complete up to there.\n", res.conv.stopped_at);
  fmt::print("\nsweep: {} points, {} runs, {} diverged, {} skipped, {} errors, {} claims ({:.1f} s)\n", res.points.size(), res.conv.runs.size(),
             res.conv.count("diverged"), res.conv.count("skip"), res.conv.count("error"), res.claims.size(), res.conv.seconds);
}

nlohmann::json sweep_json(const sweep_result& res, const sweep_options& opt) {
  nlohmann::json j = result_head("sweep", res.suite.source, opt.conv.threads, opt.shard, res.conv.stopped_at);
  if (res.empty_slice) j["empty_slice"] = true;
  j["verdict_rule"] = verdict_rule();
  j["summary"] = {{"points", res.points.size()}, {"runs", res.conv.runs.size()}, {"diverged", res.conv.count("diverged")},
                  {"skipped", res.conv.count("skip")}, {"errors", res.conv.count("error")}, {"seconds", res.conv.seconds}};
  j["studies"] = nlohmann::json::array();
  for (auto& st : res.suite.studies) {
    nlohmann::json f = nlohmann::json::object();
    for (auto& fac : st.factors) {
      f[fac.name] = nlohmann::json::array();
      for (auto& v : fac.values) f[fac.name].push_back(value_json(v));
    }
    j["studies"].push_back({{"name", st.name}, {"mode", mode_name(st)}, {"workload", st.base.workload.name}, {"factors", f}});
  }
  j["points"] = nlohmann::json::array();
  for (auto& s : res.summaries) j["points"].push_back(point_json(res, s));
  j["claims"] = nlohmann::json::array();
  for (auto& c : res.claims) j["claims"].push_back(claim_json(res, c));
  return j;
}

void write_sweep_outputs(const sweep_result& res, const sweep_options& opt) {
  if (opt.conv.tensorboard) write_sweep_tensorboard(res, *opt.conv.tensorboard);
  if (!opt.conv.out) return;
  write_curves(res.conv, *opt.conv.out);
  const auto path = *opt.conv.out / "sweep.json";
  write_json_atomic(path, sweep_json(res, opt));
  fmt::print("wrote {} and the curves under {}\n", path.string(), (*opt.conv.out / "curves").string());
}

}  // namespace adambench
