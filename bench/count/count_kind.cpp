// Counted speed results (count.json, docs/speed.md "Counted speed") as the gate, merge and history
// see them. Counts are a property of the instrument too: another compiler, kernel flags, ISA,
// Valgrind or cache model is another scale, so those are facts two compared results share.
#include "gate/gate_detail.h"
#include "gate/result_kind.h"

#include <fmt/format.h>

namespace adambench {

namespace {

using nlohmann::json;
using namespace gate_detail;

std::map<std::string, std::string> count_setup(const json& j) {
  std::map<std::string, std::string> s = standard_setup(j);
  const json& b = j["build"];
  const json& c = j["counting"];
  s["compiler"] = str_or(b, "compiler", "?");
  s["kernel flags"] = str_or(b, "kernel_flags", "?");
  s["ISA"] = str_or(b, "isa", "?");
  s["Valgrind"] = str_or(c, "valgrind", "?");
  s["cache model"] = c["cache"].dump();
  return s;
}

// Counted pieces are also one instrument: the same kernel flags and ISA.
piece_facts count_pieces(const json& j) {
  piece_facts f = standard_pieces(j);
  if (j.contains("build") && j["build"].is_object())
    f.build += fmt::format(" ({}; {})", str_or(j["build"], "kernel_flags", "?"), str_or(j["build"], "isa", "?"));
  return f;
}

// A counted benchmark's figures per step and per parameter. Counts are exact, so the
// "repetitions" of each figure is the number of counted steps.
void count_figures(const json& j, std::vector<history::figure>& out) {
  const int steps = j.contains("counting") && j["counting"].is_object() ? j["counting"].value("steps", 0) : 0;
  for (auto& r : j["results"]) {
    if (!r.is_object() || r.value("verdict", "") != "counted" || r.value("below_minimum", false)) continue;
    const std::string k = "count/" + r.value("name", std::string("?"));
    for (const char* part : {"per_step", "per_param"})
      if (r.contains(part) && r[part].is_object())
        for (auto& [m, v] : r[part].items())
          if (v.is_number()) put_figure(out, k, m + "_" + part, v.get<double>(), steps);
  }
}

// Every figure is a cost (instructions, misses, bytes, cycles); the probe is the yardstick.
int count_direction(const std::string& benchmark, const std::string&) { return benchmark.starts_with("count/probe/") ? 0 : -1; }

}  // namespace

const result_kind& count_result_kind() {
  static const result_kind k = [] {
    result_kind d;
    d.name = "count";
    d.order = 5;
    d.compare = gate_detail::compare_count;
    d.setup = count_setup;
    d.shard_lists = d.repeat_lists = {"results"};
    d.pieces = count_pieces;
    d.history_list = "results";
    d.figures = count_figures;
    d.direction = count_direction;
    return d;
  }();
  return k;
}

}  // namespace adambench
