#include "check/state_compare.h"

#include <fmt/format.h>

namespace adambench {

bool state_comparison::ok() const {
  if (got_step != want_step) return false;
  for (auto& r : rows)
    if (r.stats.failed) return false;
  return true;
}

namespace {

using arrays = std::vector<std::vector<double>>;

state_row compare_arrays(const char* name, const arrays& g, const arrays& w, const arrays& b, dtype d) {
  const tolerance tol = tolerance_for(d);
  state_row r{name, {}, tol.k};
  if (g.size() != w.size()) {
    r.stats.failed = 1;
    r.first_values = fmt::format("{} has {} tensors, reference {}; ", name, g.size(), w.size());
  }
  for (std::size_t i = 0; i < std::min(g.size(), w.size()); ++i) {
    error_stats e = compare_values(g[i], w[i], b[i], d, tol);
    if (e.failed && r.first_values.empty()) {  // the first few mismatching values, llm.c style
      r.first_tensor = static_cast<std::int64_t>(i);
      r.first_err_u = e.max_err_u;
      for (auto k : e.bad_indices) r.first_values += fmt::format("{}[{}][{}] got {:.9g} want {:.9g}; ", name, i, k, g[i][k], w[i][k]);
    }
    r.stats.merge(e);
  }
  if (r.first_values.size() >= 2) r.first_values.resize(r.first_values.size() - 2);  // the last "; "
  return r;
}

}  // namespace

state_comparison compare_state(const adam_state& got, const adam_state& want, const adam_state& bound, dtype d,
                               bool amsgrad) {
  const dtype sd = is_16bit(d) ? dtype::float32 : d;
  state_comparison c;
  c.got_step = got.step;
  c.want_step = want.step;
  c.rows.push_back(compare_arrays("params", got.params, want.params, bound.params, d));
  c.rows.push_back(compare_arrays("m", got.m, want.m, bound.m, sd));
  c.rows.push_back(compare_arrays("v", got.v, want.v, bound.v, sd));
  if (amsgrad) c.rows.push_back(compare_arrays("max_v", got.vmax, want.vmax, bound.vmax, sd));
  return c;
}

void print_state_comparison(const state_comparison& c, std::FILE* out) {
  fmt::print(out, "{:<7} {:>12} {:>12} {:>10} {:>10} {:>8}\n", "array", "max_abs", "max_rel", "max_ulp", "err (u)", "failed");
  double k = 0;
  for (auto& r : c.rows) {
    const error_stats& s = r.stats;
    fmt::print(out, "{:<7} {:>12.3g} {:>12.3g} {:>10.3g} {:>10.3g} {:>8}\n", r.name, s.max_abs, s.max_rel, s.max_ulp,
               s.max_err_u, s.failed);
    k = std::max(k, r.k);
  }
  for (auto& r : c.rows)
    if (r.stats.failed) fmt::print(out, "first mismatch in {}: {}\n", r.name, r.first_values);
  fmt::print(out, "step counter {} (reference {}); tolerance {:.3g} u: {}\n", c.got_step, c.want_step, k,
             c.ok() ? "agrees" : "DISAGREES");
}

}  // namespace adambench
