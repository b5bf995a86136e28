#include "agree/agree_suite.h"

#include "core/suite_fields.h"

#include <fmt/format.h>
#include <toml++/toml.h>

namespace adambench {

const char* to_string(grad_kind g) {
  switch (g) {
    case grad_kind::normal: return "normal";
    case grad_kind::wide: return "wide";
    case grad_kind::zero: return "zero";
    case grad_kind::tiny: return "tiny";
    case grad_kind::huge: return "huge";
    case grad_kind::nan: return "nan";
    case grad_kind::inf: return "inf";
  }
  return "?";
}

grad_kind parse_grad_kind(const std::string& s) {
  for (auto g : {grad_kind::normal, grad_kind::wide, grad_kind::zero, grad_kind::tiny, grad_kind::huge, grad_kind::nan, grad_kind::inf})
    if (s == to_string(g)) return g;
  throw input_error(fmt::format("invalid grad '{}': must be normal, wide, zero, tiny, huge, nan or inf", s));
}

namespace {

using namespace suite_fields;

void apply(agree_case& c, const std::string& key, const toml::node& v, const std::string& where) {
  if (key == "algo") c.config.kind = parse_algo(str(v, where));
  else if (key == "lr") c.config.lr = num(v, where);
  else if (key == "eps") c.config.eps = num(v, where);
  else if (key == "weight_decay") c.config.weight_decay = num(v, where);
  else if (key == "amsgrad") c.config.amsgrad = boolean(v, where);
  else if (key == "maximize") c.config.maximize = boolean(v, where);
  else if (key == "betas") {
    auto* a = v.as_array();
    if (!a || a->size() != 2) throw input_error(fmt::format("{}: expected [beta1, beta2]", where));
    c.config.beta1 = num(*a->get(0), where);
    c.config.beta2 = num(*a->get(1), where);
  } else if (key == "grad") c.grad = parse_grad_kind(str(v, where));
  else if (key == "grad_scale") c.grad_scale = num(v, where);
  else if (key == "param_scale") c.param_scale = num(v, where);
  else if (key == "state") {
    auto s = str(v, where);
    if (s != "zero" && s != "random") throw input_error(fmt::format("{}: expected \"zero\" or \"random\"", where));
    c.random_state = s == "random";
  } else if (key == "start_step") {
    c.start_step = integer(v, where);
    if (c.start_step < 0) throw input_error(fmt::format("{}: must be >= 0", where));
  } else if (key == "lr_decay") c.lr_decay = num(v, where);
  else if (key == "check_steps") {
    c.check_steps = int_list(v, where);
    if (c.check_steps.empty()) throw input_error(fmt::format("{}: must not be empty", where));
    for (std::size_t i = 0; i < c.check_steps.size(); ++i)
      if (c.check_steps[i] < 1 || (i && c.check_steps[i] <= c.check_steps[i - 1]))
        throw input_error(fmt::format("{}: must be increasing and >= 1", where));
  } else if (key == "shapes") {
    auto* a = v.as_array();
    if (!a) throw input_error(fmt::format("{}: expected an array of shapes, e.g. [[1023], [], [0]]", where));
    c.shapes.clear();
    for (auto& s : *a) {
      auto dims = int_list(s, where);
      for (auto d : dims)
        if (d < 0) throw input_error(fmt::format("{}: negative dimension {}", where, d));
      c.shapes.push_back(dims);
    }
  } else {
    throw input_error(fmt::format("{}: unknown field", where));
  }
}

int value_depth(const std::string& key) {
  if (key == "shapes") return 2;
  if (key == "check_steps" || key == "betas") return 1;
  return 0;
}

}  // namespace

agree_suite parse_agree_suite(const std::string& text, const std::string& source) {
  toml::table root = suite_fields::parse(text, source);
  agree_suite s;
  s.source = source;
  auto* agree = root["agree"].as_table();
  if (!agree) throw input_error(fmt::format("{}: no [agree] table", source));
  if (auto* a = (*agree)["impls"].as_array())
    for (auto& e : *a) s.impls.push_back(str(e, source + ": agree.impls"));
  if (auto* a = (*agree)["dtypes"].as_array()) {
    s.dtypes.clear();
    for (auto& e : *a) s.dtypes.push_back(parse_dtype(str(e, source + ": agree.dtypes")));
  }
  if (auto* a = (*agree)["seeds"].as_array()) {
    s.seeds.clear();
    for (auto& e : *a) s.seeds.push_back(static_cast<std::uint64_t>(integer(e, source + ": agree.seeds")));
  }
  for (auto& [k, v] : *agree) {
    std::string key(k.str());
    if (key != "impls" && key != "dtypes" && key != "seeds" && key != "case")
      throw input_error(fmt::format("{}: agree.{}: unknown field", source, key));
  }
  auto* cases = (*agree)["case"].as_array();
  if (!cases || cases->empty()) throw input_error(fmt::format("{}: no [[agree.case]] entries", source));
  int index = 0;
  for (auto& cn : *cases) {
    ++index;
    auto* t = cn.as_table();
    if (!t) throw input_error(fmt::format("{}: agree.case {} is not a table", source, index));
    std::string base = fmt::format("case{}", index);
    if (auto nm = (*t)["name"].value<std::string>()) base = *nm;
    expand_cases<agree_case>(
        *t, source, base, {"name"}, value_depth, [](agree_case& c, const std::string& k, const toml::node& v) { apply(c, k, v, k); },
        [&](agree_case& c) {
          c.config.validate();
          if (c.shapes.empty()) c.shapes = {{1023}};
          s.cases.push_back(std::move(c));
        });
  }
  return s;
}

}  // namespace adambench
