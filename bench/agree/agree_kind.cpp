// Agreement results (agree.json) as the gate, merge and history see them.
#include "gate/gate_detail.h"
#include "gate/result_kind.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>

namespace adambench {

namespace {

using nlohmann::json;
using namespace gate_detail;

// Worst error over every checked array, in u * bound; a non-finite error (JSON null) is infinite.
double worst_err_u(const json& r) {
  double w = 0;
  for (auto& c : r.value("checks", json::array()))
    for (const char* a : {"params", "m", "v", "max_v"})
      if (c.is_object() && c.contains(a) && c[a].is_object() && c[a].contains("max_err_u")) {
        const json& e = c[a]["max_err_u"];
        w = std::max(w, e.is_number() ? e.get<double>() : INFINITY);  // JSON null: inf
      }
  return w;
}

// Per case, implementation and dtype: the worst error over the seeds that passed, and how many failed.
void agree_figures(const json& j, std::vector<history::figure>& out) {
  struct acc {
    double worst = 0;
    int seeds = 0, failed = 0;
  };
  std::map<std::string, acc> by;
  for (auto& r : j["results"]) {
    if (!r.is_object()) continue;
    const std::string v = r.value("verdict", "");
    if (v != "pass" && v != "fail" && v != "error") continue;  // skipped: no figure
    auto& a = by[fmt::format("agree/{}/{}/{}", r.value("case", "?"), r.value("impl", "?"), r.value("dtype", "?"))];
    ++a.seeds;
    if (v == "pass") a.worst = std::max(a.worst, worst_err_u(r));
    else ++a.failed;
  }
  for (auto& [k, a] : by) {
    if (a.failed < a.seeds) put_figure(out, k, "worst_err_u", a.worst, a.seeds);
    put_figure(out, k, "failed_seeds", a.failed, a.seeds);
  }
}

int agree_direction(const std::string&, const std::string& metric) {
  return metric == "worst_err_u" || metric == "failed_seeds" ? -1 : 0;
}

}  // namespace

const result_kind& agree_result_kind() {
  static const result_kind k = [] {
    result_kind d;
    d.name = "agree";
    d.order = 1;
    d.compare = gate_detail::compare_agree;
    d.shard_lists = d.repeat_lists = {"results"};
    d.history_list = "results";
    d.figures = agree_figures;
    d.direction = agree_direction;
    return d;
  }();
  return k;
}

}  // namespace adambench
