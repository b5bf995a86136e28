// The tune runner: inputs and timing, the stages through the sweep runner (with the finished runs
// kept under DIR/runs/), the picks between stages, and the recommendations (tune/tune.h).
#include "tune/tune.h"

#include "core/results.h"
#include "core/suite.h"
#include "shared/context.h"
#include "converge/converge_fields.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <functional>
#include <set>

namespace adambench {

namespace fs = std::filesystem;

namespace {

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

std::string duration_text(double s) {
  if (!std::isfinite(s)) return "?";
  if (s < 60) return fmt::format("{:.0f} s", s);
  if (s < 3600) return fmt::format("{}m{:02d}s", static_cast<int>(s / 60), static_cast<int>(s) % 60);
  return fmt::format("{}h{:02d}m", static_cast<int>(s / 3600), static_cast<int>(s / 60) % 60);
}

workload_spec spec_of(const tune_inputs& in) {
  workload_spec w;
  w.name = "torchscript";
  w.str = {{"model", in.model}, {"data", in.data}};
  if (!in.task.empty()) w.str["task"] = in.task;
  return w;
}

// A few steps of the model at the base batch size: the time of a step and of an evaluation, and
// the gradient's size for matching AdamW's decay to Adam + L2 (the first step is not timed).
tune_timing measure(tune_inputs& in, const std::string& impl, std::int64_t batch, int threads, const registry& reg) {
  tune_timing t;
  t.impl = impl, t.batch = batch, t.steps = 6;
  const auto t0 = clock_type::now();
  auto w = default_workloads().at("torchscript").make(spec_of(in), 0, threads);
  t.load_s = seconds_since(t0);
  in.n_train = w->train_size();
  in.n_params = 0;
  for (auto& p : w->params()) in.n_params += p.numel();
  auto opt = reg.at(impl).make(adam_config{}, impl_options{threads}, dtype::float32);
  opt->bind(w->params(), w->grads());
  std::vector<double> g2(static_cast<std::size_t>(in.n_params), 0.0);
  std::vector<std::int64_t> idx(static_cast<std::size_t>(batch));
  double timed = 0;
  for (std::int64_t s = 0; s < t.steps; ++s) {
    for (std::int64_t i = 0; i < batch; ++i) idx[static_cast<std::size_t>(i)] = (s * batch + i) % in.n_train;
    const auto ts = clock_type::now();
    w->compute_grad(idx, s + 1);
    opt->step();
    if (s > 0) timed += seconds_since(ts);
    std::size_t k = 0;
    for (auto& g : w->grads())
      for (std::int64_t e = 0; e < g.numel(); ++e, ++k) g2[k] += static_cast<double>(static_cast<const float*>(g.data)[e]) * static_cast<const float*>(g.data)[e];
  }
  t.step_s = timed / static_cast<double>(t.steps - 1);
  const auto te = clock_type::now();
  w->evaluate();
  t.eval_s = seconds_since(te);
  for (auto& x : g2) x = std::sqrt(x / static_cast<double>(t.steps));
  std::nth_element(g2.begin(), g2.begin() + static_cast<std::ptrdiff_t>(g2.size() / 2), g2.end());
  t.grad_rms = g2.empty() ? 0 : g2[g2.size() / 2];
  return t;
}

// DIR/runs/: finished runs by key. Every file is read (and checked) when the store opens, so a
// damaged folder is bad input before any run; each new run is written whole as it finishes.
class tune_store final : public run_store {
 public:
  tune_store(fs::path dir, const tune_inputs& in, const tune_timing& t, int threads, bool quiet)
      : dir_(std::move(dir)), in_(in), timing_(t), threads_(threads), quiet_(quiet) {
    std::error_code ec;
    if (!fs::is_directory(dir_, ec)) return;
    for (auto& e : fs::directory_iterator(dir_, ec)) {
      if (e.path().extension() != ".run") continue;
      std::string key;
      run_result r = read_tune_run(e.path(), "", &key);
      if (tune_run_file(key) != e.path().filename().string())
        throw input_error(fmt::format("{}: not a run of adambench tune (its name does not match its content)", e.path().string()));
      runs_.emplace(key, std::move(r));
    }
  }
  /// The plan's new runs and their estimated seconds, for the progress line's ETA.
  void expect(std::size_t runs, double seconds) { planned_ = runs, planned_s_ = seconds; }
  bool has(const std::string& key) const { return runs_.count(key) > 0; }
  std::optional<run_result> find(const converge_case& c, std::int64_t batch, std::uint64_t seed, const std::string& impl) override {
    auto it = runs_.find(tune_run_key(c, batch, seed, impl, in_, threads_));
    if (it == runs_.end()) return std::nullopt;
    ++reused;
    return it->second;
  }
  void keep(const converge_case& c, std::int64_t batch, std::uint64_t seed, const run_result& r) override {
    if (r.verdict == "interrupted") return;
    const std::string key = tune_run_key(c, batch, seed, r.impl, in_, threads_);
    if (r.verdict == "ok" || r.verdict == "diverged") {
      write_json_atomic(dir_ / tune_run_file(key), tune_run_json(key, r));
      runs_.emplace(key, r);
    }
    ++done_;
    done_s_ += tune_run_seconds(c, batch, timing_, in_.n_train);
    if (!quiet_) progress(c, seed, r);
  }
  std::size_t reused = 0;

