// Parsing of the [sweep] part of a suite; docs/tuning.md lists every field.
#include "converge/converge_fields.h"
#include "sweep/sweep_fields.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace adambench {
namespace {

using namespace suite_fields;

factor_value value_of(const toml::node& n, const std::string& where) {
  if (auto i = n.value_exact<std::int64_t>()) return {*i, fmt::format("{}", *i)};
  if (auto d = n.value_exact<double>()) return {*d, fmt::format("{:g}", *d)};
  if (auto s = n.value_exact<std::string>()) return {*s, *s};
  if (auto b = n.value_exact<bool>()) return {*b, *b ? "true" : "false"};
  throw input_error(fmt::format("{}: expected a number, string or boolean", where));
}

// `[a, b, ...]`, or `{ log = [lo, hi], points = n }` (log-spaced), or `{ lin = [lo, hi], points = n }`.
std::vector<factor_value> values_of_factor(const toml::node& n, const std::string& where) {
  std::vector<factor_value> out;
  if (auto* a = n.as_array()) {
    for (auto& e : *a) out.push_back(value_of(e, where));
  } else if (auto* t = n.as_table()) {
    const bool log = t->contains("log");
    for (auto& [k, v] : *t)
      if (k.str() != "log" && k.str() != "lin" && k.str() != "points") throw input_error(fmt::format("{}.{}: unknown field", where, k.str()));
    auto* range = (*t)[log ? "log" : "lin"].as_array();
    if (!range || range->size() != 2 || !(*t)["points"]) throw input_error(fmt::format("{}: expected {{ log = [lo, hi], points = n }} or {{ lin = [lo, hi], points = n }}", where));
    const double lo = num(*range->get(0), where), hi = num(*range->get(1), where);
    const auto pts = positive(*t->get("points"), where + ".points");
    if (log && !(lo > 0 && hi > 0)) throw input_error(fmt::format("{}: a log range needs lo, hi > 0", where));
    for (std::int64_t i = 0; i < pts; ++i) {
      const double f = pts == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(pts - 1);
      const double x = log ? std::exp(std::log(lo) + f * (std::log(hi) - std::log(lo))) : lo + f * (hi - lo);
      out.push_back({x, fmt::format("{:.3g}", x)});
    }
  } else {
    out.push_back(value_of(n, where));
  }
  if (out.empty()) throw input_error(fmt::format("{}: no values", where));
  return out;
}

std::vector<std::pair<std::string, factor_value>> settings_of(const toml::node& n, const std::string& where) {
  auto* t = n.as_table();
  if (!t) throw input_error(fmt::format("{}: expected a table of settings, e.g. {{ beta2 = 0.99 }}", where));
  std::vector<std::pair<std::string, factor_value>> out;
  for (auto& [k, v] : *t) out.emplace_back(std::string(k.str()), value_of(v, fmt::format("{}.{}", where, k.str())));
  return out;
}

sweep_claim parse_claim(const toml::table& t) {
  sweep_claim c;
  for (auto& [k, v] : t) {
    const std::string key(k.str()), where = "claim." + key;
    if (key == "advice") c.advice = str(v, where);
    else if (key == "kind") {
      c.kind = str(v, where);
      if (c.kind != "compare" && c.kind != "lr_batch_exponent") throw input_error(fmt::format("{}: '{}' must be compare or lr_batch_exponent", where, c.kind));
    } else if (key == "metric") {
      c.metric = str(v, where);
      if (c.metric != "final_val_loss" && c.metric != "final_train_loss" && c.metric != "final_val_acc" && c.metric != "gap" && c.metric != "steps_to_target")
        throw input_error(fmt::format("{}: '{}' must be final_val_loss, final_train_loss, final_val_acc, gap or steps_to_target", where, c.metric));
    } else if (key == "better") {
      const auto b = str(v, where);
      if (b != "lower" && b != "higher") throw input_error(fmt::format("{}: '{}' must be lower or higher", where, b));
      c.higher_is_better = b == "higher";
    } else if (key == "effect") {
      const auto e = str(v, where);
      if (e != "relative" && e != "absolute") throw input_error(fmt::format("{}: '{}' must be relative or absolute", where, e));
      c.relative = e == "relative";
    } else if (key == "min_effect") {
      c.min_effect = num(v, where);
      if (!(c.min_effect >= 0)) throw input_error(fmt::format("{}: {} must be >= 0", where, c.min_effect));
    } else if (key == "a") c.a = settings_of(v, where);
    else if (key == "b") c.b = settings_of(v, where);
    else throw input_error(fmt::format("{}: unknown field", where));
  }
  if (c.advice.empty()) throw input_error("claim.advice: missing");
  if (c.kind == "compare" && (c.a.empty() || c.b.empty())) throw input_error("claim: a compare claim needs a = { ... } and b = { ... }");
  return c;
}

// The factors of a list-mode study: every key the points name, with the values they give (first seen first).
std::vector<sweep_factor> listed_factors(const sweep_study& s) {
  std::vector<sweep_factor> out;
  for (auto& point : s.listed)
    for (auto& [k, v] : point) {
      auto f = std::find_if(out.begin(), out.end(), [&](const sweep_factor& x) { return x.name == k; });
      if (f == out.end()) f = out.insert(out.end(), sweep_factor{k, {}});
      if (std::none_of(f->values.begin(), f->values.end(), [&](const factor_value& x) { return x.v == v.v; })) f->values.push_back(v);
    }
  return out;
}

}  // namespace

