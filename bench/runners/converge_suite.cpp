// Parsing of the [converge] part of a suite file; docs/convergence.md lists every field.
#include "runners/converge.h"

#include "runners/converge_fields.h"

#include <fmt/format.h>
#include <functional>
#include <sstream>
#include <toml++/toml.h>

namespace adambench {
namespace {

using namespace suite_fields;

int value_depth(const std::string& key) {
  return key == "batch_sizes" || key == "betas" || key == "impls" || key == "seeds" ? 1 : 0;
}

void apply(converge_case& c, const std::string& k, const toml::node& v) {
  auto& s = c.schedule;
  if (k == "workload") c.workload.name = str(v, k);
  else if (k == "options") {
    auto* t = v.as_table();
    if (!t) throw input_error(fmt::format("{}: expected a table, e.g. {{ dim = 100 }}", k));
    for (auto& [ok, ov] : *t) {
      std::string key(ok.str());
      if (auto d = ov.value<double>()) c.workload.num[key] = *d;
      else if (auto x = ov.value<std::string>()) c.workload.str[key] = *x;
      else throw input_error(fmt::format("options.{}: expected a number or a string", key));
    }
  } else if (k == "data_dir") c.workload.data_dir = str(v, k);
  else if (k == "text") c.workload.text_file = str(v, k);
  else if (k == "algo") c.config.kind = parse_algo(str(v, k));
  else if (k == "lr") c.config.lr = num(v, k);
  else if (k == "eps") c.config.eps = num(v, k);
  else if (k == "weight_decay") c.config.weight_decay = num(v, k);
  else if (k == "amsgrad") c.config.amsgrad = boolean(v, k);
  else if (k == "betas") {
    auto* a = v.as_array();
    if (!a || a->size() != 2) throw input_error(fmt::format("{}: expected [beta1, beta2]", k));
    c.config.beta1 = num(*a->get(0), k);
    c.config.beta2 = num(*a->get(1), k);
  } else if (k == "batch_sizes") {
    auto* a = v.as_array();
    if (!a || a->empty()) throw input_error(fmt::format("{}: expected a non-empty array of integers", k));
    c.batch_sizes.clear();
    for (auto& e : *a) c.batch_sizes.push_back(positive(e, k));
  } else if (k == "lr_scaling") {
    auto x = str(v, k);
    if (x == "none") c.scaling = lr_scaling::none;
    else if (x == "linear") c.scaling = lr_scaling::linear;
    else if (x == "sqrt") c.scaling = lr_scaling::sqrt;
    else throw input_error(fmt::format("{}: '{}' must be none, linear or sqrt", k, x));
  } else if (k == "base_batch") c.base_batch = positive(v, k);
  else if (k == "schedule") s.kind = parse_schedule_kind(str(v, k));
  else if (k == "step_size") s.step_size = integer(v, k);
  else if (k == "gamma") s.gamma = num(v, k);
  else if (k == "t_max") { s.t_max = integer(v, k); c.t_max_is_run_length = false; }
  else if (k == "eta_min") s.eta_min = num(v, k);
  else if (k == "warmup") s.warmup = integer(v, k);
  else if (k == "start_factor") s.start_factor = num(v, k);
  else if (k == "factor") s.factor = num(v, k);
  else if (k == "patience") s.patience = integer(v, k);
  else if (k == "threshold") s.threshold = num(v, k);
  else if (k == "cooldown") s.cooldown = integer(v, k);
  else if (k == "min_lr") s.min_lr = num(v, k);
  else if (k == "steps") c.steps = positive(v, k);
  else if (k == "epochs") {
    c.epochs = num(v, k);
    if (!(c.epochs > 0)) throw input_error(fmt::format("{}: {} must be > 0", k, c.epochs));
  } else if (k == "eval_every") c.eval_every = positive(v, k);
  else if (k == "evals") c.evals = positive(v, k);
  else if (k == "target") c.target = num(v, k);
  else if (k == "target_metric") {
    auto x = str(v, k);
    if (x != "val_loss" && x != "val_acc") throw input_error(fmt::format("{}: '{}' must be val_loss or val_acc", k, x));
    c.target_is_accuracy = x == "val_acc";
  } else if (k == "explode_factor") {
    c.explode_factor = num(v, k);
    if (!(c.explode_factor > 1)) throw input_error(fmt::format("{}: {} must be > 1", k, c.explode_factor));
  } else if (k == "max_drift") {
    c.max_drift = num(v, k);
    if (!(*c.max_drift >= 0)) throw input_error(fmt::format("{}: {} must be >= 0", k, *c.max_drift));
  } else if (k == "grad_scale") {
    c.grad_scale = num(v, k);
    if (!(c.grad_scale > 0)) throw input_error(fmt::format("{}: {} must be > 0", k, c.grad_scale));
  } else if (k == "sgd_lr") c.sgd_lr = num(v, k);
  else if (k == "sgd_momentum") c.sgd_momentum = num(v, k);
  else if (k == "expect") {
    auto x = str(v, k);
    if (x == "none") c.expect = expectation::none;
    else if (x == "target") c.expect = expectation::target;
    else if (x == "diverge") c.expect = expectation::diverge;
    else throw input_error(fmt::format("{}: '{}' must be none, target or diverge", k, x));
  } else if (k == "impls") c.impls = str_list(v, k);
  else if (k == "seeds") c.seeds = seed_list(v, k);
  else {
    throw input_error(fmt::format("{}: unknown field", k));
  }
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
      s.cases.push_back(std::move(c));
    });
  }
  return s;
}

}  // namespace adambench
