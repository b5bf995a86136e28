#include "core/suite.h"

#include "core/suite_fields.h"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <toml++/toml.h>

namespace adambench {

extern const std::pair<std::string_view, std::string_view> embedded_suites[];
extern const int embedded_suite_count;

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

std::string embedded_suite(const std::string& name) {
  for (int i = 0; i < embedded_suite_count; ++i)
    if (embedded_suites[i].first == name) return std::string(embedded_suites[i].second);
  return {};
}

std::string load_suite_text(const std::string& p, std::string& source) {
  if (std::filesystem::exists(p)) {
    std::ifstream f(p);
    if (!f) throw input_error(fmt::format("{}: cannot read", p));
    std::stringstream ss;
    ss << f.rdbuf();
    source = p;
    return ss.str();
  }
  std::string name = std::filesystem::path(p).stem().string();
  std::string text = embedded_suite(name);
  if (text.empty() || p.find('/') != std::string::npos)
    throw input_error(fmt::format("{}: no such suite file", p));
  source = "embedded:" + name;
  return text;
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


namespace {

// One field of the [speed] table (docs/speed.md); `where` is "FILE: speed.KEY". A scalar where a
// list is expected means a list of one.
void apply(speed_suite& s, const std::string& key, const toml::node& v, const std::string& where) {
  if (key == "impls") {
    s.impls = one_or_list(v, where, str);
    if (s.impls.empty()) throw input_error(fmt::format("{}: must not be empty", where));
  } else if (key == "flat") {
    for (auto k : one_or_list(v, where, [](const toml::node& e, const std::string& w) { return integer_in(e, w, 0, 30, "log2 size"); }))
      s.flat_log2.push_back(static_cast<int>(k));
  } else if (key == "models") {
    s.models = one_or_list(v, where, str);
  } else if (key == "algo") {
    s.algos = one_or_list(v, where, [](const toml::node& e, const std::string& w) { return parsed(e, w, parse_algo); });
  } else if (key == "amsgrad") {
    s.amsgrad = one_or_list(v, where, boolean);
  } else if (key == "threads") {
    if (auto name = v.value<std::string>()) {
      if (*name != "all" && *name != "sweep")
        throw input_error(fmt::format("{}: expected \"all\", \"sweep\" or a list of thread counts", where));
      s.threads = *name;
    } else {
      s.threads = "list";
      for (auto t : one_or_list(v, where, [](const toml::node& e, const std::string& w) { return positive(e, w, "thread count"); }))
        s.thread_list.push_back(static_cast<int>(t));
    }
  } else if (key == "weight_decay") {
    s.weight_decay = num(v, where);
  } else if (key == "repetitions") {
    s.repetitions = static_cast<int>(integer_in(v, where, 1, 1000));
  } else if (key == "min_time" || key == "warmup_time") {
    (key == "min_time" ? s.min_time : s.warmup_time) = num_in(v, where, 0, 3600, "seconds");
  } else {
    throw input_error(fmt::format("{}: unknown field", where));
  }
}

}  // namespace

speed_suite parse_speed_suite(const std::string& text, const std::string& source) {
  toml::table root = suite_fields::parse(text, source);
  speed_suite s;
  s.source = source;
  auto* sp = root["speed"].as_table();
  if (!sp) throw input_error(fmt::format("{}: no [speed] table", source));
  for (auto& [k, v] : *sp) apply(s, std::string(k.str()), v, fmt::format("{}: speed.{}", source, k.str()));
  if (s.flat_log2.empty() && s.models.empty()) throw input_error(fmt::format("{}: speed: no shapes (give flat and/or models)", source));
  if (s.algos.empty() || s.amsgrad.empty()) throw input_error(fmt::format("{}: speed: algo and amsgrad must not be empty", source));
  try {
    adam_config{}.with_weight_decay(s.weight_decay).validate();
  } catch (const input_error& e) {
    throw input_error(fmt::format("{}: speed.weight_decay: {}", source, e.what()));
  }
  return s;
}

}  // namespace adambench