 private:
  void progress(const converge_case& c, std::uint64_t seed, const run_result& r) const {
    const double elapsed = seconds_since(start_);
    const double rate = done_s_ > 0 ? elapsed / done_s_ : 1.0;  // measured against estimated
    const double left = std::max(0.0, planned_s_ - done_s_) * rate;
    const double val = r.curve.empty() ? NAN : r.curve.back().val_loss;
    fmt::print(stderr, "[{}/{}] {} {} seed {}: {} (val loss {:.4g}, {:.1f} s); elapsed {}, ETA {}\n", done_, std::max(done_, planned_), c.name, r.impl,
               seed, r.verdict, val, r.train_s + r.eval_s, duration_text(elapsed), duration_text(left));
  }
  fs::path dir_;
  const tune_inputs& in_;
  tune_timing timing_;
  int threads_;
  std::size_t planned_ = 0, done_ = 0;
  double planned_s_ = 0, done_s_ = 0;
  bool quiet_;
  std::map<std::string, run_result> runs_;
  clock_type::time_point start_ = clock_type::now();
};

// ---- combining the stages ---------------------------------------------------------------------

void append_stage(sweep_result& all, sweep_result&& sr) {
  const std::size_t study0 = all.suite.studies.size(), point0 = all.points.size(), run0 = all.conv.runs.size();
  for (auto& st : sr.suite.studies) all.suite.studies.push_back(std::move(st));
  for (auto& p : sr.points) p.study += study0, all.points.push_back(std::move(p));
  for (auto& c : sr.conv.cases) all.conv.cases.push_back(std::move(c));
  for (auto& x : sr.conv.runs) x.case_index += point0, all.conv.runs.push_back(std::move(x));
  for (auto& a : sr.conv.aggregates) a.case_index += point0, all.conv.aggregates.push_back(std::move(a));
  for (auto& s : sr.summaries) {
    s.point += point0;
    for (auto& i : s.runs) i += run0;
    all.summaries.push_back(std::move(s));
  }
  for (auto& c : sr.claims) c.study += study0, all.claims.push_back(std::move(c));
  all.conv.seconds += sr.conv.seconds;
  if (!sr.conv.stopped_at.empty()) all.conv.stopped_at = sr.conv.stopped_at;
}

const stats::median_ci& metric_ci(const point_summary& s, const std::string& m) {
  return m == "final_train_loss" ? s.final_train_loss : m == "final_val_acc" ? s.final_val_acc : s.final_val_loss;
}

// The value `factor` has at a point: its setting, else the case's (lr, eps, weight decay).
std::optional<factor_value> value_at(const sweep_point& p, const std::string& factor) {
  for (auto& [k, v] : p.settings)
    if (k == factor) return v;
  if (factor == "lr") return factor_value{p.c.config.lr, fmt::format("{:g}", p.c.config.lr)};
  if (factor == "eps") return factor_value{p.c.config.eps, fmt::format("{:g}", p.c.config.eps)};
  if (factor == "weight_decay") return factor_value{p.c.config.weight_decay, fmt::format("{:g}", p.c.config.weight_decay)};
  return std::nullopt;
}

double as_double(const factor_value& v) {
  if (auto* d = std::get_if<double>(&v.v)) return *d;
  if (auto* i = std::get_if<std::int64_t>(&v.v)) return static_cast<double>(*i);
  return NAN;
}

bool same(const factor_value& a, const factor_value& b) {
  const double x = as_double(a), y = as_double(b);
  if (!std::isnan(x) && !std::isnan(y)) return x == y || std::abs(x - y) <= 1e-9 * std::max(std::abs(x), std::abs(y));
  return a.v == b.v;
}

struct chooser {
  const sweep_result& all;
  std::string metric;
  bool higher = false;
  // The candidate with the best median (ties: the first); failed runs count as the worst value.
  std::size_t best(const std::vector<std::size_t>& cands) const {
    std::size_t b = cands.front();
    for (auto i : cands) {
      const double m = metric_ci(all.summaries[i], metric).median, mb = metric_ci(all.summaries[b], metric).median;
      if (std::isnan(mb) || (higher ? m > mb : m < mb)) b = i;
    }
    return b;
  }
};

// Summaries of this tune's own implementation (the first) or the SGD baseline, in study `si`.
std::vector<std::size_t> summaries_of(const sweep_result& all, std::size_t si, const std::string& impl) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < all.summaries.size(); ++i) {
    const auto& s = all.summaries[i];
    if (all.points[s.point].study == si && s.seeds > 0 && (s.impl == impl || default_registry().traits(s.impl).baseline())) out.push_back(i);
  }
  return out;
}

