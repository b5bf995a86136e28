// Sweep results (sweep.json, docs/tuning.md) as merge and history see them; sweeps are not gated.
#include "core/stats.h"
#include "gate/gate_detail.h"
#include "gate/result_kind.h"

#include <cmath>
#include <fmt/format.h>
#include <functional>
#include <map>

namespace adambench {

namespace {

using nlohmann::json;
using namespace gate_detail;

// A sweep point: its name (or study, workload, implementation and factors) names it; its figures
// are the medians over its seeds of its metrics (final losses...) and how often it diverged.
void sweep_figures(const json& j, std::vector<history::figure>& out) {
  std::function<void(const json&, const std::string&, std::map<std::string, std::vector<double>>&)> numbers =
      [&](const json& o, const std::string& prefix, std::map<std::string, std::vector<double>>& acc) {
        for (auto& [k, v] : o.items()) {
          const std::string name = prefix.empty() ? k : prefix + "_" + k;
          if (v.is_object()) numbers(v, name, acc);
          else if (v.is_number() && k != "seed" && k != "diverged_at_step") acc[name].push_back(v.get<double>());
        }
      };
  for (auto& p : j["points"]) {
    if (!p.is_object()) continue;
    if (p.contains("point") && p["point"].is_string()) {
      // `adambench sweep`'s layout (docs/tuning.md): named points, metrics as {median, lo, hi} over seeds.
      const std::string k = fmt::format("sweep/{}/{}/b{}", p["point"].get<std::string>(), p.value("impl", "?"), p.value("batch_size", 0));
      const int seeds = p.value("seeds", 0);
      if (seeds == 0) continue;  // skipped point
      for (auto& [m, v] : p.items()) {
        if (v.is_object() && v.contains("median")) {
          const bool inf_if_null = m.find("loss") != std::string::npos || m.find("steps_to_target") != std::string::npos;
          put_figure(out, k, m, v["median"].is_number() ? v["median"].get<double>() : inf_if_null ? INFINITY : NAN, seeds);
        } else if (v.is_number() && m != "seeds" && m != "batch_size" && m != "grad_scale") {
          put_figure(out, k, m, v.get<double>(), seeds);
        }
      }
      continue;
    }
    std::string k = "sweep";
    for (const char* f : {"study", "workload", "impl"})
      if (p.contains(f) && p[f].is_string()) k += "/" + p[f].get<std::string>();
    if (p.contains("factors") && p["factors"].is_object())
      for (auto& [f, v] : p["factors"].items()) k += fmt::format("/{}={}", f, v.is_string() ? v.get<std::string>() : v.dump());
    std::map<std::string, std::vector<double>> acc;
    int runs = 0, diverged = 0;
    for (auto& r : p.value("runs", json::array())) {
      if (!r.is_object()) continue;
      ++runs;
      if (r.contains("diverged_at_step") && !r["diverged_at_step"].is_null()) ++diverged;
      numbers(r, "", acc);
    }
    for (auto& [m, v] : acc) put_figure(out, k, m, stats::median(v), runs);
    if (runs) put_figure(out, k, "diverged_fraction", static_cast<double>(diverged) / runs, runs);
    for (auto& [m, v] : p.items())  // figures stated on the point itself
      if (v.is_number()) put_figure(out, k, m, v.get<double>(), runs);
  }
}

}  // namespace

const result_kind& sweep_result_kind() {
  static const result_kind k = [] {
    result_kind d;
    d.name = "sweep";
    d.order = 4;
    d.shard_lists = d.repeat_lists = {"studies", "points", "claims"};  // shards split by study
    d.history_list = "points";
    d.figures = sweep_figures;
    d.direction = gate_detail::training_direction;
    return d;
  }();
  return k;
}

}  // namespace adambench
