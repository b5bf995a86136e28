#include "runners/state_compare.h"

#include <fmt/format.h>

namespace adambench {

bool state_comparison::ok() const {
  if (got_step != want_step) return false;
  for (auto& r : rows)
    if (r.stats.failed) return false;
  return true;
}

state_comparison compare_state(const adam_state& got, const adam_state& want, const adam_state& bound, dtype d,
                               bool amsgrad) {
  const tolerance tol = tolerance_for(d);
  state_comparison c;
  c.got_step = got.step;
  c.want_step = want.step;
  c.k = tol.k;
  auto row = [&](const char* name, const auto& g, const auto& w, const auto& b) {
    state_row r{name, {}, -1};
    for (std::size_t i = 0; i < w.size(); ++i) {
      error_stats s = compare_values(g[i], w[i], b[i], d, tol);
      if (s.failed && r.first_tensor < 0) r.first_tensor = static_cast<std::int64_t>(i);
      r.stats.merge(s);  // keeps the first failing element, which is in tensor first_tensor
    }
    c.rows.push_back(std::move(r));
  };
  row("params", got.params, want.params, bound.params);
  row("m", got.m, want.m, bound.m);
  row("v", got.v, want.v, bound.v);
  if (amsgrad) row("max_v", got.vmax, want.vmax, bound.vmax);
  return c;
}

void print_state_comparison(const state_comparison& c, std::FILE* out) {
  fmt::print(out, "{:<7} {:>12} {:>12} {:>10} {:>10} {:>8}\n", "array", "max_abs", "max_rel", "max_ulp", "err (u)", "failed");
  for (auto& r : c.rows) {
    const error_stats& s = r.stats;
    fmt::print(out, "{:<7} {:>12.3g} {:>12.3g} {:>10.3g} {:>10.3g} {:>8}\n", r.name, s.max_abs, s.max_rel, s.max_ulp,
               s.max_err_u, s.failed);
  }
  for (auto& r : c.rows)
    if (r.stats.failed)
      fmt::print(out, "first mismatch in {}: tensor {} element {}: got {:.9g}, reference {:.9g}\n", r.name,
                 r.first_tensor, r.stats.first_index, r.stats.first_got, r.stats.first_ref);
  fmt::print(out, "step counter {} (reference {}); tolerance {:.3g} u: {}\n", c.got_step, c.want_step, c.k,
             c.ok() ? "agrees" : "DISAGREES");
}

}  // namespace adambench