// Effect of the best over the default at each seed, judged by the sweep's verdict rule.
claim_result versus(const sweep_result& all, std::size_t best, std::optional<std::size_t> dflt, const std::string& metric, double min_effect) {
  claim_result c;
  if (!dflt) {
    c.verdict = "inconclusive", c.why = "the default did not run";
    return c;
  }
  sweep_claim cl;
  cl.metric = metric, cl.higher_is_better = metric == "final_val_acc", cl.min_effect = min_effect;
  const auto a = per_seed(all, all.summaries[best], metric), b = per_seed(all, all.summaries[*dflt], metric);
  for (auto& [seed, va] : a)
    if (auto it = b.find(seed); it != b.end()) c.per_seed.push_back(paired_effect(va, it->second, cl));
  judge_claim(c, cl);
  c.compared = fmt::format("{} against {}", all.points[all.summaries[best].point].c.name, all.points[all.summaries[*dflt].point].c.name);
  return c;
}

// Per seed, the candidate with the best metric (its position in `grid`, by `index_of`); the seeds
// agree when those lie within one step of a numeric grid, or are the same value otherwise.
void seed_agreement(const sweep_result& all, tune_recommendation& rec, const std::vector<std::size_t>& cands, const std::vector<std::string>& grid,
                    bool numeric, const std::function<std::size_t(std::size_t)>& index_of, const chooser& ch) {
  std::map<std::uint64_t, std::pair<double, std::size_t>> best;  // seed -> (metric, grid index)
  for (auto i : cands) {
    const std::size_t gi = index_of(i);
    for (auto& [seed, m] : per_seed(all, all.summaries[i], ch.metric)) {
      const double x = ch.higher ? -m : m;
      auto [it, fresh] = best.try_emplace(seed, x, gi);
      if (!fresh && x < it->second.first) it->second = {x, gi};
    }
  }
  std::size_t lo = SIZE_MAX, hi = 0;
  std::vector<std::string> parts;
  for (auto& [seed, b] : best) {
    lo = std::min(lo, b.second), hi = std::max(hi, b.second);
    parts.push_back(fmt::format("seed {}: {}", seed, b.second < grid.size() ? grid[b.second] : "?"));
  }
  rec.per_seed_best = fmt::format("{}", fmt::join(parts, ", "));
  rec.seeds_agree = best.empty() || hi - lo <= (numeric ? 1u : 0u);
  if (!rec.seeds_agree && rec.vs_default.verdict == "holds here")  // which value is best is itself in doubt
    rec.vs_default.verdict = "inconclusive", rec.vs_default.why = "the seeds disagree on the best value (" + rec.per_seed_best + ")";
}

std::vector<factor_value> sorted_grid(std::vector<factor_value> g) {
  std::sort(g.begin(), g.end(), [](auto& a, auto& b) { return as_double(a) < as_double(b); });
  g.erase(std::unique(g.begin(), g.end(), [](auto& a, auto& b) { return same(a, b); }), g.end());
  return g;
}


}  // namespace

// ---- recommendations ----------------------------------------------------------------------------

namespace {

struct recommender {
  const tune_plan& plan;
  tune_result& r;
  chooser ch;
  std::string impl;