sweep_study parse_sweep_study(const toml::table& t, const std::string& name) {
  sweep_study s;
  s.name = name;
  bool list_mode = false;
  for (auto& [k, v] : t) {
    const std::string key(k.str());
    if (key == "mode") {
      const auto m = str(v, key);
      if (m != "one_factor" && m != "grid" && m != "list") throw input_error(fmt::format("mode: '{}' must be one_factor, grid or list", m));
      s.grid = m == "grid";
      list_mode = m == "list";
    } else if (key == "points") {
      auto* pa = v.as_array();
      if (!pa || pa->empty()) throw input_error("points: expected an array of settings, e.g. points = [{ algo = \"adamw\", weight_decay = 0.01 }]");
      for (std::size_t i = 0; i < pa->size(); ++i) s.listed.push_back(settings_of(*pa->get(i), fmt::format("points[{}]", i)));
    } else if (key == "vary") {
      auto* vt = v.as_table();
      if (!vt || vt->empty()) throw input_error("vary: expected a table of factors, e.g. vary = { lr = [1e-3, 1e-2] }");
      for (auto& [fk, fv] : *vt) s.factors.push_back({std::string(fk.str()), values_of_factor(fv, "vary." + std::string(fk.str()))});
    } else if (key == "claim") {  // one table, or an array of them
      if (auto* ct = v.as_table()) s.claims.push_back(parse_claim(*ct));
      else if (auto* ca = v.as_array(); ca && !ca->empty())
        for (auto& e : *ca) {
          if (!e.as_table()) throw input_error("claim: expected a table or an array of tables");
          s.claims.push_back(parse_claim(*e.as_table()));
        }
      else throw input_error("claim: expected a table or an array of tables");
    } else if (key == "impls") s.impls = str_list(v, key);
    else if (key == "seeds") s.seeds = seed_list(v, key);
    else if (key != "name") apply_converge_field(s.base, key, v);
  }
  if (s.base.workload.name.empty()) throw input_error("workload: missing (e.g. workload = \"quadratic\")");
  if (list_mode != !s.listed.empty()) throw input_error(list_mode ? "points: missing (mode = \"list\" runs the listed points)" : "points: only with mode = \"list\"");
  if (list_mode && !s.factors.empty()) throw input_error("vary: not with mode = \"list\" (the points name their settings)");
  if (list_mode) s.factors = listed_factors(s);
  if (s.factors.empty()) throw input_error("vary: missing (a study varies at least one factor)");
  s.base.name = name;
  finish_converge_case(s.base);
  if (s.base.batch_sizes.size() != 1) throw input_error("batch_sizes: a study's base has one batch size (vary batch_size to sweep it)");
  for (auto& cl : s.claims)
    for (auto* side : {&cl.a, &cl.b})
      for (auto& [k, v] : *side)
        if (std::none_of(s.factors.begin(), s.factors.end(), [&](const sweep_factor& f) { return f.name == k; }))
          throw input_error(fmt::format("claim: {} is not a factor of the study (vary it)", k));
  for (auto& cl : s.claims)
    if (cl.kind == "lr_batch_exponent" && (!s.grid || s.factors.size() != 2))
    throw input_error("claim: lr_batch_exponent needs mode = \"grid\" over lr and batch_size");
  sweep_points(sweep_suite{"", {}, {0}, {s}});  // every point's settings are valid
  return s;
}

const char* mode_name(const sweep_study& s) { return s.grid ? "grid" : s.listed.empty() ? "one_factor" : "list"; }

sweep_suite parse_sweep_suite(const std::string& text, const std::string& source) {
  toml::table root = suite_fields::parse(text, source);
  sweep_suite s;
  s.source = source;
  auto* sw = root["sweep"].as_table();
  if (!sw) throw input_error(fmt::format("{}: no [sweep] table", source));
  read_impls_seeds(*sw, source, "sweep", "study", s.impls, s.seeds);
  auto* studies = (*sw)["study"].as_array();
  if (!studies || studies->empty()) throw input_error(fmt::format("{}: no [[sweep.study]] entries", source));
  int index = 0;
  for (auto& sn : *studies) {
    ++index;
    auto* t = sn.as_table();
    if (!t) throw input_error(fmt::format("{}: sweep.study {} is not a table", source, index));
    std::string name = fmt::format("study{}", index);
    if (auto nm = (*t)["name"].value<std::string>()) name = *nm;
    try {
      s.studies.push_back(parse_sweep_study(*t, name));
      resolve_suite_paths(s.studies.back().base, source);
    } catch (const input_error& e) {
      throw input_error(fmt::format("{}: sweep.study {}: {}", source, name, e.what()));
    }
  }
  return s;
}

}  // namespace adambench
