// TensorBoard reporters of the convergence and sweep runners (docs/tensorboard.md): one event file
// per run with scalars per evaluation; sweeps add the hparams summaries. They read result structs only.
#include "tensorboard/tensorboard.h"
#include "shared/report_util.h"
#include "sweep/sweep.h"

#include <cmath>
#include <set>

namespace adambench {
namespace {

// The run's folder under DIR: the curve CSV's name without the folder and the extension.
std::string run_name(const converge_result& res, const run_record& x) {
  return std::filesystem::path(curve_path(res, x)).stem().string();
}

void write_curve(tb_writer& w, const std::vector<curve_row>& curve) {
  for (auto& row : curve) {
    std::vector<std::pair<std::string, double>> v;
    for (auto [tag, x] : {std::pair{"train/loss", row.train_loss}, {"val/loss", row.val_loss}, {"val/acc", row.val_acc}, {"lr", row.lr}})
      if (std::isfinite(x)) v.emplace_back(tag, x);  // NaN (no value) and inf (diverged) are not plotted
    if (!v.empty()) w.scalars(row.step, v);
  }
}

hparam_value hparam_of(const factor_value& f) {
  if (auto* d = std::get_if<double>(&f.v)) return *d;
  if (auto* i = std::get_if<std::int64_t>(&f.v)) return static_cast<double>(*i);
  if (auto* b = std::get_if<bool>(&f.v)) return *b;
  return std::get<std::string>(f.v);
}

const std::vector<std::string> metric_tags{"final/train_loss", "final/val_loss", "final/val_acc", "final/gap"};

}  // namespace

void write_converge_tensorboard(const converge_result& res, const std::filesystem::path& dir) {
  for (auto& x : res.runs) {
    if (x.r.curve.empty()) continue;
    tb_writer w(dir, run_name(res, x));
    write_curve(w, x.r.curve);
  }
}

void write_sweep_tensorboard(const sweep_result& res, const std::filesystem::path& dir) {
  std::map<std::string, std::vector<hparam_value>> domains;
  std::map<std::string, std::set<std::string>> seen;
  for (auto& x : res.conv.runs) {
    if (x.r.curve.empty()) continue;
    const sweep_point& p = res.points[x.case_index];
    std::map<std::string, hparam_value> hp{{"impl", x.r.impl}, {"seed", static_cast<double>(x.seed)}};
    for (auto& [k, v] : p.settings) hp[k] = hparam_of(v);
    for (auto& [k, v] : hp) {
      const std::string key = std::visit([](const auto& y) { return fmt::format("{}", y); }, v);
      if (seen[k].insert(key).second) domains[k].push_back(v);
    }
    const curve_row& last = x.r.curve.back();
    std::map<std::string, double> metrics;
    if (std::isfinite(last.train_loss)) metrics["final/train_loss"] = last.train_loss;
    if (std::isfinite(last.val_loss)) metrics["final/val_loss"] = last.val_loss;
    if (std::isfinite(last.val_acc)) metrics["final/val_acc"] = last.val_acc;
    if (std::isfinite(last.val_loss - last.train_loss)) metrics["final/gap"] = last.val_loss - last.train_loss;
    tb_writer w(dir, run_name(res.conv, x));
    write_curve(w, x.r.curve);
    w.hparams(hp, metrics, x.r.verdict != "ok");
  }
  write_hparams_experiment(dir, domains, metric_tags);
}

}  // namespace adambench