  // A picked factor (lr): every pick stage's points together, against the plan's default value.
  void picked(const std::string& factor, const std::vector<std::size_t>& studies) {
    std::vector<std::size_t> cands;
    std::vector<factor_value> grid, last_grid;
    for (auto si : studies) {
      last_grid.clear();
      for (auto i : summaries_of(r.sweep, si, impl))
        if (auto v = value_at(r.sweep.points[r.sweep.summaries[i].point], factor)) cands.push_back(i), grid.push_back(*v), last_grid.push_back(*v);
    }
    if (cands.empty()) return;
    tune_recommendation rec;
    rec.factor = factor, rec.stage = r.sweep.suite.studies[studies.back()].name;
    rec.best = ch.best(cands);
    const double dflt = plan.base[factor].value<double>().value_or(factor == "lr" ? adam_config{}.lr : factor == "eps" ? adam_config{}.eps : 0.0);
    for (auto i : cands)
      if (same(*value_at(r.sweep.points[r.sweep.summaries[i].point], factor), factor_value{dflt, ""})) rec.fallback = i;
    finish(rec, factor, cands, sorted_grid(grid));
    rec.default_text = fmt::format("{}={:g}", factor, dflt);
    const auto edge = sorted_grid(last_grid);
    const factor_value bv = *value_at(r.sweep.points[r.sweep.summaries[rec.best].point], factor);
    rec.at_edge = edge.size() >= 2 && (same(bv, edge.front()) || same(bv, edge.back()));
    if (rec.at_edge) {  // what lies beyond: the next value any lr stage tried, if one did
      const auto all = sorted_grid(grid);
      const auto at = std::find_if(all.begin(), all.end(), [&](auto& g) { return same(g, bv); }) - all.begin();
      const bool low = same(bv, edge.front());
      const std::ptrdiff_t next = low ? at - 1 : at + 1;
      r.notes.push_back(fmt::format("The best {} ({}) is the {} value of the last {} grid ({} to {}): the best may lie beyond it. {}", factor, bv.label,
                                    low ? "smallest" : "largest", factor, edge.front().label, edge.back().label,
                                    next >= 0 && next < static_cast<std::ptrdiff_t>(all.size())
                                        ? fmt::format("The next value tried, {}, was no better: the best lies between the two.", all[static_cast<std::size_t>(next)].label)
                                        : "Nothing beyond it was tried: widen the grid in the plan."));
    }
    rec.applied = true;  // every later stage ran around it
    r.recs.push_back(std::move(rec));
  }

  // One factor of a one-factor stage: its values with the others at the stage's base.
  void one_factor(std::size_t si, const sweep_factor& f, bool baseline) {
    std::vector<std::size_t> cands;
    std::optional<std::size_t> base;
    for (auto i : summaries_of(r.sweep, si, impl)) {
      const sweep_point& p = r.sweep.points[r.sweep.summaries[i].point];
      const sweep_point& b = base_point(si);
      bool only_f = true;
      for (std::size_t k = 0; k < p.settings.size(); ++k)
        if (p.settings[k].first != f.name && !same(p.settings[k].second, b.settings[k].second)) only_f = false;
      if (!only_f) continue;
      cands.push_back(i);
      if (p.is_base) base = i;
    }
    if (cands.empty()) return;
    tune_recommendation rec;
    rec.factor = f.name, rec.stage = r.sweep.suite.studies[si].name, rec.baseline = baseline;
    rec.best = ch.best(cands), rec.fallback = base;
    finish(rec, f.name, cands, f.values);
    const auto& bp = base_point(si);
    for (auto& [k, v] : bp.settings)
      if (k == f.name) rec.default_text = fmt::format("{}={}", k, v.label);
    r.recs.push_back(std::move(rec));
  }

