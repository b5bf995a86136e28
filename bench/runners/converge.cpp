#include "runners/converge.h"

#include "core/results.h"
#include "runners/context.h"
#include "workloads/mnist_idx.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>
#include <numeric>
#include <random>
#include <regex>
#include <set>
#include <unistd.h>

namespace adambench {

const char* to_string(lr_scaling s) {
  switch (s) {
    case lr_scaling::none: return "none";
    case lr_scaling::linear: return "linear";
    case lr_scaling::sqrt: return "sqrt";
  }
  return "?";
}

double scaled_lr(double base, lr_scaling s, std::int64_t batch, std::int64_t base_batch) {
  const double r = static_cast<double>(batch) / static_cast<double>(base_batch);
  switch (s) {
    case lr_scaling::none: return base;
    case lr_scaling::linear: return base * r;
    case lr_scaling::sqrt: return base * std::sqrt(r);
  }
  return base;
}

namespace {

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

// torch.optim.SGD(momentum, dampening=0, nesterov=False, weight_decay) in float32, as PyTorch's
// for-loop implementation computes it: d = g + wd p; buf = d on the first step, else
// buf = momentum * buf + d; p -= lr * buf. The baseline row of the convergence tables.
class sgd_momentum final : public optimizer {
 public:
  sgd_momentum(double lr, double momentum, double wd) : lr_(lr), mu_(momentum), wd_(wd) {}
  void bind(std::span<const tensor_view> params, std::span<const tensor_view> grads) override {
    p_.assign(params.begin(), params.end());
    g_.assign(grads.begin(), grads.end());
    buf_.clear();
    for (auto& p : p_) buf_.emplace_back(static_cast<std::size_t>(p.numel()), 0.0f);
  }
  void load_state(const adam_state&) override { throw std::logic_error("sgd-momentum has no Adam state"); }
  void step() override {
    const auto lr = static_cast<float>(lr_), mu = static_cast<float>(mu_), wd = static_cast<float>(wd_);
    for (std::size_t i = 0; i < p_.size(); ++i) {
      float* p = static_cast<float*>(p_[i].data);
      const float* g = static_cast<const float*>(g_[i].data);
      float* b = buf_[i].data();
      for (std::int64_t k = 0, n = p_[i].numel(); k < n; ++k) {
        float d = g[k];
        if (wd != 0) d += wd * p[k];
        if (mu != 0) {
          b[k] = t_ == 0 ? d : mu * b[k] + d;
          d = b[k];
        }
        p[k] -= lr * d;
      }
    }
    ++t_;
  }
  void set_lr(double lr) override { lr_ = lr; }
  adam_state read_state() override {
    adam_state s;
    s.step = t_;
    for (auto& p : p_) {
      const float* x = static_cast<const float*>(p.data);
      s.params.emplace_back(x, x + p.numel());
    }
    return s;
  }

