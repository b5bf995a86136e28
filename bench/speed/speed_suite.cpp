#include "speed/speed_suite.h"

#include "core/suite_fields.h"

#include <fmt/format.h>
#include <toml++/toml.h>

namespace adambench {

using namespace suite_fields;

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