  // A list stage: its points as one choice against the base.
  void listed(std::size_t si, bool baseline) {
    std::vector<std::size_t> cands = summaries_of(r.sweep, si, impl);
    tune_recommendation rec;
    for (auto i : cands)
      if (r.sweep.points[r.sweep.summaries[i].point].is_base) rec.fallback = i;
    if (baseline) std::erase_if(cands, [&](std::size_t i) { return rec.fallback == i; });  // the baseline's best against Adam's
    if (cands.empty()) return;
    rec.factor = r.sweep.suite.studies[si].name, rec.stage = rec.factor, rec.baseline = baseline;
    rec.best = ch.best(cands);
    for (auto i : cands) rec.grid.push_back(point_text(r.sweep.summaries[i].point));
    rec.best_text = point_text(r.sweep.summaries[rec.best].point);
    rec.default_text = "base (" + setting_text(base_point(si)) + ")";
    rec.vs_default = versus(r.sweep, rec.best, rec.fallback, ch.metric, r.min_effect);
    seed_agreement(r.sweep, rec, cands, rec.grid, false, [&](std::size_t i) {
      return static_cast<std::size_t>(std::find(cands.begin(), cands.end(), i) - cands.begin());
    }, ch);
    r.recs.push_back(std::move(rec));
  }

  void finish(tune_recommendation& rec, const std::string& factor, const std::vector<std::size_t>& cands, std::vector<factor_value> grid) {
    const bool numeric = std::all_of(grid.begin(), grid.end(), [](auto& g) { return !std::isnan(as_double(g)); });
    if (numeric) grid = sorted_grid(grid);
    for (auto& g : grid) rec.grid.push_back(g.label);
    const auto bv = value_at(r.sweep.points[r.sweep.summaries[rec.best].point], factor);
    rec.best_text = fmt::format("{}={}", factor, bv ? bv->label : "?");
    rec.vs_default = versus(r.sweep, rec.best, rec.fallback, ch.metric, r.min_effect);
    seed_agreement(r.sweep, rec, cands, rec.grid, numeric, [&](std::size_t i) {
      const auto v = value_at(r.sweep.points[r.sweep.summaries[i].point], factor);
      return static_cast<std::size_t>(std::find_if(grid.begin(), grid.end(), [&](auto& g) { return v && same(g, *v); }) - grid.begin());
    }, ch);
  }

