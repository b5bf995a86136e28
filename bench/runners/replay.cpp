#include "runners/replay.h"

#include "adam_reference.h"
#include "core/compare.h"
#include "core/npz.h"

#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <regex>

namespace adambench {

int run_replay(const registry& reg, const replay_options& opt) {
  const impl_entry& e = reg.at(opt.impl);  // unknown name: input_error before any work
  opt.config.validate();
  if (opt.out.empty()) throw input_error("replay: --out RESULT.npz is required");
  const std::string tr = opt.trace.string();
  auto arrays = read_npz(opt.trace);

  // Names must be exactly p0..p{N-1} and g0..g{N-1}.
  std::size_t n = 0;
  std::regex name_re("([pg])(0|[1-9][0-9]*)");
  for (auto& [name, t] : arrays) {
    std::smatch m;
    if (!std::regex_match(name, m, name_re))
      throw input_error(fmt::format("{}: unexpected array '{}': a trace holds only p0, p1, ... and g0, g1, ...", tr, name));
    n = std::max<std::size_t>(n, std::stoull(m[2]) + 1);
  }
  if (n == 0) throw input_error(fmt::format("{}: no arrays p0/g0: a trace holds parameters p0, p1, ... and gradients g0, g1, ...", tr));
  for (std::size_t i = 0; i < n; ++i)
    for (const char* k : {"p", "g"})
      if (!arrays.count(fmt::format("{}{}", k, i))) throw input_error(fmt::format("{}: missing array {}{}", tr, k, i));

  const dtype d = arrays.at("p0").type();
  std::int64_t rows = -1;
  for (std::size_t i = 0; i < n; ++i) {
    const host_tensor& p = arrays.at(fmt::format("p{}", i));
    const host_tensor& g = arrays.at(fmt::format("g{}", i));
    if (p.type() != d)
      throw input_error(fmt::format("{}: p{} is {} but p0 is {}: all arrays must share one dtype", tr, i, to_string(p.type()), to_string(d)));
    if (g.type() != d)
      throw input_error(fmt::format("{}: g{} is {} but p{} is {}", tr, i, to_string(g.type()), i, to_string(d)));
    shape_t want = p.shape();
    if (g.shape().size() != want.size() + 1 || !std::equal(want.begin(), want.end(), g.shape().begin() + 1))
      throw input_error(fmt::format("{}: g{} has shape {}, expected (T, *{}) for p{} of shape {}", tr, i, shape_string(g.shape()),
                                    shape_string(want), i, shape_string(want)));
    if (rows >= 0 && g.shape()[0] != rows)
      throw input_error(fmt::format("{}: g{} has {} steps but g0 has {}", tr, i, g.shape()[0], rows));
    rows = g.shape()[0];
  }
  std::int64_t steps = rows;
  if (opt.steps) {
    if (*opt.steps < 0 || *opt.steps > rows)
      throw input_error(fmt::format("{}: --steps {} but the trace holds {} steps", tr, *opt.steps, rows));
    steps = *opt.steps;
  }

  case_features f;
  f.type = d;
  for (std::size_t i = 0; i < n && !f.nonfinite_then_more_steps; ++i) {
    const host_tensor& g = arrays.at(fmt::format("g{}", i));
    const std::int64_t per_row = numel_of(arrays.at(fmt::format("p{}", i)).shape());
    for (std::int64_t k = 0; k < (steps - 1) * per_row; ++k)
      if (!std::isfinite(g.get(k))) {
        f.nonfinite_then_more_steps = true;
        break;
      }
  }
  support s = e.supports(opt.config, f);
  if (!s.ok) {
    fmt::print(stderr, "adambench replay: {} does not support this case: {}\n", e.name, s.reason);
    return 3;
  }

  std::vector<host_tensor> params, grads;
  std::vector<tensor_view> pv, gv;
  for (std::size_t i = 0; i < n; ++i) {
    params.push_back(arrays.at(fmt::format("p{}", i)));
    grads.emplace_back(d, params.back().shape());
  }
  for (auto& p : params) pv.push_back(p.view());
  for (auto& g : grads) gv.push_back(g.view());
  auto o = e.make(opt.config, impl_options{opt.threads}, d);
  o->bind(pv, gv);

  std::unique_ptr<reference_adam> ref;
  std::vector<std::vector<double>> gd(n);
  if (opt.compare) {
    ref = std::make_unique<reference_adam>(opt.config, is_16bit(d) ? dtype::float32 : d);
    std::vector<std::vector<double>> p0;
    for (auto& p : params) {
      std::vector<double> x(p.numel());
      for (std::int64_t k = 0; k < p.numel(); ++k) x[k] = p.get(k);
      p0.push_back(std::move(x));
    }
    ref->init(std::move(p0));
  }
  for (std::int64_t t = 0; t < steps; ++t) {
    for (std::size_t i = 0; i < n; ++i) {
      const host_tensor& g = arrays.at(fmt::format("g{}", i));
      const std::int64_t per_row = grads[i].numel();
      const std::size_t bytes = static_cast<std::size_t>(per_row) * size_of(d);
      if (bytes) std::memcpy(grads[i].data(), static_cast<const char*>(g.data()) + t * bytes, bytes);
      if (ref) {
        gd[i].resize(per_row);
        for (std::int64_t k = 0; k < per_row; ++k) gd[i][k] = grads[i].get(k);
      }
    }
    o->step();
    if (ref) ref->step(gd);
  }
  adam_state st = o->read_state();

  std::map<std::string, host_tensor> out;
  auto put = [&](const std::string& name, const std::vector<double>& x, const shape_t& shape) {
    host_tensor t(d, shape);
    for (std::int64_t k = 0; k < t.numel(); ++k) t.set(k, x[k]);
    out.emplace(name, std::move(t));
  };
  for (std::size_t i = 0; i < n; ++i) {
    const shape_t& sh = params[i].shape();
    put(fmt::format("p{}", i), st.params[i], sh);
    put(fmt::format("m{}", i), st.m[i], sh);
    put(fmt::format("v{}", i), st.v[i], sh);
    if (opt.config.amsgrad) put(fmt::format("vmax{}", i), st.vmax[i], sh);
  }
  write_npz(opt.out, out);
  fmt::print("replayed {} steps over {} tensors with {} ({}, {}); wrote {}\n", steps, n, e.name, to_string(d),
             opt.config.describe(), opt.out.string());

  if (!ref) return 0;
  const tolerance tol = tolerance_for(d);
  const adam_state& want = ref->state();
  bool ok = st.step == want.step;
  fmt::print("{:<7} {:>12} {:>12} {:>10} {:>10} {:>8}\n", "array", "max_abs", "max_rel", "max_ulp", "err (u)", "failed");
  auto line = [&](const char* name, const auto& g, const auto& w, const auto& b) {
    error_stats all;
    for (std::size_t i = 0; i < w.size(); ++i) all.merge(compare_values(g[i], w[i], b[i], d, tol));
    fmt::print("{:<7} {:>12.3g} {:>12.3g} {:>10.3g} {:>10.3g} {:>8}\n", name, all.max_abs, all.max_rel, all.max_ulp, all.max_err_u, all.failed);
    if (all.failed) ok = false;
  };
  const adam_state& bnd = ref->bounds();
  line("params", st.params, want.params, bnd.params);
  line("m", st.m, want.m, bnd.m);
  line("v", st.v, want.v, bnd.v);
  if (opt.config.amsgrad) line("max_v", st.vmax, want.vmax, bnd.vmax);
  fmt::print("step counter {} (reference {}); tolerance {:.3g} u: {}\n", st.step, want.step, tol.k,
             ok ? "agrees" : "DISAGREES");
  return ok ? 0 : 1;
}

}  // namespace adambench
