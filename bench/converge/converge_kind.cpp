// Convergence results (converge.json) as the gate, merge and history see them.
#include "gate/gate_detail.h"
#include "gate/result_kind.h"

#include <cmath>
#include <fmt/format.h>
#include <string>

namespace adambench {

namespace {

using nlohmann::json;
using namespace gate_detail;

// Per run: steps to target, final losses, throughput and the curve's digest; per aggregate: medians over seeds.
void converge_figures(const json& j, std::vector<history::figure>& out) {
  for (auto& r : j["runs"]) {
    if (!r.is_object()) continue;
    const std::string v = r.value("verdict", "");
    if (v == "skip" || v == "error") continue;
    const std::string k = fmt::format("converge/{}/{}/b{}/seed{}", r.value("case", "?"), r.value("impl", "?"),
                                      r.value("batch_size", 0), r.value("seed", 0));
    if (r.contains("target") && r.contains("steps_to_target"))
      put_figure(out, k, "steps_to_target", r["steps_to_target"].is_number() ? number_or_nan(r["steps_to_target"]) : INFINITY, 1);
    if (r.contains("final") && r["final"].is_object())
      for (const char* m : {"train_loss", "val_loss", "val_acc"})
        if (r["final"].contains(m)) put_figure(out, k, std::string("final_") + m, number_or_nan(r["final"][m]), 1);
    if (r.contains("samples_per_s")) put_figure(out, k, "samples_per_s", number_or_nan(r["samples_per_s"]), 1);
    if (r.contains("curve_digest") && r["curve_digest"].is_string()) {
      history::figure f;
      f.benchmark = k;
      f.metric = "curve_digest";
      f.has_value = false;
      f.text = r["curve_digest"].get<std::string>();
      out.push_back(f);
    }
  }
  for (auto& a : j.value("aggregates", json::array())) {
    if (!a.is_object()) continue;
    const std::string k = fmt::format("converge/{}/{}/b{}", a.value("case", "?"), a.value("impl", "?"), a.value("batch_size", 0));
    const int seeds = a.value("seeds", 0);
    for (const char* m : {"steps_to_target", "final_val_loss", "final_val_acc", "wall_to_target_s"})
      if (a.contains(m) && a[m].is_object() && a[m].contains("median"))
        put_figure(out, k, m,
                   a[m]["median"].is_number() ? number_or_nan(a[m]["median"]) : (std::string(m) == "steps_to_target" ? INFINITY : NAN),
                   seeds);
    if (a.contains("failure_rate")) put_figure(out, k, "failure_rate", number_or_nan(a["failure_rate"]), seeds);
  }
}

}  // namespace

const result_kind& converge_result_kind() {
  static const result_kind k = [] {
    result_kind d;
    d.name = "converge";
    d.order = 3;
    d.compare = gate_detail::compare_converge;
    d.shard_lists = d.repeat_lists = {"runs", "aggregates", "batch_scaling", "expectations_unmet"};
    d.history_list = "runs";
    d.figures = converge_figures;
    d.direction = gate_detail::training_direction;
    return d;
  }();
  return k;
}

}  // namespace adambench