  const sweep_point& base_point(std::size_t si) const {
    for (auto& p : r.sweep.points)
      if (p.study == si && p.is_base) return p;
    throw std::logic_error("a study without its base point");
  }
  std::string setting_text(const sweep_point& p) const {
    std::vector<std::string> v;
    for (auto& [k, x] : p.settings) v.push_back(k + "=" + x.label);
    return fmt::format("{}", fmt::join(v, ", "));
  }
  std::string point_text(std::size_t pi) const {
    const auto& p = r.sweep.points[pi];
    return p.is_base ? "base" : p.c.name.substr(p.c.name.find('/') + 1);
  }
};

// The tuned case: the best lr's point, with each applied change copied from its best point.
void build_recommended(tune_result& r) {
  const tune_recommendation* lr = nullptr;
  for (auto& rec : r.recs)
    if (rec.factor == "lr" && rec.applied) lr = &rec;
  r.recommended = lr ? r.sweep.points[r.sweep.summaries[lr->best].point].c : r.sweep.points.at(0).c;
  converge_case& rc = r.recommended;
  rc.name = "tuned";
  for (auto& rec : r.recs) {
    if (rec.factor == "lr" || rec.baseline) continue;
    rec.applied = rec.vs_default.verdict == "holds here" && rec.fallback && rec.best != *rec.fallback;
    if (!rec.applied) continue;
    const sweep_point& bp = r.sweep.points[r.sweep.summaries[rec.best].point];
    const converge_case& bc = bp.c;
    for (auto& [key, v] : bp.settings) {
      if (bp.is_base) break;
      if (key == "beta1") rc.config.beta1 = bc.config.beta1;
      else if (key == "beta2") rc.config.beta2 = bc.config.beta2;
      else if (key == "eps") rc.config.eps = bc.config.eps;
      else if (key == "amsgrad") rc.config.amsgrad = bc.config.amsgrad;
      else if (key == "algo" || key == "weight_decay") rc.config.kind = bc.config.kind, rc.config.weight_decay = bc.config.weight_decay;
      else if (key == "schedule" || key == "warmup" || key == "step_size" || key == "gamma" || key == "patience" || key == "start_factor" ||
               key == "eta_min" || key == "factor")
        rc.schedule = bc.schedule, rc.t_max_is_run_length = bc.t_max_is_run_length, rc.eval_every = bc.eval_every, rc.evals = bc.evals;
      else if (key == "batch_size") {
        const std::int64_t b = bc.batch_sizes[0];
        rc.config.lr = scaled_lr(rc.config.lr, bc.scaling, b, bc.base_batch);
        rc.steps = bc.steps > 0 ? bc.steps : static_cast<std::int64_t>(std::ceil(bc.epochs * static_cast<double>(r.in.n_train) / static_cast<double>(b)));
        rc.batch_sizes = {b};
      } else {
        r.notes.push_back(fmt::format("{} ({}) is not carried into the tuned settings: only lr, betas, eps, weight decay, algorithm, "
                                      "schedule and batch size are",
                                      key, rec.stage));
      }
    }
  }
  rc.scaling = lr_scaling::none;
  r.recommended_steps = rc.steps > 0 ? rc.steps
                                     : static_cast<std::int64_t>(std::ceil(rc.epochs * static_cast<double>(r.in.n_train) / static_cast<double>(rc.batch_sizes[0])));
  rc.steps = r.recommended_steps;
}

void recommend(const tune_plan& plan, tune_result& r, std::size_t complete_studies) {
  recommender rm{plan, r, chooser{r.sweep, plan.metric, plan.metric == "final_val_acc"}, r.settings.impls.front()};
  std::map<std::string, std::vector<std::size_t>> picked;
  for (std::size_t si = 0; si < complete_studies; ++si) {
    const tune_stage& st = *std::find_if(plan.stages.begin(), plan.stages.end(), [&](auto& s) { return s.name == r.sweep.suite.studies[si].name; });
    if (!st.pick.empty()) picked[st.pick].push_back(si);
  }
  for (auto& [f, studies] : picked) rm.picked(f, studies);
  for (std::size_t si = 0; si < complete_studies; ++si) {
    const sweep_study& study = r.sweep.suite.studies[si];
    const tune_stage& st = *std::find_if(plan.stages.begin(), plan.stages.end(), [&](auto& s) { return s.name == study.name; });
    if (!st.pick.empty()) continue;
    if (!study.listed.empty()) rm.listed(si, st.baseline);
    else if (study.grid) r.notes.push_back(fmt::format("stage {} is a grid: its points are in the figures, not in the recommendations", study.name));
    else
      for (auto& f : study.factors) rm.one_factor(si, f, st.baseline);
  }
  if (!r.sweep.points.empty()) build_recommended(r);
}

// Each point's settings completed with the tune's main factors, so TensorBoard's hparams table
// and the report compare runs across stages (the lr is the point's nominal lr, before batch scaling).
void complete_settings(sweep_result& all) {
  for (auto& p : all.points) {
    auto has = [&](const std::string& k) { return std::any_of(p.settings.begin(), p.settings.end(), [&](auto& kv) { return kv.first == k; }); };
    // A baseline's points (sgd-momentum) name it as their algo, as the sweep's algo factor does.
    const bool baseline = p.c.impls.size() == 1 && default_registry().traits(p.c.impls[0]).baseline();
    const std::string algo = baseline ? p.c.impls[0] : to_string(p.c.config.kind);
    auto add = [&](const std::string& k, factor_value v) {
      if (!has(k)) p.settings.emplace_back(k, std::move(v));
    };
    add("lr", {p.c.config.lr, fmt::format("{:g}", p.c.config.lr)});
    add("beta1", {p.c.config.beta1, fmt::format("{:g}", p.c.config.beta1)});
    add("beta2", {p.c.config.beta2, fmt::format("{:g}", p.c.config.beta2)});
    add("eps", {p.c.config.eps, fmt::format("{:g}", p.c.config.eps)});
    add("weight_decay", {p.c.config.weight_decay, fmt::format("{:g}", p.c.config.weight_decay)});
    add("algo", {algo, algo});
    add("schedule", {std::string(to_string(p.c.schedule.kind)), to_string(p.c.schedule.kind)});
    add("batch_size", {p.c.batch_sizes[0], fmt::format("{}", p.c.batch_sizes[0])});
  }
}

// The model and data as given on the command line: absolute paths and content hashes.
tune_inputs inputs_of(const tune_request& req) {
  tune_inputs in;
  in.model = fs::absolute(req.model).lexically_normal().string();
  in.data = fs::absolute(req.data).lexically_normal().string();
  in.task = req.task;
  default_workloads().at("torchscript").check(spec_of(in));  // the checks `converge --model` makes: exit 2
  in.model_sha256 = file_sha256(in.model);
  in.data_sha256 = file_sha256(in.data);
  return in;
}

std::string short_hash(const std::string& h) { return h.substr(0, 12); }

// A list stage with weight_decay = "matched": the Adam + L2 coefficient and the AdamW decay it became.
void note_matched_decay(const tune_stage& st, const sweep_study& study, tune_result& r) {
  auto* pts = st.study["points"].as_array();
  if (!pts || std::none_of(pts->begin(), pts->end(), [](auto& n) { return n.as_table() && (*n.as_table())["weight_decay"].template value<std::string>() == "matched"; }))
    return;
  for (auto& point : study.listed) {
    std::string algo;
    double wd = NAN;
    for (auto& [k, v] : point) {
      if (k == "algo") algo = v.label;
      if (k == "weight_decay") wd = as_double(v);
    }
    if (algo == "adam") r.matched_l2 = wd;
    if (algo == "adamw") r.matched_wd = wd;
  }
}

struct prepared {
  tune_plan plan;
  tune_inputs in;
  tune_timing timing;
  tune_settings settings;
  fs::path dir;
};

prepared prepare_resume(const tune_request& req, const registry& reg) {
  prepared p;
  p.dir = *req.resume;
  if (req.out && fs::absolute(*req.out).lexically_normal() != fs::absolute(p.dir).lexically_normal())
    throw input_error("tune: --resume DIR writes into DIR: drop --out or give the same folder");
  if (req.budget_min || req.seeds || !req.impls.empty() || req.plan != "tune")
    throw input_error("tune: --resume continues the plan recorded in the folder: drop --budget, --seeds, --impl and --plan");
  const fs::path mf = p.dir / "runs" / "tune.manifest";
  if (!fs::exists(mf)) throw input_error(fmt::format("--resume {}: not a tune folder (no runs/tune.manifest)", p.dir.string()));
  tune_manifest m = read_tune_manifest(mf);
  p.in = inputs_of(req);
  if (p.in.model_sha256 != m.in.model_sha256)
    throw input_error(fmt::format("--resume {}: tuned another model ({}, sha256 {}); --model {} has sha256 {}", p.dir.string(), m.in.model,
                                  short_hash(m.in.model_sha256), req.model, short_hash(p.in.model_sha256)));
  if (p.in.data_sha256 != m.in.data_sha256)
    throw input_error(fmt::format("--resume {}: tuned on other data ({}, sha256 {}); --data {} has sha256 {}", p.dir.string(), m.in.data,
                                  short_hash(m.in.data_sha256), req.data, short_hash(p.in.data_sha256)));
  p.in.task = m.in.task, p.in.n_train = m.in.n_train, p.in.n_val = m.in.n_val, p.in.n_params = m.in.n_params;
  p.plan = parse_tune_plan(m.plan_text, m.plan_source);
  for (auto& n : m.settings.impls) reg.at(n);
  for (auto& n : m.settings.stages)
    if (std::none_of(p.plan.stages.begin(), p.plan.stages.end(), [&](auto& s) { return s.name == n; }))
      throw input_error(fmt::format("{}: stage {} is not in the recorded plan", mf.string(), n));
  p.timing = m.timing;
  p.settings = m.settings;
  return p;
}

prepared prepare_fresh(const tune_request& req, const registry& reg) {
  prepared p;
  if (!req.out) throw input_error("tune: --out DIR is required (or --resume DIR)");
  p.dir = *req.out;
  if (fs::exists(p.dir / "runs" / "tune.manifest"))
    throw input_error(fmt::format("--out {}: holds a tune already: continue it with --resume {}, or choose another folder", p.dir.string(), p.dir.string()));
  std::string source;
  const std::string text = load_suite_text(req.plan, source);
  p.plan = parse_tune_plan(text, source);
  tune_settings& s = p.settings;
  s.impls = req.impls.empty() ? p.plan.impls : req.impls;
  for (auto& n : s.impls) {
    reg.at(n);
    if (reg.traits(n).baseline()) throw input_error(fmt::format("--impl {}: the SGD baseline is a stage of the plan, not an implementation to tune", n));
  }
  s.seeds = p.plan.seeds;
  if (req.seeds) {
    if (*req.seeds < 3) throw input_error(fmt::format("--seeds {}: tune needs at least 3 (a verdict needs 3 paired seeds)", *req.seeds));
    s.seeds.clear();
    for (int i = 0; i < *req.seeds; ++i) s.seeds.push_back(static_cast<std::uint64_t>(i));
  }
  if (req.budget_min && !(*req.budget_min > 0 && std::isfinite(*req.budget_min)))
    throw input_error(fmt::format("--budget {}: must be a number of minutes > 0", *req.budget_min));
  p.in = inputs_of(req);
  s.threads = req.threads;
  converge_case base;
  for (auto& [k, v] : p.plan.base) apply_converge_field(base, std::string(k.str()), v);
  s.batch = base.batch_sizes.at(0);
  s.evals = base.evals;
  p.timing = measure(p.in, s.impls.front(), s.batch, s.threads, reg);
  s.steps = p.plan.base.contains("steps")
                ? base.steps
                : std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(base.epochs * static_cast<double>(p.in.n_train) / static_cast<double>(s.batch))));
  for (auto& st : p.plan.stages) s.stages.push_back(st.name);
  if (req.budget_min) s = fit_budget(p.plan, s, p.in, p.timing, *req.budget_min * 60);
  // --out writable before hours of runs, as every runner checks it; after every check of the input,
  // so bad input leaves no folder behind.
  check_out_dir(p.dir);
  return p;
}

}  // namespace

