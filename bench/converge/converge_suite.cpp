// Parsing of the [converge] part of a suite file; docs/convergence.md lists every field.
#include "converge/converge.h"

#include "converge/converge_fields.h"

#include <fmt/format.h>
#include <functional>
#include <initializer_list>
#include <map>
#include <sstream>
#include <toml++/toml.h>

namespace adambench {
namespace {

using namespace suite_fields;

int value_depth(const std::string& key) {
  return key == "batch_sizes" || key == "betas" || key == "impls" || key == "seeds" ? 1 : 0;
}

// Numbers with a lower bound: else "KEY: V must be > LO" (or ">= LO").
double greater_than(const toml::node& v, const std::string& k, double lo) {
  const double x = num(v, k);
  if (!(x > lo)) throw input_error(fmt::format("{}: {} must be > {}", k, x, lo));
  return x;
}
double at_least(const toml::node& v, const std::string& k, double lo) {
  const double x = num(v, k);
  if (!(x >= lo)) throw input_error(fmt::format("{}: {} must be >= {}", k, x, lo));
  return x;
}

// One of a few names: else "KEY: 'X' must be LISTED".
template <class E>
E choice(const toml::node& v, const std::string& k, std::initializer_list<std::pair<const char*, E>> names, const char* listed) {
  const auto x = str(v, k);
  for (auto& [name, e] : names)
    if (x == name) return e;
  throw input_error(fmt::format("{}: '{}' must be {}", k, x, listed));
}

void set_options(converge_case& c, const std::string& k, const toml::node& v) {
  auto* t = v.as_table();
  if (!t) throw input_error(fmt::format("{}: expected a table, e.g. {{ dim = 100 }}", k));
  for (auto& [ok, ov] : *t) {
    std::string key(ok.str());
    if (auto d = ov.value<double>()) c.workload.num[key] = *d;
    else if (auto x = ov.value<std::string>()) c.workload.str[key] = *x;
    else throw input_error(fmt::format("options.{}: expected a number or a string", key));
  }
}

void set_betas(converge_case& c, const std::string& k, const toml::node& v) {
  auto* a = v.as_array();
  if (!a || a->size() != 2) throw input_error(fmt::format("{}: expected [beta1, beta2]", k));
  c.config.beta1 = num(*a->get(0), k);
  c.config.beta2 = num(*a->get(1), k);
}

void set_batch_sizes(converge_case& c, const std::string& k, const toml::node& v) {
  auto* a = v.as_array();
  if (!a || a->empty()) throw input_error(fmt::format("{}: expected a non-empty array of integers", k));
  c.batch_sizes.clear();
  for (auto& e : *a) c.batch_sizes.push_back(positive(e, k));
}

void set_lr_scaling(converge_case& c, const std::string& k, const toml::node& v) {
  c.scaling = choice<lr_scaling>(v, k, {{"none", lr_scaling::none}, {"linear", lr_scaling::linear}, {"sqrt", lr_scaling::sqrt}},
                                 "none, linear or sqrt");
}

void set_target_metric(converge_case& c, const std::string& k, const toml::node& v) {
  c.target_is_accuracy = choice<bool>(v, k, {{"val_loss", false}, {"val_acc", true}}, "val_loss or val_acc");
}

void set_expect(converge_case& c, const std::string& k, const toml::node& v) {
  c.expect = choice<expectation>(v, k, {{"none", expectation::none}, {"target", expectation::target}, {"diverge", expectation::diverge}},
                                 "none, target or diverge");
}

using node = toml::node;
using key = std::string;
using setter = void (*)(converge_case&, const key&, const node&);

// Every [[converge.case]] field and how it is read (docs/convergence.md).
const std::map<std::string, setter>& setters() {
  static const std::map<std::string, setter> table = {
      {"workload", [](converge_case& c, const key& k, const node& v) { c.workload.name = str(v, k); }},
      {"options", set_options},
      {"data_dir", [](converge_case& c, const key& k, const node& v) { c.workload.data_dir = str(v, k); }},
      {"text", [](converge_case& c, const key& k, const node& v) { c.workload.text_file = str(v, k); }},
      {"algo", [](converge_case& c, const key& k, const node& v) { c.config.kind = parse_algo(str(v, k)); }},
      {"lr", [](converge_case& c, const key& k, const node& v) { c.config.lr = num(v, k); }},
      {"eps", [](converge_case& c, const key& k, const node& v) { c.config.eps = num(v, k); }},
      {"weight_decay", [](converge_case& c, const key& k, const node& v) { c.config.weight_decay = num(v, k); }},
      {"amsgrad", [](converge_case& c, const key& k, const node& v) { c.config.amsgrad = boolean(v, k); }},
      {"betas", set_betas},
      {"batch_sizes", set_batch_sizes},
      {"lr_scaling", set_lr_scaling},
      {"base_batch", [](converge_case& c, const key& k, const node& v) { c.base_batch = positive(v, k); }},
      {"schedule", [](converge_case& c, const key& k, const node& v) { c.schedule.kind = parse_schedule_kind(str(v, k)); }},
      {"step_size", [](converge_case& c, const key& k, const node& v) { c.schedule.step_size = integer(v, k); }},
      {"gamma", [](converge_case& c, const key& k, const node& v) { c.schedule.gamma = num(v, k); }},
      {"t_max", [](converge_case& c, const key& k, const node& v) { c.schedule.t_max = integer(v, k); c.t_max_is_run_length = false; }},
      {"eta_min", [](converge_case& c, const key& k, const node& v) { c.schedule.eta_min = num(v, k); }},
      {"warmup", [](converge_case& c, const key& k, const node& v) { c.schedule.warmup = integer(v, k); }},
      {"start_factor", [](converge_case& c, const key& k, const node& v) { c.schedule.start_factor = num(v, k); }},
      {"factor", [](converge_case& c, const key& k, const node& v) { c.schedule.factor = num(v, k); }},
      {"patience", [](converge_case& c, const key& k, const node& v) { c.schedule.patience = integer(v, k); }},
      {"threshold", [](converge_case& c, const key& k, const node& v) { c.schedule.threshold = num(v, k); }},
      {"cooldown", [](converge_case& c, const key& k, const node& v) { c.schedule.cooldown = integer(v, k); }},
      {"min_lr", [](converge_case& c, const key& k, const node& v) { c.schedule.min_lr = num(v, k); }},
      {"steps", [](converge_case& c, const key& k, const node& v) { c.steps = positive(v, k); }},
      {"epochs", [](converge_case& c, const key& k, const node& v) { c.epochs = greater_than(v, k, 0); }},
      {"eval_every", [](converge_case& c, const key& k, const node& v) { c.eval_every = positive(v, k); }},
      {"evals", [](converge_case& c, const key& k, const node& v) { c.evals = positive(v, k); }},
      {"target", [](converge_case& c, const key& k, const node& v) { c.target = num(v, k); }},
      {"target_metric", set_target_metric},
      {"explode_factor", [](converge_case& c, const key& k, const node& v) { c.explode_factor = greater_than(v, k, 1); }},
      {"max_drift", [](converge_case& c, const key& k, const node& v) { c.max_drift = at_least(v, k, 0); }},
      {"grad_scale", [](converge_case& c, const key& k, const node& v) { c.grad_scale = greater_than(v, k, 0); }},
      {"sgd_lr", [](converge_case& c, const key& k, const node& v) { c.sgd_lr = num(v, k); }},
      {"sgd_momentum", [](converge_case& c, const key& k, const node& v) { c.sgd_momentum = num(v, k); }},
      {"expect", set_expect},
      {"impls", [](converge_case& c, const key& k, const node& v) { c.impls = str_list(v, k); }},
      {"seeds", [](converge_case& c, const key& k, const node& v) { c.seeds = seed_list(v, k); }},
  };
  return table;
}

void apply(converge_case& c, const std::string& k, const toml::node& v) {
  const auto& table = setters();
  const auto it = table.find(k);
  if (it == table.end()) throw input_error(fmt::format("{}: unknown field", k));
  it->second(c, k, v);
}

void finish_case(converge_case& c) {
  c.config.validate();
  schedule_spec probe = c.schedule;
  if (c.t_max_is_run_length) probe.t_max = std::max<std::int64_t>(probe.warmup + 1, 1);
  probe.validate();
  if (!(c.sgd_lr > 0)) throw input_error(fmt::format("invalid sgd_lr {}: must be > 0", c.sgd_lr));
  if (!(c.sgd_momentum >= 0 && c.sgd_momentum < 1)) throw input_error(fmt::format("invalid sgd_momentum {}: must be in [0, 1)", c.sgd_momentum));
  if (c.expect == expectation::target && !c.target) throw input_error("expect = \"target\" needs a target");
}

}  // namespace

void apply_converge_field(converge_case& c, const std::string& key, const toml::node& value) { apply(c, key, value); }
void finish_converge_case(converge_case& c) { finish_case(c); }

void resolve_suite_paths(converge_case& c, const std::string& source) {
  namespace fs = std::filesystem;
  if (source.rfind("embedded:", 0) == 0) return;
  const fs::path dir = fs::path(source).parent_path();
  auto resolve = [&](std::string& p) {
    if (!p.empty() && fs::path(p).is_relative() && !dir.empty()) p = (dir / p).lexically_normal().string();
  };
  resolve(c.workload.data_dir);
  resolve(c.workload.text_file);
  if (const workload_entry* w = default_workloads().find(c.workload.name))
    for (auto& key : w->path_options)
      if (auto it = c.workload.str.find(key); it != c.workload.str.end()) resolve(it->second);
}

converge_suite parse_converge_suite(const std::string& text, const std::string& source) {
  toml::table root = suite_fields::parse(text, source);
  converge_suite s;
  s.source = source;
  auto* conv = root["converge"].as_table();
  if (!conv) throw input_error(fmt::format("{}: no [converge] table", source));
  read_impls_seeds(*conv, source, "converge", "case", s.impls, s.seeds);
  auto* cases = (*conv)["case"].as_array();
  if (!cases || cases->empty()) throw input_error(fmt::format("{}: no [[converge.case]] entries", source));
  int index = 0;
  for (auto& cn : *cases) {
    ++index;
    auto* t = cn.as_table();
    if (!t) throw input_error(fmt::format("{}: converge.case {} is not a table", source, index));
    std::string base = fmt::format("case{}", index);
    if (auto nm = (*t)["name"].value<std::string>()) base = *nm;
    if (!(*t)["workload"]) throw input_error(fmt::format("{}: case {}: workload: missing (e.g. workload = \"quadratic\")", source, base));
    expand_cases<converge_case>(*t, source, base, {"name"}, value_depth, apply, [&](converge_case& c) {
      finish_case(c);
      resolve_suite_paths(c, source);
      s.cases.push_back(std::move(c));
    });
  }
  return s;
}

}  // namespace adambench
