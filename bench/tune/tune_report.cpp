// Reporters of the tune runner: the plan and summary on the console, DIR/tune.md (verdict first),
// DIR/tune.json, DIR/tuned.toml, the curves and the TensorBoard event files. They read tune_result only.
#include "core/results.h"
#include "shared/report_util.h"
#include "tune/tune.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sstream>

namespace adambench {

using namespace report_util;
namespace fs = std::filesystem;

namespace {

std::string duration_text(double s) {
  if (!std::isfinite(s)) return "?";
  if (s < 60) return fmt::format("{:.0f} s", s);
  if (s < 3600) return fmt::format("{}m{:02d}s", static_cast<int>(s / 60), static_cast<int>(s) % 60);
  return fmt::format("{}h{:02d}m", static_cast<int>(s / 3600), static_cast<int>(s / 60) % 60);
}

std::string pct(const stats::median_ci& e) {
  if (std::isnan(e.median)) return "-";
  auto p = [](double x) { return std::isinf(x) ? std::string(x > 0 ? "+inf" : "-inf") : fmt::format("{:+.1f}%", 100 * x); };
  return fmt::format("{} [{}, {}]", p(e.median), p(e.lo), p(e.hi));
}

// The tuned schedule with t_max resolved to the run's length, as the runner ran it.
schedule_spec tuned_schedule(const tune_result& r) {
  schedule_spec s = r.recommended.schedule;
  if (r.recommended.t_max_is_run_length) s.t_max = std::max<std::int64_t>(r.recommended_steps, s.warmup + 1);
  return s;
}

std::int64_t eval_interval(const tune_result& r) {
  const auto& c = r.recommended;
  return c.eval_every > 0 ? c.eval_every : std::max<std::int64_t>(1, r.recommended_steps / c.evals);
}

const tune_recommendation* rec_of(const tune_result& r, const std::string& factor) {
  for (auto& x : r.recs)
    if (x.factor == factor) return &x;
  return nullptr;
}

std::string py(double x) { return fmt::format("{:.6g}", x); }
// Exact (shortest round-trip): tuned.toml reproduces the measured runs bit for bit.
std::string exact(double x) { return fmt::format("{}", x); }

std::string toml_string(const std::string& s) {
  std::ostringstream os;
  os << toml::value<std::string>(s);
  return os.str();
}

std::string optimizer_name(const adam_config& c) { return c.kind == algo::adamw ? "AdamW" : "Adam"; }

}  // namespace

std::string tune_verdict(const tune_result& r) {
  if (r.sweep.points.empty()) return "nothing ran: no recommendation";
  const auto& c = r.recommended;
  std::string v = fmt::format("{}{}(lr={}, betas=({}, {}), eps={:g}, weight_decay={:g}), {}, batch {}, {} steps", 
                              r.sweep.conv.stopped_at.empty() ? "" : "partial (interrupted): ", optimizer_name(c.config), py(c.config.lr),
                              py(c.config.beta1), py(c.config.beta2), c.config.eps, c.config.weight_decay,
                              c.schedule.kind == schedule_kind::constant ? "constant lr" : std::string(to_string(c.schedule.kind)) + " schedule",
                              c.batch_sizes[0], r.recommended_steps);
  if (auto* lr = rec_of(r, "lr"))
    v += fmt::format("; lr {} against the default {}: {} ({})", lr->best_text.substr(3), lr->default_text.substr(3), pct(lr->vs_default.effect),
                     lr->vs_default.verdict);
  std::vector<std::string> changed;
  for (auto& x : r.recs)
    if (x.applied && x.factor != "lr")
      changed.push_back(x.factor == "batch_size" ? fmt::format("{} (lr scaled to {})", x.best_text, py(c.config.lr)) : x.best_text);
  v += changed.empty() ? "; no other change beat its default by more than the noise" : fmt::format("; changed: {}", fmt::join(changed, ", "));
  return v;
}

std::string tune_pytorch_snippet(const tune_result& r) {
  const auto& c = r.recommended;
  const schedule_spec s = tuned_schedule(r);
  std::string o = "import torch\n\n";
  o += fmt::format("optimizer = torch.optim.{}(model.parameters(), lr={}, betas=({}, {}), eps={:g}, weight_decay={}{})\n", optimizer_name(c.config),
                   py(c.config.lr), py(c.config.beta1), py(c.config.beta2), c.config.eps, py(c.config.weight_decay), c.config.amsgrad ? ", amsgrad=True" : "");
  switch (s.kind) {
    case schedule_kind::constant: o += "# a constant learning rate: no scheduler\n"; break;
    case schedule_kind::step:
      o += fmt::format("scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size={}, gamma={})\n", s.step_size, py(s.gamma));
      break;
    case schedule_kind::cosine:
      o += fmt::format("scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max={}, eta_min={})\n", s.t_max, py(s.eta_min));
      break;
    case schedule_kind::warmup_cosine:
      o += fmt::format("warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor={}, end_factor=1.0, total_iters={})\n", py(s.start_factor), s.warmup);
      o += fmt::format("cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max={}, eta_min={})\n", s.t_max - s.warmup, py(s.eta_min));
      o += fmt::format("scheduler = torch.optim.lr_scheduler.SequentialLR(optimizer, schedulers=[warmup, cosine], milestones=[{}])\n", s.warmup);
      break;
    case schedule_kind::plateau:
      o += fmt::format("scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode=\"min\", factor={}, patience={}, threshold={}, "
                       "cooldown={}, min_lr={})\n",
                       py(s.factor), s.patience, py(s.threshold), s.cooldown, py(s.min_lr));
      break;
  }
  o += fmt::format("# batch size {} (the DataLoader's batch_size); {} optimizer steps = {:.3g} passes over the {} training samples\n", c.batch_sizes[0],
                   r.recommended_steps, static_cast<double>(r.recommended_steps * c.batch_sizes[0]) / static_cast<double>(std::max<std::int64_t>(1, r.in.n_train)),
                   r.in.n_train);
  if (s.kind == schedule_kind::plateau)
    o += fmt::format("# every step: loss.backward(); optimizer.step(); optimizer.zero_grad()\n"
                     "# every {} steps, after evaluating: scheduler.step(val_loss)\n",
                     eval_interval(r));
  else if (s.kind != schedule_kind::constant)
    o += "# every step: loss.backward(); optimizer.step(); scheduler.step(); optimizer.zero_grad()\n";
  return o;
}

std::string tune_converge_case(const tune_result& r) {
  const auto& c = r.recommended;
  const schedule_spec s = tuned_schedule(r);
  std::string o = fmt::format("# The settings `adambench tune` recommends, as a convergence case: adambench converge tuned.toml\n[converge]\n"
                              "impls = [{}]\nseeds = [{}]\n\n[[converge.case]]\nname = \"tuned\"\nworkload = \"torchscript\"\n",
                              fmt::join([&] { std::vector<std::string> v; for (auto& i : r.settings.impls) v.push_back(toml_string(i)); return v; }(), ", "),
                              fmt::join(r.settings.seeds, ", "));
  o += fmt::format("options = {{ model = {}, data = {}{} }}\n", toml_string(r.in.model), toml_string(r.in.data),
                   r.in.task.empty() ? "" : ", task = " + toml_string(r.in.task));
  o += fmt::format("algo = \"{}\"\nlr = {}\nbetas = [{}, {}]\neps = {}\nweight_decay = {}\n", to_string(c.config.kind), exact(c.config.lr), exact(c.config.beta1),
                   exact(c.config.beta2), c.config.eps, exact(c.config.weight_decay));
  if (c.config.amsgrad) o += "amsgrad = true\n";
  o += fmt::format("batch_sizes = [{}]\nsteps = {}\neval_every = {}\n", c.batch_sizes[0], r.recommended_steps, eval_interval(r));
  o += fmt::format("schedule = \"{}\"\n", to_string(s.kind));
  switch (s.kind) {
    case schedule_kind::constant: break;
    case schedule_kind::step: o += fmt::format("step_size = {}\ngamma = {}\n", s.step_size, exact(s.gamma)); break;
    case schedule_kind::cosine: o += fmt::format("t_max = {}\neta_min = {}\n", s.t_max, exact(s.eta_min)); break;
    case schedule_kind::warmup_cosine:
      o += fmt::format("warmup = {}\nstart_factor = {}\nt_max = {}\neta_min = {}\n", s.warmup, exact(s.start_factor), s.t_max, exact(s.eta_min));
      break;
    case schedule_kind::plateau:
      o += fmt::format("factor = {}\npatience = {}\nthreshold = {}\ncooldown = {}\nmin_lr = {}\n", exact(s.factor), s.patience, exact(s.threshold), s.cooldown,
                       exact(s.min_lr));
      break;
  }
  return o;
}

namespace {

// What a reader must know beside the numbers: edges, disagreeing seeds, the rules behind the stages.
std::vector<std::string> tune_notes(const tune_result& r) {
  std::vector<std::string> n;
  if (!r.sweep.conv.stopped_at.empty())
    n.push_back(fmt::format("Interrupted at {}: every finished run is kept under runs/; continue with adambench tune --model {} --data {} --resume DIR",
                            r.sweep.conv.stopped_at, r.in.model, r.in.data));
  for (auto& x : r.recs) {
    if (!x.seeds_agree && !x.baseline)
      n.push_back(fmt::format("{}: the seeds disagree on the best value ({}; a numeric grid allows one step): inconclusive; more seeds "
                              "(--seeds 5) would tell.",
                              x.factor, x.per_seed_best));
  }
  if (!std::isnan(r.matched_wd))
    n.push_back(fmt::format("Weight decay at matched strength: Adam + L2 with coefficient {:g} against AdamW with weight_decay {:.4g} = {:g} / {:.4g}, the "
                            "median over the weights of the RMS gradient over {} steps at the start. Adam divides the L2 term l2 * p by sqrt(v) "
                            "(about the RMS gradient), so it shrinks each weight by about lr * l2 / rms per step; AdamW shrinks it by lr * wd: equal "
                            "shrinking at the start needs wd = l2 / rms. (The same value would not be a fair match: with gradients of size "
                            "{:.2g}, Adam's L2 would act {:.3g} times as strongly.)",
                            r.matched_l2, r.matched_wd, r.matched_l2, r.timing.grad_rms, r.timing.steps, r.timing.grad_rms,
                            r.timing.grad_rms > 0 ? 1 / r.timing.grad_rms : NAN));
  for (auto& st : r.sweep.suite.studies)
    for (auto& f : st.factors)
      if (f.name == "batch_size" && st.base.scaling != lr_scaling::none)
        n.push_back(fmt::format("Batch sizes ({}) ran at the same number of epochs (the same samples), with the lr scaled by the {} rule from batch {}: "
                                "lr(B) = lr * {}. The square-root rule is Adam's (Malladi et al., 2022: it keeps the SDE of adaptive methods), "
                                "the linear rule SGD's (Goyal et al., 2017).",
                                st.name, to_string(st.base.scaling), st.base.base_batch,
                                st.base.scaling == lr_scaling::sqrt ? "sqrt(B / base)" : "(B / base)"));
  if (std::count_if(r.recs.begin(), r.recs.end(), [](auto& x) { return x.applied && x.factor != "lr"; }) > 1)
    n.push_back("Each change was measured alone, around the best lr; together they were not measured: check the tuned case (tuned.toml) with "
                "adambench converge.");
  n.push_back("The best value of each factor is chosen on the same seeds it is then compared on, so an improvement just above min_effect is "
              "optimistic; 'holds here' needs the whole interval above 0.");
  for (auto& x : r.notes) n.push_back(x);
  return n;
}

nlohmann::json rec_json(const tune_result& r, const tune_recommendation& x) {
  const auto& best = r.sweep.summaries[x.best];
  nlohmann::json j{{"factor", x.factor}, {"stage", x.stage}, {"baseline", x.baseline}, {"best", x.best_text},
                   {"best_point", r.sweep.points[best.point].c.name}, {"best_metric", ci_json([&] {
                      return r.metric == "final_train_loss" ? best.final_train_loss : r.metric == "final_val_acc" ? best.final_val_acc : best.final_val_loss;
                    }())},
                   {"default", x.default_text}, {"grid", x.grid}, {"at_edge", x.at_edge}, {"seeds_agree", x.seeds_agree},
                   {"per_seed_best", x.per_seed_best}, {"applied", x.applied}};
  if (x.fallback) {
    const auto& d = r.sweep.summaries[*x.fallback];
    j["default_point"] = r.sweep.points[d.point].c.name;
    j["default_metric"] = ci_json(r.metric == "final_train_loss" ? d.final_train_loss : r.metric == "final_val_acc" ? d.final_val_acc : d.final_val_loss);
  }
  j["per_seed_effect"] = nlohmann::json::array();
  for (double e : x.vs_default.per_seed) j["per_seed_effect"].push_back(jnum(e));
  j["effect"] = ci_json(x.vs_default.effect);
  j["seeds"] = x.vs_default.per_seed.size();
  j["interval_method"] = interval_method(static_cast<int>(x.vs_default.per_seed.size()));
  j["verdict"] = x.vs_default.verdict;
  j["why"] = x.vs_default.why;
  return j;
}

nlohmann::json plan_json(const tune_result& r) {
  const auto& s = r.settings;
  nlohmann::json stages = nlohmann::json::array();
  for (auto& c : r.estimate.stages)
    stages.push_back({{"name", c.name}, {"what", c.what}, {"points", c.points}, {"runs", c.runs}, {"reused", c.reused}, {"estimate_s", jnum(c.seconds)}});
  return {{"source", r.plan_source}, {"impls", s.impls}, {"seeds", s.seeds}, {"batch_size", s.batch}, {"steps", s.steps}, {"evals", s.evals},
          {"metric", r.metric}, {"min_effect", r.min_effect}, {"budget_s", s.budget_s ? jnum(*s.budget_s) : nlohmann::json(nullptr)},
          {"cuts", s.cuts}, {"stages", stages}, {"points", r.estimate.points}, {"runs", r.estimate.runs}, {"reused", r.estimate.reused},
          {"estimate_s", jnum(r.estimate.seconds)}};
}

}  // namespace

nlohmann::json tune_json(const tune_result& r) {
  sweep_options so;
  so.conv.threads = r.settings.threads;
  const nlohmann::json sw = sweep_json(r.sweep, so);
  nlohmann::json j = result_head("tune", r.plan_source, r.settings.threads, {1, 1}, r.sweep.conv.stopped_at);
  j["verdict"] = tune_verdict(r);
  j["model"] = {{"path", r.in.model}, {"sha256", r.in.model_sha256}, {"parameters", r.in.n_params}, {"task", r.in.task.empty() ? "auto" : r.in.task}};
  j["data"] = {{"path", r.in.data}, {"sha256", r.in.data_sha256}, {"train", r.in.n_train}};
  j["timing"] = {{"impl", r.timing.impl}, {"batch", r.timing.batch}, {"steps", r.timing.steps}, {"load_s", jnum(r.timing.load_s)},
                 {"step_s", jnum(r.timing.step_s)}, {"eval_s", jnum(r.timing.eval_s)}, {"grad_rms", jnum(r.timing.grad_rms)}};
  j["plan"] = plan_json(r);
  j["verdict_rule"] = verdict_rule();
  j["summary"] = {{"points", r.sweep.points.size()}, {"runs", r.sweep.conv.runs.size()}, {"reused", r.reused},
                  {"diverged", r.sweep.conv.count("diverged")}, {"errors", r.sweep.conv.count("error")}, {"seconds", jnum(r.seconds)}};
  j["studies"] = sw["studies"];
  j["points"] = sw["points"];
  j["claims"] = sw["claims"];
  j["recommendations"] = nlohmann::json::array();
  for (auto& x : r.recs) j["recommendations"].push_back(rec_json(r, x));
  if (!r.sweep.points.empty()) {
    const auto& c = r.recommended;
    const schedule_spec s = tuned_schedule(r);
    j["recommended"] = {{"optimizer", optimizer_name(c.config)}, {"algo", to_string(c.config.kind)}, {"lr", c.config.lr},
                        {"betas", {c.config.beta1, c.config.beta2}}, {"eps", c.config.eps}, {"weight_decay", c.config.weight_decay},
                        {"schedule", to_string(s.kind)}, {"schedule_settings", s.describe()}, {"batch_size", c.batch_sizes[0]},
                        {"steps", r.recommended_steps}};
    j["pytorch"] = tune_pytorch_snippet(r);
    j["converge_case"] = tune_converge_case(r);
  }
  if (!std::isnan(r.matched_wd))
    j["decay_matching"] = {{"rule", "AdamW weight_decay = L2 coefficient / the median over the weights of the RMS gradient at the start"},
                           {"l2", jnum(r.matched_l2)}, {"adamw_weight_decay", jnum(r.matched_wd)}, {"grad_rms", jnum(r.timing.grad_rms)}};
  j["notes"] = tune_notes(r);
  return j;
}

std::string tune_markdown(const tune_result& r) {
  std::string md = fmt::format("# adambench tune: {}\n\n**Recommended:** {}\n\n", fs::path(r.in.model).filename().string(), tune_verdict(r));
  if (!r.sweep.points.empty())
    md += fmt::format("## Ready to paste (PyTorch)\n\n```python\n{}```\n\n## The same as a convergence case (tuned.toml)\n\n```toml\n{}```\n\n",
                      tune_pytorch_snippet(r), tune_converge_case(r));
  md += fmt::format("## Each factor: its best value against the default\n\n{}: median over seeds [bootstrap 95% interval]; improvement of the best "
                    "over the default per seed ({}; > 0: the best is better), verdict by the rule below.\n\n",
                    r.metric, "relative");
  md += fmt::format("| factor | stage | best | {0} there | default | {0} there | improvement | verdict | seeds' own best | used |\n"
                    "|---|---|---|---|---|---|---|---|---|---|\n", r.metric);
  auto metric_at = [&](std::optional<std::size_t> i) {
    return i ? ci_cell(r.metric == "final_train_loss" ? r.sweep.summaries[*i].final_train_loss
                       : r.metric == "final_val_acc"  ? r.sweep.summaries[*i].final_val_acc
                                                      : r.sweep.summaries[*i].final_val_loss, 4)
             : std::string("-");
  };
  for (auto& x : r.recs)
    md += fmt::format("| {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", x.factor, x.baseline ? " (baseline)" : "", x.stage, x.best_text,
                      metric_at(x.best), x.default_text, metric_at(x.fallback), pct(x.vs_default.effect), x.vs_default.verdict, x.per_seed_best,
                      x.applied ? "yes" : "no");
  md += "\n## The advice, on this model\n\n| advice | compared | effect [95% interval] | seeds | verdict |\n|---|---|---|---|---|\n";
  for (auto& c : r.sweep.claims) {
    const sweep_claim& cl = r.sweep.suite.studies[c.study].claims[c.claim];
    md += fmt::format("| {} | {} | {} | {} | {} |\n", cl.advice, c.compared, ci_cell(c.effect, 3), c.per_seed.size(), c.verdict);
  }
  md += fmt::format("\nVerdict rule: {}\n\n## Notes\n\n", verdict_rule());
  for (auto& n : tune_notes(r)) md += "- " + n + "\n";
  md += fmt::format("\n## The plan ({})\n\n{} seeds ({}), {} steps per run at batch {}, implementation {}; estimated {}, took {} ({} runs trained, {} reused).\n\n",
                    r.plan_source, r.settings.seeds.size(), fmt::join(r.settings.seeds, ", "), r.settings.steps, r.settings.batch,
                    fmt::join(r.settings.impls, ", "), duration_text(r.estimate.seconds), duration_text(r.seconds), r.sweep.conv.runs.size() - r.reused,
                    r.reused);
  md += "| stage | values | points | runs | estimate |\n|---|---|---|---|---|\n";
  for (auto& s : r.estimate.stages) md += fmt::format("| {} | {} | {} | {} | {} |\n", s.name, s.what, s.points, s.runs, duration_text(s.seconds));
  if (!r.settings.cuts.empty()) md += fmt::format("\nCut to fit --budget {:.3g} min: {}.\n", *r.settings.budget_s / 60, fmt::join(r.settings.cuts, "; "));
  md += fmt::format("\nModel {} (sha256 {}, {} parameters); data {} (sha256 {}, {} training samples).\n", r.in.model, r.in.model_sha256, r.in.n_params,
                    r.in.data, r.in.data_sha256, r.in.n_train);
  return md;
}

void write_tune_outputs(const tune_result& r, const fs::path& dir) {
  write_curves(r.sweep.conv, dir);
  std::error_code ec;
  fs::remove_all(dir / "tensorboard", ec);  // written whole from every run, kept or new
  write_sweep_tensorboard(r.sweep, dir / "tensorboard");
  if (!r.sweep.points.empty()) write_file_atomic(dir / "tuned.toml", tune_converge_case(r));
  write_file_atomic(dir / "tune.md", tune_markdown(r));
  write_json_atomic(dir / "tune.json", tune_json(r));
}

void print_tune_plan(const tune_result& r) {
  fmt::print("tune: model {} (sha256 {}, {} parameters), data {} (sha256 {}, {} training samples)\n", r.in.model, r.in.model_sha256.substr(0, 12),
             r.in.n_params, r.in.data, r.in.data_sha256.substr(0, 12), r.in.n_train);
  fmt::print("timing ({}, {} thread{}): making the model {:.2f} s, a step {:.1f} ms at batch {}, an evaluation {:.2f} s\n", r.timing.impl,
             r.settings.threads, r.settings.threads == 1 ? "" : "s", r.timing.load_s, 1e3 * r.timing.step_s, r.timing.batch, r.timing.eval_s);
  fmt::print("plan {}: {} stages, {} points x {} seeds x {} steps at batch {}: {} runs to train{}, about {}\n", r.plan_source, r.estimate.stages.size(),
             r.estimate.points, r.settings.seeds.size(), r.settings.steps, r.settings.batch, r.estimate.runs,
             r.estimate.reused ? fmt::format(" ({} done already)", r.estimate.reused) : "", duration_text(r.estimate.seconds));
  fmt::print("  {:<14} {:>6} {:>5} {:>6} {:>9}  values\n", "stage", "points", "runs", "reused", "estimate");
  for (auto& s : r.estimate.stages)
    fmt::print("  {:<14} {:>6} {:>5} {:>6} {:>9}  {}\n", s.name, s.points, s.runs, s.reused, duration_text(s.seconds), s.what);
  if (r.settings.budget_s)
    fmt::print("budget {:.3g} min: {}\n", *r.settings.budget_s / 60, r.settings.cuts.empty() ? "the whole plan fits" : "cut: " + fmt::format("{}", fmt::join(r.settings.cuts, "; ")));
  fmt::print("(Ctrl-C stops it; finished runs stay under runs/ and --resume continues)\n");
}

void print_tune_summary(const tune_result& r) {
  fmt::print("\nrecommended: {}\n\n", tune_verdict(r));
  for (auto& x : r.recs)
    fmt::print("  {:<14} best {:<28} default {:<24} improvement {:<32} {}{}\n", x.factor, x.best_text, x.default_text, pct(x.vs_default.effect),
               x.vs_default.verdict, x.baseline ? " (baseline)" : "");
  if (!r.sweep.claims.empty()) fmt::print("\nadvice on this model:\n");
  for (auto& c : r.sweep.claims)
    fmt::print("  {:<20} {}\n", c.verdict, r.sweep.suite.studies[c.study].claims[c.claim].advice);
  if (!r.sweep.points.empty()) fmt::print("\n{}", tune_pytorch_snippet(r));
  fmt::print("\ntune: {} points, {} runs ({} reused), {} diverged, {} errors, {}\n", r.sweep.points.size(), r.sweep.conv.runs.size(), r.reused,
             r.sweep.conv.count("diverged"), r.sweep.conv.count("error"), duration_text(r.seconds));
}

}  // namespace adambench