int run_tune(const tune_request& req, const registry& reg) {
  if (req.model.empty() || req.data.empty()) throw input_error("tune: --model and --data are required");
  prepared p = req.resume ? prepare_resume(req, reg) : prepare_fresh(req, reg);
  if (interrupted.load()) return 130;
  tune_result r;
  r.plan_source = p.plan.source, r.in = p.in, r.timing = p.timing, r.settings = p.settings;
  r.metric = p.plan.metric, r.min_effect = p.plan.min_effect;
  const fs::path runs = p.dir / "runs";
  tune_store live(runs, r.in, r.timing, r.settings.threads, req.quiet);  // reads (and checks) what an earlier tune kept
  r.estimate = estimate_tune(p.plan, r.settings, r.in, r.timing, [&](const std::string& k) { return live.has(k); });
  live.expect(r.estimate.runs, r.estimate.seconds);
  print_tune_plan(r);
  std::fflush(stdout);
  write_json_atomic(runs / "tune.manifest", tune_manifest_json({p.plan.source, p.plan.text, r.in, r.timing, r.settings}));
  const auto t0 = clock_type::now();
  tune_picks picks;
  std::size_t complete = 0;
  for (auto& st : p.plan.stages) {
    if (std::find(r.settings.stages.begin(), r.settings.stages.end(), st.name) == r.settings.stages.end()) continue;
    if (interrupted.load()) {
      r.sweep.conv.stopped_at = "before stage " + st.name;
      break;
    }
    sweep_options so;
    so.conv.threads = r.settings.threads, so.conv.quiet = true, so.conv.store = &live;
    sweep_suite one{p.plan.source, {}, {0}, {tune_stage_study(p.plan, st, r.settings, r.in, picks, r.timing.grad_rms)}};
    note_matched_decay(st, one.studies[0], r);
    append_stage(r.sweep, compute_sweep(one, reg, so));
    if (!r.sweep.conv.stopped_at.empty()) break;
    ++complete;
    if (!st.pick.empty()) {  // the best value over every pick stage of this factor so far
      std::vector<std::size_t> cands;
      for (std::size_t si = 0; si < r.sweep.suite.studies.size(); ++si) {
        const auto& sst = *std::find_if(p.plan.stages.begin(), p.plan.stages.end(), [&](auto& s) { return s.name == r.sweep.suite.studies[si].name; });
        if (sst.pick == st.pick)
          for (auto i : summaries_of(r.sweep, si, r.settings.impls.front())) cands.push_back(i);
      }
      if (!cands.empty()) {
        const chooser ch{r.sweep, p.plan.metric, p.plan.metric == "final_val_acc"};
        if (auto v = value_at(r.sweep.points[r.sweep.summaries[ch.best(cands)].point], st.pick)) picks[st.pick] = as_double(*v);
      }
    }
  }
  r.seconds = seconds_since(t0);
  r.reused = live.reused;
  r.sweep.suite.source = p.plan.source;
  r.sweep.suite.impls = r.settings.impls;
  r.sweep.suite.seeds = r.settings.seeds;
  recommend(p.plan, r, complete);
  complete_settings(r.sweep);
  write_tune_outputs(r, p.dir);
  print_tune_summary(r);
  if (!r.sweep.conv.stopped_at.empty()) return 130;
  return r.sweep.conv.count("error") == 0 ? 0 : 1;
}

}  // namespace adambench