 private:
  double lr_, mu_, wd_;
  std::int64_t t_ = 0;
  std::vector<tensor_view> p_, g_;
  std::vector<std::vector<float>> buf_;
};

struct curve_row {
  std::int64_t step = 0;
  double epoch = 0, lr = 0, train_loss = NAN, val_loss = NAN, val_acc = NAN, wall_s = 0;
};

std::string num_field(double x) {  // empty for NaN so spreadsheets and pandas see a missing value
  if (std::isnan(x)) return "";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return fmt::format("{:.17g}", x);
}

std::string curve_csv(const std::vector<curve_row>& rows) {
  std::string s = "step,epoch,lr,train_loss,val_loss,val_acc,wall_s\n";
  for (auto& r : rows)
    s += fmt::format("{},{},{},{},{},{},{:.6f}\n", r.step, num_field(r.epoch), num_field(r.lr), num_field(r.train_loss),
                     num_field(r.val_loss), num_field(r.val_acc), r.wall_s);
  return s;
}

// FNV-1a over the curve without wall_s: equal digests mean bitwise-identical curves.
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

nlohmann::json jnum(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

struct run_result {
  std::string impl;
  std::string verdict = "ok";  // ok | diverged | skip | error | interrupted
  std::string reason;
  double lr = 0;
  std::int64_t steps_budget = 0, steps_done = 0;
  std::int64_t diverged_at = -1;
  std::int64_t steps_to_target = -1;
  double wall_to_target = NAN;
  std::vector<curve_row> curve;
  std::vector<float> final_params;
  double train_s = 0, opt_s = 0, eval_s = 0;
  std::int64_t samples = 0;
  // Drift from the reference implementation at the same case, batch and seed.
  bool has_drift = false;
  double drift_val = 0, drift_train = 0, drift_acc = 0, drift_l2 = 0, drift_l2_rel = 0;
  std::string csv_path;
};

std::string file_safe(const std::string& s) {
  std::string o;
  for (char c : s) o += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_') ? c : '_';
  return o;
}

std::string fmt_g(double x, int digits = 3) {
  if (std::isnan(x)) return "-";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return fmt::format("{:.{}g}", x, digits);
}

bool reached(const converge_case& c, const eval_point& e) {
  if (!c.target) return false;
  return c.target_is_accuracy ? e.acc >= *c.target : e.loss <= *c.target;
}

struct train_env {
  const converge_case& c;
  std::int64_t batch;
  std::uint64_t seed;
  int threads;
  bool quiet;
  std::string label;
};

// One training run: the workload from `seed`, the optimizer `make`s, data order from
// mt19937_64(seed) — the same for every implementation.
run_result train_one(const train_env& env, const std::string& impl, const std::function<std::unique_ptr<optimizer>(double lr)>& make) {
  const converge_case& c = env.c;
  run_result r;
  r.impl = impl;
  auto w = default_workloads().at(c.workload.name).make(c.workload, env.seed, env.threads);
  const std::int64_t n = w->train_size();
  const std::int64_t B = env.batch;
  r.steps_budget = c.steps > 0 ? c.steps : static_cast<std::int64_t>(std::ceil(c.epochs * static_cast<double>(n) / static_cast<double>(B)));
  const std::int64_t eval_every = c.eval_every > 0 ? c.eval_every : std::max<std::int64_t>(1, r.steps_budget / c.evals);
  const double base_lr = scaled_lr(impl == sgd_baseline_name ? c.sgd_lr : c.config.lr, c.scaling, B, c.base_batch);
  r.lr = base_lr;
  schedule_spec ss = c.schedule;
  if (c.t_max_is_run_length) ss.t_max = std::max<std::int64_t>(r.steps_budget, ss.warmup + 1);
  lr_schedule sched(ss, base_lr);

  std::unique_ptr<optimizer> opt = make(sched.lr());
  opt->bind(w->params(), w->grads());

  std::mt19937_64 order(mix_seed({env.seed, 0xda7a}));
  std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
  std::int64_t pos = n;  // forces a shuffle before the first batch
  std::vector<std::int64_t> batch(static_cast<std::size_t>(B));

  auto t_eval = clock_type::now();
  eval_point e0 = w->evaluate();
  r.eval_s += seconds_since(t_eval);
  r.curve.push_back({0, 0.0, sched.lr(), NAN, e0.loss, e0.acc, 0.0});
  const double initial = std::isfinite(e0.loss) ? std::abs(e0.loss) : NAN;
  if (reached(c, e0)) {
    r.steps_to_target = 0;
    r.wall_to_target = 0;
  }
  double loss_sum = 0;
  std::int64_t loss_n = 0;
  auto last_progress = clock_type::now();
  auto diverged = [&](double loss, std::int64_t t, const char* what) {
    const bool bad = !std::isfinite(loss) || (std::isfinite(initial) && std::abs(loss) > c.explode_factor * std::max(initial, 1e-12));
    if (!bad || r.diverged_at >= 0) return bad;
    r.verdict = "diverged";
    r.diverged_at = t;
    r.reason = std::isfinite(loss) ? fmt::format("{} {:.4g} > {:g} x initial loss {:.4g} at step {}", what, loss, c.explode_factor, initial, t)
                                   : fmt::format("{} {} at step {}", what, fmt_g(loss), t);
    return true;
  };

  for (std::int64_t t = 1; t <= r.steps_budget; ++t) {
    if (interrupted.load()) {
      r.verdict = "interrupted";
      r.reason = fmt::format("interrupted before step {}", t);
      break;
    }
    for (std::int64_t k = 0; k < B; ++k) {  // sampling without replacement within an epoch
      if (pos == n) {
        std::iota(perm.begin(), perm.end(), 0);
        std::shuffle(perm.begin(), perm.end(), order);
        pos = 0;
      }
      batch[static_cast<std::size_t>(k)] = perm[static_cast<std::size_t>(pos++)];
    }
    const auto t0 = clock_type::now();
    const double loss = w->compute_grad(batch, t);
    const auto t1 = clock_type::now();
    opt->step();
    const auto t2 = clock_type::now();
    r.train_s += std::chrono::duration<double>(t2 - t0).count();
    r.opt_s += std::chrono::duration<double>(t2 - t1).count();
    r.steps_done = t;
    r.samples += B;
    loss_sum += loss;
    ++loss_n;
    const double lr_used = sched.lr();
    sched.step();
    const bool bad = diverged(loss, t, "train loss");
    const bool eval_now = bad || t % eval_every == 0 || t == r.steps_budget;
    if (eval_now) {
      t_eval = clock_type::now();
      eval_point e = w->evaluate();
      r.eval_s += seconds_since(t_eval);
      // The row's lr is the one the last step used, as a training log would show it.
      r.curve.push_back({t, static_cast<double>(t) * static_cast<double>(B) / static_cast<double>(n), lr_used,
                         loss_sum / static_cast<double>(loss_n), e.loss, e.acc, r.train_s});
      loss_sum = 0;
      loss_n = 0;
      if (!bad) diverged(e.loss, t, "validation loss");
      if (r.diverged_at < 0 && r.steps_to_target < 0 && reached(c, e)) {
        r.steps_to_target = t;
        r.wall_to_target = r.train_s;
      }
      sched.observe(e.loss);
    }
    if (r.diverged_at >= 0) break;
    if (sched.lr() != lr_used) opt->set_lr(sched.lr());
    if (!env.quiet && seconds_since(last_progress) > 5.0) {
      last_progress = clock_type::now();
      auto& last = r.curve.back();
      fmt::print(stderr, "  {} {}: step {}/{}, train loss {}, val loss {}{}\n", env.label, impl, t, r.steps_budget,
                 fmt_g(last.train_loss, 4), fmt_g(last.val_loss, 4), std::isnan(last.val_acc) ? "" : fmt::format(", val acc {:.4f}", last.val_acc));
    }
  }
  if (r.verdict == "interrupted" && r.steps_done > r.curve.back().step) {  // the curve ends where the run stopped
    eval_point e = w->evaluate();
    r.curve.push_back({r.steps_done, static_cast<double>(r.steps_done) * static_cast<double>(B) / static_cast<double>(n), sched.lr(),
                       loss_n ? loss_sum / static_cast<double>(loss_n) : NAN, e.loss, e.acc, r.train_s});
  }
  for (auto& p : w->params()) {
    const float* x = static_cast<const float*>(p.data);
    r.final_params.insert(r.final_params.end(), x, x + p.numel());
  }
  return r;
}

void compute_drift(run_result& r, const run_result& ref) {
  r.has_drift = true;
  std::map<std::int64_t, const curve_row*> by_step;
  for (auto& row : ref.curve) by_step[row.step] = &row;
  auto absdiff = [](double a, double b) {
    if (std::isnan(a) && std::isnan(b)) return 0.0;
    return std::abs(a - b);  // NaN on one side only: NaN (reported as such)
  };
  for (auto& row : r.curve) {
    auto it = by_step.find(row.step);
    if (it == by_step.end()) continue;
    auto upd = [](double& m, double d) { m = std::isnan(d) || std::isnan(m) ? NAN : std::max(m, d); };
    upd(r.drift_val, absdiff(row.val_loss, it->second->val_loss));
    if (row.step > 0) upd(r.drift_train, absdiff(row.train_loss, it->second->train_loss));
    upd(r.drift_acc, absdiff(row.val_acc, it->second->val_acc));
  }
  double d2 = 0, n2 = 0;
  for (std::size_t i = 0; i < std::min(r.final_params.size(), ref.final_params.size()); ++i) {
    const double d = static_cast<double>(r.final_params[i]) - ref.final_params[i];
    d2 += d * d;
    n2 += static_cast<double>(ref.final_params[i]) * ref.final_params[i];
  }
  r.drift_l2 = std::sqrt(d2);
  r.drift_l2_rel = n2 > 0 ? std::sqrt(d2 / n2) : NAN;
}

// {median, lo, hi} is what the gate (bench/gate/compare.cpp) reads; ci95 keeps the pair together.
nlohmann::json ci_json(const median_ci& m) {
  return {{"median", jnum(m.median)}, {"lo", jnum(m.lo)}, {"hi", jnum(m.hi)}, {"ci95", {jnum(m.lo), jnum(m.hi)}}};
}

}  // namespace

void check_converge_inputs(const converge_suite& suite, const registry& reg, const converge_options& opt) {
  for (auto& n : opt.impls)
    if (n != sgd_baseline_name) reg.at(n);
  for (auto& n : suite.impls)
    if (n != sgd_baseline_name) reg.at(n);
  for (auto& c : suite.cases) {
    for (auto& n : c.impls)
      if (n != sgd_baseline_name) reg.at(n);
    workload_spec s = c.workload;
    if (!opt.data_dir.empty()) s.data_dir = opt.data_dir;
    if (s.data_dir.empty()) s.data_dir = default_fashion_mnist_dir;
    if (!opt.text_file.empty()) s.text_file = opt.text_file;
    try {
      default_workloads().at(s.name).check(s);
    } catch (const input_error& e) {
      throw input_error(fmt::format("{}: case {}: {}", suite.source, c.name, e.what()));
    }
  }
}

int run_converge(const converge_suite& suite_in, const registry& reg, const converge_options& opt) {
  converge_suite suite = suite_in;
  if (!opt.case_filter.empty()) {
    std::erase_if(suite.cases, [&](const converge_case& c) {
      return std::none_of(opt.case_filter.begin(), opt.case_filter.end(), [&](const std::string& f) { return std::regex_search(c.name, std::regex(f)); });
    });
    if (suite.cases.empty()) throw input_error(fmt::format("{}: no case matches --filter {}", suite.source, fmt::join(opt.case_filter, ", ")));
  }
  if (opt.shard.second > 1) {
    std::vector<converge_case> mine;
    for (std::size_t i = 0; i < suite.cases.size(); ++i)
      if (static_cast<int>(i % opt.shard.second) == opt.shard.first - 1) mine.push_back(suite.cases[i]);
    suite.cases = std::move(mine);
  }
  for (auto& c : suite.cases) {
    if (!opt.data_dir.empty()) c.workload.data_dir = opt.data_dir;
    if (c.workload.data_dir.empty()) c.workload.data_dir = default_fashion_mnist_dir;
    if (!opt.text_file.empty()) c.workload.text_file = opt.text_file;
  }
  check_converge_inputs(suite, reg, opt);

  auto impls_of = [&](const converge_case& c) {
    std::vector<std::string> v = !opt.impls.empty() ? opt.impls : !c.impls.empty() ? c.impls : suite.impls;
    if (v.empty()) v = reg.names();
    // The reference runs first so the others' drift can be measured against it.
    std::stable_partition(v.begin(), v.end(), [](const std::string& n) { return n == "reference"; });
    return v;
  };
  auto seeds_of = [&](const converge_case& c) {
    std::vector<std::uint64_t> s = !c.seeds.empty() ? c.seeds : suite.seeds;
    if (opt.seed_count) {
      s.clear();
      for (int i = 0; i < *opt.seed_count; ++i) s.push_back(static_cast<std::uint64_t>(i));
    }
    return s;
  };
  std::size_t total = 0;
  for (auto& c : suite.cases) total += c.batch_sizes.size() * seeds_of(c).size() * impls_of(c).size();

  const auto t_start = clock_type::now();
  const bool tty = ::isatty(2);
  nlohmann::json runs = nlohmann::json::array(), aggregates = nlohmann::json::array(), scaling = nlohmann::json::array();
  std::vector<std::string> diverged_lines, unmet, skip_lines;
  std::string stopped_at;
  std::size_t done = 0;
  int n_runs = 0, n_div = 0, n_skip = 0, n_reached = 0, n_err = 0;
  struct table_row {
    std::string case_name, impl;
    std::int64_t batch;
    double lr;
    median_ci val_loss, val_acc, steps, wall;
    double fail_rate, throughput, opt_share;
    int seeds;
    double drift_val = NAN, drift_l2 = NAN;
    bool has_target;
    std::string note;
  };
  std::vector<table_row> table;
  std::vector<std::string> scaling_lines;

  for (auto& c : suite.cases) {
    if (!stopped_at.empty()) break;
    const auto impls = impls_of(c);
    const auto seeds = seeds_of(c);
    // per impl, per batch: per-seed results
    std::map<std::string, std::map<std::int64_t, std::vector<run_result>>> by_impl;
    for (std::int64_t B : c.batch_sizes) {
      if (!stopped_at.empty()) break;
      for (std::uint64_t seed : seeds) {
        if (!stopped_at.empty()) break;
        std::optional<run_result> ref_run;
        for (auto& name : impls) {
          ++done;
          const std::string label = fmt::format("{} b={} seed={}", c.name, B, seed);
          if (interrupted.load()) {
            stopped_at = fmt::format("{} {}", label, name);
            break;
          }
          if (!opt.quiet)
            fmt::print(stderr, "[{}/{}] {} {}\n", done, total, label, name);
          run_result r;
          r.impl = name;
          std::function<std::unique_ptr<optimizer>(double)> make;
          if (name == sgd_baseline_name) {
            make = [&](double lr) { return std::make_unique<sgd_momentum>(lr, c.sgd_momentum, c.config.weight_decay); };
          } else {
            const impl_entry& e = reg.at(name);
            case_features f;
            f.type = dtype::float32;
            support s = e.supports(c.config, f);
            if (!s.ok) {
              r.verdict = "skip";
              r.reason = s.reason;
            } else {
              make = [&, cfg = c.config](double lr) {
                adam_config k = cfg;
                k.lr = lr;
                return e.make(k, impl_options{opt.threads}, dtype::float32);
              };
            }
          }
          if (make) {
            try {
              r = train_one({c, B, seed, opt.threads, opt.quiet, label}, name, make);
            } catch (const input_error&) {
              throw;
            } catch (const std::exception& ex) {
              r.verdict = "error";
              r.reason = ex.what();
            }
          }
          if (name == "reference" && (r.verdict == "ok" || r.verdict == "diverged")) ref_run = r;
          else if (ref_run && !r.curve.empty() && name != sgd_baseline_name) compute_drift(r, *ref_run);  // drift: same algorithm only

          // The curve file.
          if (opt.out && !r.curve.empty()) {
            r.csv_path = fmt::format("curves/{}__{}__b{}__s{}.csv", file_safe(c.name), file_safe(name), B, seed);
            write_file_atomic(*opt.out / r.csv_path, curve_csv(r.curve));
          }
          ++n_runs;
          if (r.verdict == "diverged") {
            ++n_div;
            diverged_lines.push_back(fmt::format("{} {}: diverged at step {} ({})", label, name, r.diverged_at, r.reason));
          }
          if (r.verdict == "skip") {
            ++n_skip;
            skip_lines.push_back(fmt::format("{} {}: {}", c.name, name, r.reason));
          }
          if (r.verdict == "error") {
            ++n_err;
            diverged_lines.push_back(fmt::format("{} {}: error: {}", label, name, r.reason));
          }
          if (r.steps_to_target >= 0) ++n_reached;
          if (r.verdict == "interrupted") stopped_at = fmt::format("{} {} step {}", label, name, r.steps_done + 1);
          if (c.expect == expectation::target && r.verdict != "skip" && r.verdict != "interrupted" && (r.steps_to_target < 0 || r.diverged_at >= 0))
            unmet.push_back(fmt::format("{} {}: expected to reach {} {} {}, {}", label, name, c.target_is_accuracy ? "val_acc >=" : "val_loss <=",
                                        *c.target, "but did not", r.verdict == "diverged" ? r.reason : "final " + fmt_g(r.curve.empty() ? NAN : (c.target_is_accuracy ? r.curve.back().val_acc : r.curve.back().val_loss), 4)));
          if (c.max_drift && r.has_drift && !(r.drift_val <= *c.max_drift))
            unmet.push_back(fmt::format("{} {}: drift from the reference {} > max_drift {:g} (max |val_loss - reference's|)", label, name,
                                        fmt_g(r.drift_val, 3), *c.max_drift));
          if (c.expect == expectation::diverge && r.verdict != "skip" && r.verdict != "interrupted" && r.diverged_at < 0)
            unmet.push_back(fmt::format("{} {}: expected to diverge but did not", label, name));

          nlohmann::json j;
          j["case"] = c.name;
          j["workload"] = c.workload.name;
          j["workload_options"] = c.workload.describe();
          j["impl"] = name;
          j["batch_size"] = B;
          j["seed"] = seed;
          j["config"] = name == sgd_baseline_name ? fmt::format("sgd momentum={:g} wd={:g}", c.sgd_momentum, c.config.weight_decay) : c.config.describe();
          j["lr"] = r.lr;
          j["lr_scaling"] = to_string(c.scaling);
          j["schedule"] = c.schedule.describe();
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
            j["drift_from_reference"] = {{"max_abs_val_loss", jnum(r.drift_val)}, {"max_abs_train_loss", jnum(r.drift_train)},
                                         {"max_abs_val_acc", jnum(r.drift_acc)}, {"param_l2", jnum(r.drift_l2)}, {"param_l2_rel", jnum(r.drift_l2_rel)}};
          if (!r.csv_path.empty()) j["curve_csv"] = r.csv_path;
          runs.push_back(j);
          r.final_params.clear();
          r.final_params.shrink_to_fit();
          by_impl[name][B].push_back(std::move(r));
          if (!stopped_at.empty()) break;
        }
      }
    }

    // Aggregates over seeds, per implementation and batch size.
    for (auto& name : impls) {
      std::vector<std::pair<std::int64_t, double>> steps_by_batch;
      for (std::int64_t B : c.batch_sizes) {
        auto it = by_impl[name].find(B);
        if (it == by_impl[name].end()) continue;
        std::vector<double> vl, va, st, wt, tp, sh, dv, dl;
        int fails = 0, counted = 0;
        std::string note;
        double lr = 0;
        for (auto& r : it->second) {
          if (r.verdict == "skip") { note = "skip: " + r.reason; continue; }
          if (r.verdict == "interrupted") continue;
          ++counted;
          lr = r.lr;
          const bool failed = r.verdict != "ok" || (c.target && r.steps_to_target < 0);
          if (failed) ++fails;
          if (!r.curve.empty()) {
            vl.push_back(r.verdict == "ok" ? r.curve.back().val_loss : INFINITY);
            if (!std::isnan(r.curve.front().val_acc)) va.push_back(r.verdict == "ok" ? r.curve.back().val_acc : 0.0);
          }
          st.push_back(r.steps_to_target >= 0 ? static_cast<double>(r.steps_to_target) : INFINITY);
          wt.push_back(r.steps_to_target >= 0 ? r.wall_to_target : INFINITY);
          if (r.train_s > 0) {
            tp.push_back(static_cast<double>(r.samples) / r.train_s);
            sh.push_back(r.opt_s / r.train_s);
          }
          if (r.has_drift) {
            dv.push_back(r.drift_val);
            dl.push_back(r.drift_l2);
          }
          if (r.diverged_at >= 0) note = fmt::format("diverged at step {}", r.diverged_at);
        }
        if (counted == 0) {
          if (!note.empty()) table.push_back({c.name, name, B, 0, {}, {}, {}, {}, NAN, NAN, NAN, 0, NAN, NAN, false, note});
          continue;
        }
        table_row row{c.name, name, B, lr, bootstrap_median(vl), bootstrap_median(va), bootstrap_median(st), bootstrap_median(wt),
                      static_cast<double>(fails) / counted, stats::median(tp), stats::median(sh), counted, NAN, NAN, c.target.has_value(), note};
        auto worst = [](const std::vector<double>& x) {
          double m = 0;
          for (double v : x) m = std::isnan(v) || std::isnan(m) ? NAN : std::max(m, v);
          return x.empty() ? NAN : m;
        };
        row.drift_val = worst(dv);
        row.drift_l2 = worst(dl);
        table.push_back(row);
        if (c.target) steps_by_batch.emplace_back(B, row.steps.median);
        nlohmann::json a;
        a["case"] = c.name;
        a["impl"] = name;
        a["batch_size"] = B;
        a["lr"] = lr;
        a["seeds"] = counted;
        a["final_val_loss"] = ci_json(row.val_loss);
        if (!va.empty()) a["final_val_acc"] = ci_json(row.val_acc);
        if (c.target) {
          a["steps_to_target"] = ci_json(row.steps);
          a["wall_to_target_s"] = ci_json(row.wall);
        }
        a["failure_rate"] = row.fail_rate;
        a["samples_per_s"] = jnum(row.throughput);
        a["optimizer_share"] = jnum(row.opt_share);
        if (!dv.empty()) a["drift_from_reference"] = {{"max_abs_val_loss", jnum(row.drift_val)}, {"param_l2", jnum(row.drift_l2)}};
        aggregates.push_back(a);
      }
      // Where steps-to-target stops falling: the first batch size whose successor does not cut the
      // median steps by at least 10% (perfect scaling halves them when the batch doubles).
      // Batch sizes that never reach the target come first (their steps are infinite): the scan
      // starts at the first batch size that reaches it.
      if (steps_by_batch.size() >= 2) {
        std::optional<std::int64_t> stop, first_reached;
        std::size_t i0 = 0;
        while (i0 < steps_by_batch.size() && !std::isfinite(steps_by_batch[i0].second)) ++i0;
        if (i0 < steps_by_batch.size()) first_reached = steps_by_batch[i0].first;
        for (std::size_t i = i0; i + 1 < steps_by_batch.size(); ++i) {
          const double a = steps_by_batch[i].second, b = steps_by_batch[i + 1].second;
          if (!(std::isfinite(a) && std::isfinite(b) && b < 0.9 * a)) {
            stop = steps_by_batch[i].first;
            break;
          }
        }
        nlohmann::json sj;
        sj["case"] = c.name;
        sj["impl"] = name;
        sj["points"] = nlohmann::json::array();
        std::string pts;
        for (auto& [b, s] : steps_by_batch) {
          sj["points"].push_back({{"batch_size", b}, {"median_steps_to_target", jnum(s)}});
          pts += fmt::format(" {}:{}", b, std::isfinite(s) ? fmt::format("{:g}", s) : "never");
        }
        sj["first_reaching_batch"] = first_reached ? nlohmann::json(*first_reached) : nlohmann::json(nullptr);
        sj["stops_falling_at"] = stop ? nlohmann::json(*stop) : nlohmann::json(nullptr);
        scaling.push_back(sj);
        std::string verdict = !first_reached ? "no batch size reaches the target"
                              : stop         ? fmt::format("stops falling at batch {}", *stop)
                                             : "still falling at the largest batch";
        if (first_reached && *first_reached != steps_by_batch.front().first)
          verdict = fmt::format("reached from batch {}; {}", *first_reached, verdict);
        scaling_lines.push_back(fmt::format("  {} {}: batch:steps{} -> {}", c.name, name, pts, verdict));
      }
    }
  }
  const double seconds = seconds_since(t_start);
  if (!opt.quiet && tty) fmt::print(stderr, "\r\033[K");

  // Summary table.
  fmt::print("Convergence: median over seeds [bootstrap 95% interval]; fail = diverged or target not reached\n");
  std::size_t w0 = 4, w1 = 4;
  for (auto& r : table) {
    w0 = std::max(w0, r.case_name.size());
    w1 = std::max(w1, r.impl.size());
  }
  fmt::print("{:<{}}  {:<{}}  {:>5}  {:>8}  {:>26}  {:>22}  {:>20}  {:>9}  {:>4}  {:>9}  {:>5}  {:>17}\n", "case", w0, "impl", w1, "batch", "lr",
             "final val_loss", "val_acc", "steps to target", "s to tgt", "fail", "samples/s", "opt%", "drift loss / |dp|");
  for (auto& r : table) {
    if (r.seeds == 0) {
      fmt::print("{:<{}}  {:<{}}  {:>5}  {}\n", r.case_name, w0, r.impl, w1, r.batch, r.note);
      continue;
    }
    auto cell = [](const median_ci& m, int d) {
      if (std::isnan(m.median)) return std::string("-");
      if (m.lo == m.hi && m.lo == m.median) return fmt_g(m.median, d);
      return fmt::format("{} [{}, {}]", fmt_g(m.median, d), fmt_g(m.lo, d), fmt_g(m.hi, d));
    };
    auto steps = [&](const median_ci& m) {
      if (!r.has_target) return std::string("-");
      if (std::isinf(m.median)) return std::string("never");
      return cell(m, 6);
    };
    fmt::print("{:<{}}  {:<{}}  {:>5}  {:>8}  {:>26}  {:>22}  {:>20}  {:>9}  {:>3.0f}%  {:>9}  {:>4.1f}%  {:>17}{}\n", r.case_name, w0, r.impl, w1, r.batch,
               fmt_g(r.lr, 3), cell(r.val_loss, 4), cell(r.val_acc, 4), steps(r.steps),
               r.has_target && std::isfinite(r.wall.median) ? fmt_g(r.wall.median, 3) : "-", 100 * r.fail_rate,
               std::isnan(r.throughput) ? "-" : fmt::format("{:.0f}", r.throughput), 100 * r.opt_share,
               std::isnan(r.drift_val) && std::isnan(r.drift_l2) ? "-" : fmt::format("{} / {}", fmt_g(r.drift_val, 2), fmt_g(r.drift_l2, 2)),
               r.note.empty() ? "" : "  " + r.note);
  }
  if (!scaling_lines.empty()) {
    fmt::print("\nSteps to target by batch size (median over seeds; stops falling = the next batch size saves < 10%):\n");
    for (auto& l : scaling_lines) fmt::print("{}\n", l);
  }
  if (!diverged_lines.empty()) {
    fmt::print("\nDiverged or failed runs:\n");
    for (auto& l : diverged_lines) fmt::print("  {}\n", l);
  }
  if (!skip_lines.empty()) {
    std::set<std::string> uniq(skip_lines.begin(), skip_lines.end());
    fmt::print("\nSkipped (case impl: reason):\n");
    for (auto& l : uniq) fmt::print("  {}\n", l);
  }
  if (!unmet.empty()) {
    fmt::print("\nExpectations not met:\n");
    for (auto& l : unmet) fmt::print("  {}\n", l);
  }
  if (!stopped_at.empty()) fmt::print("\nInterrupted: stopped at {}; results above are complete up to there.\n", stopped_at);
  fmt::print("\nconverge: {} runs, {} reached target, {} diverged, {} skipped, {} errors, {} expectations unmet ({:.1f} s)\n", n_runs,
             n_reached, n_div, n_skip, n_err, unmet.size(), seconds);

  if (opt.out) {
    nlohmann::json j;
    j["schema_version"] = result_schema_version;
    j["kind"] = "converge";
    j["context"] = run_context(opt.threads);
    j["suite"] = suite.source;
    j["bootstrap"] = {{"statistic", "median"}, {"level", 0.95}, {"resamples", 2000}, {"rng_seed", 20240601}};
    j["drift_policy"] = "docs/convergence.md";
    j["csv_columns"] = {"step", "epoch", "lr", "train_loss", "val_loss", "val_acc", "wall_s"};
    j["summary"] = {{"runs", n_runs}, {"reached_target", n_reached}, {"diverged", n_div}, {"skipped", n_skip}, {"errors", n_err},
                    {"expectations_unmet", unmet.size()}, {"seconds", seconds}};
    j["expectations_unmet"] = unmet;
    if (opt.shard.second > 1) j["shard"] = fmt::format("{}/{}", opt.shard.first, opt.shard.second);
    j["interrupted"] = !stopped_at.empty();
    if (!stopped_at.empty()) j["stopped_at"] = stopped_at;
    j["runs"] = runs;
    j["aggregates"] = aggregates;
    j["batch_scaling"] = scaling;
    auto path = *opt.out / "converge.json";
    write_json_atomic(path, j);
    fmt::print("wrote {} and {} curves under {}\n", path.string(), runs.size() - static_cast<std::size_t>(n_skip), (*opt.out / "curves").string());
  }
  if (!stopped_at.empty()) return 130;
  if (n_runs == n_skip) {
    std::vector<std::string> why;  // "IMPL: reason", without the case name in front
    for (auto& l : skip_lines) why.push_back(l.substr(l.find(' ') + 1));
    return nothing_checked("converge", why, opt.allow_empty);
  }
  return unmet.empty() && n_err == 0 ? 0 : 1;
}

}  // namespace adambench
