// `adambench list`: the implementations in this build and what they support.
#include "cli/command.h"

#include <fmt/format.h>

namespace adambench {
namespace {

int run_list(const registry& reg) {
  for (auto& e : reg.all()) {
    fmt::print("{:<18} {}\n", e.name, e.description);
    for (dtype d : {dtype::float32, dtype::float64}) {
      case_features f;
      f.type = d;
      for (algo a : {algo::adam, algo::adamw}) {
        support s = e.supports(adam_config{}.with_algo(a), f);
        if (!s.ok) fmt::print("{:<18}   {} {}: unavailable: {}\n", "", to_string(a), to_string(d), s.reason);
      }
    }
    support s = e.supports(adam_config{}.with_maximize(true), case_features{});
    if (!s.ok) fmt::print("{:<18}   maximize: unavailable: {}\n", "", s.reason);
  }
  return 0;
}

ADAMBENCH_REGISTER_COMMAND("list", "implementations in this build and what they support", 50,
                           [](CLI::App&, int&) -> command_run { return [](const command_env& env) { return run_list(env.reg); }; });

}  // namespace
}  // namespace adambench
