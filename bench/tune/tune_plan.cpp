// The tune plan: parsing suites/tune.toml, each stage's study with its base filled in, run keys,
// the cost estimate and the cuts --budget makes (tune/tune.h; docs/tuning.md).
#include "core/results.h"
#include "converge/converge_fields.h"
#include "sweep/sweep_fields.h"
#include "tune/tune.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <set>
#include <sstream>

namespace adambench {
namespace {

using namespace suite_fields;

// Keys of a stage that the tune reads; every other key is the stage's sweep study.
tune_stage parse_stage(const toml::table& t, int index) {
  tune_stage st;
  st.name = fmt::format("stage{}", index);
  if (auto n = t["name"].value<std::string>()) st.name = *n;
  for (auto& [k, v] : t) {
    const std::string key(k.str());
    if (key == "name") continue;
    if (key == "refine") {
      auto* r = v.as_table();
      if (!r || r->size() != 1) throw input_error("refine: expected one factor and its ratios, e.g. refine = { lr = [0.5, 1, 2] }");
      st.refine_factor = std::string(r->begin()->first.str());
      for (auto& e : one_or_list(r->begin()->second, "refine." + st.refine_factor, num)) {
        if (!(e > 0) || !std::isfinite(e)) throw input_error(fmt::format("refine.{}: ratio {} must be > 0", st.refine_factor, e));
        st.refine.push_back(e);
      }
    } else if (key == "pick") {
      st.pick = str(v, key);
      if (st.pick != "lr" && st.pick != "eps" && st.pick != "weight_decay")
        throw input_error(fmt::format("pick: '{}' must be lr, eps or weight_decay (a number the later stages start from)", st.pick));
    } else if (key == "short_vary") {
      if (!v.as_table()) throw input_error("short_vary: expected a table of factors, like vary");
      st.short_vary = *v.as_table();
    } else if (key == "run_fractions") {
      auto* r = v.as_table();
      if (!r) throw input_error("run_fractions: expected a table, e.g. run_fractions = { warmup = 0.1 }");
      for (auto& [fk, fv] : *r) st.run_fractions.emplace_back(std::string(fk.str()), num_in(fv, "run_fractions." + std::string(fk.str()), 0, 1));
    } else if (key == "same_epochs") st.same_epochs = boolean(v, key);
    else if (key == "baseline") st.baseline = boolean(v, key);
    else if (key == "priority") st.priority = static_cast<int>(integer_in(v, key, 0, 100));
    else st.study.insert_or_assign(key, v);
  }
  if (!st.refine_factor.empty() && st.study.contains("vary")) throw input_error("refine: not with vary (refine makes the stage's vary)");
  if (!st.refine_factor.empty() && st.refine_factor != "lr" && st.refine_factor != "eps" && st.refine_factor != "weight_decay")
    throw input_error(fmt::format("refine: '{}' must be lr, eps or weight_decay", st.refine_factor));
  return st;
}

toml::array to_array(const auto& xs) {
  toml::array a;
  for (auto& x : xs) a.push_back(x);
  return a;
}

// The plan's base value of factor `f` (the [tune] table's, else Adam's default).
double base_value(const tune_plan& plan, const std::string& f) {
  if (auto v = plan.base[f].value<double>()) return *v;
  const adam_config d;
  return f == "lr" ? d.lr : f == "eps" ? d.eps : d.weight_decay;
}

// Epochs that give exactly `steps` steps at batch size `batch` (the runner's ceil(epochs n / batch)).
double epochs_for(std::int64_t steps, std::int64_t batch, std::int64_t n) {
  double e = static_cast<double>(steps) * static_cast<double>(batch) / static_cast<double>(n);
  const auto at = [&](double x) { return static_cast<std::int64_t>(std::ceil(x * static_cast<double>(n) / static_cast<double>(batch))); };
  while (at(e) > steps) e = std::nextafter(e, 0.0);
  while (at(e) < steps) e = std::nextafter(e, INFINITY);
  return e;
}

// Points' weight_decay = "matched": the AdamW decay matched to the listed Adam + L2 coefficient.
void fill_matched_decay(toml::table& t, double grad_rms) {
  auto* points = t["points"].as_array();
  if (!points) return;
  std::optional<double> l2;
  for (auto& p : *points)
    if (auto* pt = p.as_table(); pt && (*pt)["algo"].value<std::string>() == "adam")
      if (auto wd = (*pt)["weight_decay"].value<double>()) l2 = *wd;
  for (auto& p : *points) {
    auto* pt = p.as_table();
    if (!pt || (*pt)["weight_decay"].value<std::string>() != "matched") continue;
    if (!l2) throw input_error("points: weight_decay = \"matched\" needs a point with algo = \"adam\" and a numeric weight_decay (its L2 coefficient)");
    pt->insert_or_assign("weight_decay", matched_adamw_decay(*l2, grad_rms));
  }
}

}  // namespace

double matched_adamw_decay(double l2, double grad_rms) {
  // Adam + L2 adds l2 * p to the gradient, and Adam divides it by sqrt(v) ~ grad_rms: each step
  // shrinks p by about lr * l2 / grad_rms. AdamW shrinks p by lr * wd per step.
  return std::isfinite(grad_rms) && grad_rms > 0 ? l2 / grad_rms : l2;
}

tune_plan parse_tune_plan(const std::string& text, const std::string& source) {
  toml::table root = suite_fields::parse(text, source);
  tune_plan plan;
  plan.source = source;
  plan.text = text;
  auto* tt = root["tune"].as_table();
  if (!tt) throw input_error(fmt::format("{}: no [tune] table", source));
  for (auto& [k, v] : root)
    if (k.str() != "tune") throw input_error(fmt::format("{}: {}: unknown table (a plan has [tune] and [[tune.stage]])", source, k.str()));
  int index = 0;
  for (auto& [k, v] : *tt) {
    const std::string key(k.str());
    if (key == "stage") {
      auto* a = v.as_array();
      if (!a || a->empty()) throw input_error(fmt::format("{}: tune.stage: expected [[tune.stage]] tables", source));
      for (auto& e : *a) {
        ++index;
        auto* et = e.as_table();
        if (!et) throw input_error(fmt::format("{}: tune.stage {}: not a table", source, index));
        try {
          plan.stages.push_back(parse_stage(*et, index));
        } catch (const input_error& err) {
          throw input_error(fmt::format("{}: tune.stage {}: {}", source, (*et)["name"].value<std::string>().value_or(fmt::format("{}", index)), err.what()));
        }
      }
      continue;
    }
    try {
      if (key == "impls") plan.impls = str_list(v, key);
      else if (key == "seeds") plan.seeds = seed_list(v, key);
      else if (key == "min_steps") plan.min_steps = positive(v, key);
      else if (key == "min_effect") plan.min_effect = num_in(v, key, 0, 1e300);
      else if (key == "metric") {
        plan.metric = str(v, key);
        if (plan.metric != "final_val_loss" && plan.metric != "final_train_loss" && plan.metric != "final_val_acc")
          throw input_error(fmt::format("'{}' must be final_val_loss, final_train_loss or final_val_acc", plan.metric));
      } else if (key == "workload" || key == "options" || key == "name") {
        throw input_error("not a plan field (the model and data come from --model and --data)");
      } else {
        converge_case probe;
        apply_converge_field(probe, key, v);  // a bad [[converge.case]] field fails here, named
        plan.base.insert_or_assign(key, v);
      }
    } catch (const input_error& e) {
      throw input_error(fmt::format("{}: tune.{}: {}", source, key, e.what()));
    }
  }
  try {  // the base case as a whole (lr > 0, a schedule that fits, ...)
    converge_case probe;
    probe.workload.name = "torchscript";
    for (auto& [k, v] : plan.base) apply_converge_field(probe, std::string(k.str()), v);
    finish_converge_case(probe);
  } catch (const input_error& e) {
    throw input_error(fmt::format("{}: tune: {}", source, e.what()));
  }
  if (plan.stages.empty()) throw input_error(fmt::format("{}: no [[tune.stage]] entries", source));
  if (!plan.base.contains("steps") && !plan.base.contains("epochs"))
    throw input_error(fmt::format("{}: tune: give steps or epochs (the length of every run at the base batch size)", source));
  if (auto* b = plan.base["batch_sizes"].as_array(); b && b->size() != 1)
    throw input_error(fmt::format("{}: tune.batch_sizes: one base batch size (a stage varies batch_size)", source));
  if (plan.seeds.size() < 3) throw input_error(fmt::format("{}: tune.seeds: at least 3 seeds (verdicts need 3 paired seeds)", source));
  if (plan.stages.front().priority != 0) throw input_error(fmt::format("{}: the first stage has priority 0 (it is never cut)", source));
  std::set<std::string> names;
  for (auto& st : plan.stages)
    if (!names.insert(st.name).second) throw input_error(fmt::format("{}: two stages named {}", source, st.name));
  // Every stage as a study, for a stand-in model: a bad stage fails now, not after an hour.
  tune_inputs stand_in{"model.pt", "data.npz", "", "", "", 1000, 100, 0};
  tune_settings set{plan.impls, plan.seeds, 32, 100, 10, {}, {}, {}, std::nullopt, 1};
  tune_picks picks;
  for (auto& st : plan.stages) {
    try {
      tune_stage_study(plan, st, set, stand_in, picks, 1.0);
      if (st.short_vary) {
        tune_settings s2 = set;
        s2.short_stages.push_back(st.name);
        tune_stage_study(plan, st, s2, stand_in, picks, 1.0);
      }
    } catch (const input_error& e) {
      throw input_error(fmt::format("{}: tune.stage {}: {}", source, st.name, e.what()));
    }
    if (!st.pick.empty()) picks[st.pick] = base_value(plan, st.pick);
  }
  return plan;
}

sweep_study tune_stage_study(const tune_plan& plan, const tune_stage& st, const tune_settings& set, const tune_inputs& in,
                             const tune_picks& picks, double grad_rms) {
  toml::table t;
  t.insert("workload", "torchscript");
  toml::table opts{{"model", in.model}, {"data", in.data}};
  if (!in.task.empty()) opts.insert("task", in.task);
  t.insert("options", opts);
  for (auto& [k, v] : plan.base)
    if (k.str() != "steps" && k.str() != "epochs" && k.str() != "batch_sizes") t.insert_or_assign(k, v);
  t.insert_or_assign("batch_sizes", toml::array{set.batch});
  t.insert_or_assign("base_batch", set.batch);  // lr_scaling scales from the base batch size
  if (st.same_epochs) t.insert_or_assign("epochs", epochs_for(set.steps, set.batch, in.n_train));
  else t.insert_or_assign("steps", set.steps);
  for (auto& [k, v] : picks) t.insert_or_assign(k, v);
  for (auto& [k, v] : st.study) t.insert_or_assign(k, v);
  if (st.short_vary && std::find(set.short_stages.begin(), set.short_stages.end(), st.name) != set.short_stages.end())
    t.insert_or_assign("vary", *st.short_vary);
  if (!st.refine_factor.empty()) {
    const auto it = picks.find(st.refine_factor);
    const double around = it != picks.end() ? it->second : base_value(plan, st.refine_factor);
    toml::array values;
    for (double r : st.refine) values.push_back(around * r);
    t.insert_or_assign("vary", toml::table{{st.refine_factor, values}});
  }
  for (auto& [k, f] : st.run_fractions) t.insert_or_assign(k, std::max<std::int64_t>(1, std::llround(f * static_cast<double>(set.steps))));
  fill_matched_decay(t, grad_rms);
  t.insert_or_assign("impls", to_array(set.impls));
  toml::array seeds;
  for (auto s : set.seeds) seeds.push_back(static_cast<std::int64_t>(s));
  t.insert_or_assign("seeds", seeds);
  return parse_sweep_study(t, st.name);
}

std::string tune_run_key(const converge_case& c, std::int64_t batch, std::uint64_t seed, const std::string& impl, const tune_inputs& in,
                         int threads) {
  const std::int64_t budget = c.steps > 0 ? c.steps
                                          : static_cast<std::int64_t>(std::ceil(c.epochs * static_cast<double>(in.n_train) / static_cast<double>(batch)));
  const std::int64_t eval_every = c.eval_every > 0 ? c.eval_every : std::max<std::int64_t>(1, budget / c.evals);
  adam_config cfg = config_for(c, impl);
  const double lr = scaled_lr(cfg.lr, c.scaling, batch, c.base_batch);
  schedule_spec ss = c.schedule;
  if (c.t_max_is_run_length) ss.t_max = std::max<std::int64_t>(budget, ss.warmup + 1);
  // describe() rounds to 4-6 digits: the parameters its kind uses, exactly.
  std::string sched = ss.describe();
  if (ss.kind == schedule_kind::step) sched += fmt::format(" gamma={:.17g}", ss.gamma);
  if (ss.kind == schedule_kind::cosine || ss.kind == schedule_kind::warmup_cosine) sched += fmt::format(" eta_min={:.17g}", ss.eta_min);
  if (ss.kind == schedule_kind::warmup_cosine) sched += fmt::format(" start_factor={:.17g}", ss.start_factor);
  if (ss.kind == schedule_kind::plateau)
    sched += fmt::format(" factor={:.17g} threshold={:.17g} min_lr={:.17g} eps={:.17g}", ss.factor, ss.threshold, ss.min_lr, ss.plateau_eps);
  return fmt::format("model={} data={} task={} impl={} seed={} batch={} algo={} lr={:.17g} betas=({:.17g},{:.17g}) eps={:.17g} wd={:.17g} "
                     "amsgrad={} schedule=[{}] steps={} eval_every={} grad_scale={:.17g} explode={:.17g} target={} threads={}",
                     in.model_sha256, in.data_sha256, in.task, impl, seed, batch, to_string(cfg.kind), lr, cfg.beta1, cfg.beta2, cfg.eps,
                     cfg.weight_decay, cfg.amsgrad, sched, budget, eval_every, c.grad_scale,
                     c.explode_factor, c.target ? fmt::format("{:.17g}{}", *c.target, c.target_is_accuracy ? "acc" : "loss") : "none", threads);
}

double tune_run_seconds(const converge_case& c, std::int64_t batch, const tune_timing& t, std::int64_t n_train) {
  const std::int64_t budget = c.steps > 0 ? c.steps
                                          : static_cast<std::int64_t>(std::ceil(c.epochs * static_cast<double>(n_train) / static_cast<double>(batch)));
  const std::int64_t every = c.eval_every > 0 ? c.eval_every : std::max<std::int64_t>(1, budget / c.evals);
  const std::int64_t evals = 1 + budget / every + (budget % every ? 1 : 0);
  const double per_sample = t.batch > 0 ? t.step_s / static_cast<double>(t.batch) : 0;
  return t.load_s + static_cast<double>(budget) * per_sample * static_cast<double>(batch) + static_cast<double>(evals) * t.eval_s;
}

namespace {

std::string vary_text(const sweep_study& s) {
  if (!s.listed.empty()) return fmt::format("{} listed points", s.listed.size());
  std::string out;
  for (auto& f : s.factors) {
    std::vector<std::string> v;
    for (auto& x : f.values) v.push_back(x.label);
    out += fmt::format("{}{}: {}", out.empty() ? "" : "; ", f.name, fmt::join(v, ", "));
  }
  return out;
}

// The stand-in pick of a stage: the grid value of `factor` nearest (in log) to the current one.
double stand_in_pick(const sweep_study& s, const std::string& factor, double current) {
  double best = current, dist = INFINITY;
  for (auto& f : s.factors)
    if (f.name == factor)
      for (auto& v : f.values)
        if (auto* d = std::get_if<double>(&v.v); d && *d > 0 && current > 0) {
          const double e = std::abs(std::log(*d / current));
          if (e < dist) dist = e, best = *d;
        }
  return best;
}

}  // namespace

tune_estimate estimate_tune(const tune_plan& plan, const tune_settings& set, const tune_inputs& in, const tune_timing& t,
                            const std::function<bool(const std::string&)>& have) {
  tune_estimate est;
  std::set<std::string> seen;
  tune_picks picks;
  for (auto& st : plan.stages) {
    if (std::find(set.stages.begin(), set.stages.end(), st.name) == set.stages.end()) continue;
    const sweep_study study = tune_stage_study(plan, st, set, in, picks, t.grad_rms);
    tune_estimate::stage_cost cost{st.name, st.refine.empty() ? vary_text(study)
                                                              : fmt::format("{}: the best so far x {}", st.refine_factor, fmt::join(st.refine, ", "))};
    for (auto& p : sweep_points(sweep_suite{plan.source, {}, {0}, {study}})) {
      ++cost.points;
      for (auto& impl : p.c.impls)
        for (auto seed : p.c.seeds) {
          const std::string key = tune_run_key(p.c, p.c.batch_sizes[0], seed, impl, in, set.threads);
          if (!seen.insert(key).second) continue;
          if (have && have(key)) {
            ++cost.reused;
            continue;
          }
          ++cost.runs;
          cost.seconds += tune_run_seconds(p.c, p.c.batch_sizes[0], t, in.n_train);
        }
    }
    if (!st.pick.empty()) {
      const auto it = picks.find(st.pick);
      picks[st.pick] = stand_in_pick(study, st.pick, it != picks.end() ? it->second : base_value(plan, st.pick));
    }
    est.points += cost.points, est.runs += cost.runs, est.reused += cost.reused, est.seconds += cost.seconds;
    est.stages.push_back(std::move(cost));
  }
  return est;
}

tune_settings fit_budget(const tune_plan& plan, tune_settings set, const tune_inputs& in, const tune_timing& t, double budget_s) {
  set.budget_s = budget_s;
  auto cost = [&] { return estimate_tune(plan, set, in, t, {}).seconds; };
  if (cost() <= budget_s) return set;
  if (set.seeds.size() > 3) {
    set.cuts.push_back(fmt::format("seeds: {} -> 3", set.seeds.size()));
    set.seeds.resize(3);
  }
  for (auto it = plan.stages.rbegin(); it != plan.stages.rend(); ++it) {  // the short grids, the last stage's first
    const tune_stage& st = *it;
    if (cost() <= budget_s) break;
    if (!st.short_vary || std::find(set.stages.begin(), set.stages.end(), st.name) == set.stages.end()) continue;
    const std::string before = vary_text(tune_stage_study(plan, st, set, in, {}, t.grad_rms));
    set.short_stages.push_back(st.name);
    set.cuts.push_back(fmt::format("stage {}: {} instead of {}", st.name, vary_text(tune_stage_study(plan, st, set, in, {}, t.grad_rms)), before));
  }
  const std::int64_t steps0 = set.steps;  // shorter runs
  while (cost() > budget_s && set.steps > plan.min_steps) set.steps = std::max(plan.min_steps, set.steps / 2);
  if (set.steps != steps0) set.cuts.push_back(fmt::format("steps per run: {} -> {}", steps0, set.steps));
  while (cost() > budget_s) {  // stages, the highest priority number first (the later one on a tie)
    const tune_stage* drop = nullptr;
    for (auto& st : plan.stages)
      if (st.priority > 0 && std::find(set.stages.begin(), set.stages.end(), st.name) != set.stages.end() && (!drop || st.priority >= drop->priority))
        drop = &st;
    if (!drop) break;
    std::erase(set.stages, drop->name);
    set.cuts.push_back(fmt::format("stage {} left out (priority {})", drop->name, drop->priority));
  }
  if (const double need = cost(); need > budget_s) {
    const auto est = estimate_tune(plan, set, in, t, {});
    const double one_point = est.runs ? need / static_cast<double>(est.runs) * static_cast<double>(set.seeds.size()) : need;
    throw input_error(fmt::format("--budget {:.3g} min: too small for this model: the smallest plan ({} points x {} seeds x {} steps) needs "
                                  "about {:.3g} min, one point about {:.3g} min",
                                  budget_s / 60, est.points, set.seeds.size(), set.steps, need / 60, one_point / 60));
  }
  return set;
}

}  // namespace adambench
