// `adambench calibrate`: A/A, one build K times: noise floors and the gate's false-alarm rate (docs/gate.md).
#include "cli/command.h"
#include "cli/gate_common.h"
#include "core/results.h"

#include <algorithm>
#include <fmt/format.h>

namespace adambench {
namespace {

namespace fs = std::filesystem;

struct calibrate_state {
  std::string bin, out_dir;
  int runs = 5, group = 3;
  std::vector<std::string> args;
  gate_thresholds th;
};

// The false-alarm rate of the gate as used: consecutive groups of `group` runs compared pairwise
// (group a as baseline, b as candidate), each pair with noise floors measured on the runs outside
// both groups (out of sample), or on all runs when fewer than two are left (in sample).
nlohmann::json false_alarms_of(const calibrate_state& g, const std::vector<loaded_result>& runs) {
  const int ng = static_cast<int>(runs.size()) / g.group;
  int comparisons = 0, alarms = 0, inconclusive = 0;
  bool in_sample = false;
  nlohmann::json pairs = nlohmann::json::array();
  auto slice = [&](int k) { return std::vector<loaded_result>(runs.begin() + k * g.group, runs.begin() + (k + 1) * g.group); };
  for (int a = 0; a < ng; ++a)
    for (int b = a + 1; b < ng; ++b) {
      std::vector<loaded_result> rest;
      for (int r = 0; r < static_cast<int>(runs.size()); ++r)
        if (r / g.group != a && r / g.group != b) rest.push_back(runs[static_cast<std::size_t>(r)]);
      gate_options o = g.th.opt;
      in_sample = in_sample || rest.size() < 2;
      o.noise = speed_noise_of(rest.size() >= 2 ? rest : runs);
      const gate_report rep = compare_results(slice(a), slice(b), o);
      int n = 0;
      for (auto& row : rep.rows)
        if (row.kind == "speed" && row.verdict != "new") ++n;
      comparisons += n;
      alarms += rep.regressions + rep.improvements;
      inconclusive += rep.inconclusive;
      pairs.push_back({{"a", a + 1}, {"b", b + 1}, {"compared", n}, {"regressions", rep.regressions},
                       {"improvements", rep.improvements}, {"inconclusive", rep.inconclusive}});
    }
  return {{"group", g.group}, {"comparisons", comparisons}, {"false_alarms", alarms}, {"inconclusive", inconclusive},
          {"false_alarm_rate", comparisons ? static_cast<double>(alarms) / comparisons : 0.0},
          {"noise", in_sample ? "in sample" : "out of sample"}, {"pairs", pairs}};
}

// The noise floors, largest first: the benchmarks a gate can judge least finely.
void print_noise(const nlohmann::json& noise) {
  std::vector<std::pair<double, std::string>> rows;
  for (auto& [k, e] : noise["benchmarks"].items()) rows.emplace_back(e.value("time", 0.0), k);
  std::sort(rows.rbegin(), rows.rend());
  fmt::print("A/A noise floor per benchmark over {} runs ((max - min) / min of the run medians; time, fraction of probe):\n",
             noise["runs"].get<int>());
  for (auto& [t, k] : rows) {
    const auto& e = noise["benchmarks"][k];
    fmt::print("  {:>6.1f}%  {:>8}  {}\n", 100.0 * t,
               e.contains("probe_fraction") ? fmt::format("{:.1f}%", 100.0 * e["probe_fraction"].get<double>()) : "-", k);
  }
}

int run_calibrate(const calibrate_state& g) {
  check_binary(g.bin);
  if (g.runs < 2 * g.group)
    throw input_error(fmt::format("calibrate: --runs {} is fewer than two groups of --group {}", g.runs, g.group));
  std::vector<loaded_result> runs;
  for (int r = 0; r < g.runs; ++r) {
    fs::path dir = fs::path(g.out_dir) / fmt::format("run-{}", r + 1);
    check_child(run_child(g.bin, g.args, dir), g.bin, "run", r + 1);
    runs.push_back(load_result(result_in(dir)));
    if (runs.back().kind != "speed")
      throw input_error(fmt::format("calibrate: {} is a {} result: calibrate measures speed (-- speed SUITE ...)", runs.back().path.string(),
                                    runs.back().kind));
  }
  const nlohmann::json noise = speed_noise_of(runs);
  nlohmann::json base = merge_repeats(runs);
  base["adambench_noise"] = noise;
  write_json_atomic(fs::path(g.out_dir) / "baseline.json", checked_result(std::move(base), "baseline.json").json);
  nlohmann::json cal{{"schema_version", result_schema_version}, {"kind", "calibration"},
                     {"thresholds", {{"min_effect", g.th.opt.min_effect}, {"alpha", g.th.opt.alpha}}}, {"runs", g.runs}};
  cal.update(false_alarms_of(g, runs));
  cal["adambench_noise"] = noise;
  const auto out = checked_result(std::move(cal), "calibration.json").json;
  write_json_atomic(fs::path(g.out_dir) / "calibration.json", out);
  print_noise(noise);
  fmt::print("A/A calibration: {} runs in groups of {}, {} comparisons, {} false alarms ({:.1f}%), {} inconclusive "
             "(noise {}; thresholds: effect >= max({:.0f}%, noise), alpha {})\n",
             g.runs, g.group, out["comparisons"].get<int>(), out["false_alarms"].get<int>(), 100.0 * out["false_alarm_rate"].get<double>(),
             out["inconclusive"].get<int>(), out["noise"].get<std::string>(), 100.0 * g.th.opt.min_effect, g.th.opt.alpha);
  fmt::print("wrote {} (the runs with their noise floors: a baseline for compare) and {}\n",
             (fs::path(g.out_dir) / "baseline.json").string(), (fs::path(g.out_dir) / "calibration.json").string());
  return 0;
}

command_run calibrate_options_of(CLI::App& c, int&) {
  auto g = std::make_shared<calibrate_state>();
  c.add_option("--bin", g->bin, "adambench binary")->required();
  c.add_option("--runs", g->runs, "whole runs (K >= 2 x --group)")->check(CLI::Range(2, 100));
  c.add_option("--group", g->group, "runs per side when estimating the false-alarm rate (default 3)")->check(CLI::Range(2, 50));
  c.add_option("--out", g->out_dir, "folder for every run, baseline.json and calibration.json")->required();
  c.add_option("args", g->args, "after --: the subcommand and its arguments")->required();
  g->th.add(c);
  return [g](const command_env&) { return run_calibrate(*g); };
}

ADAMBENCH_REGISTER_COMMAND("calibrate",
                           "A/A: run one build K times; store each benchmark's noise floor with the runs, and report the false-alarm rate",
                           90, calibrate_options_of);

}  // namespace
}  // namespace adambench
