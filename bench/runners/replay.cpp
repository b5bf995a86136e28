#include "runners/replay.h"

#include "adam_reference.h"
#include "core/npz.h"
#include "runners/state_compare.h"
#include "runners/trace.h"

#include <cmath>
#include <cstring>
#include <fmt/format.h>

namespace adambench {

int run_replay(const registry& reg, const replay_options& opt) {
  const impl_entry& e = reg.at(opt.impl);  // unknown name: input_error before any work
  opt.config.validate();
  if (opt.out.empty()) throw input_error("replay: --out RESULT.npz is required");
  const std::string tr = opt.trace.string();
  const trace_data trace = read_trace(opt.trace);
  const std::size_t n = trace.n;
  const dtype d = trace.type;
  const std::int64_t steps = steps_to_run(trace, opt.steps, opt.config.amsgrad, tr);

  case_features f;
  f.type = d;
  f.nonfinite_then_more_steps = nonfinite_before_last(trace, steps);
  f.starts_from_state = trace.initial.has_value();
  support s = e.supports(opt.config, f);
  if (!s.ok) {
    fmt::print(stderr, "adambench replay: {} does not support this case: {}\n", e.name, s.reason);
    return 3;
  }

  std::vector<host_tensor> params, grads;
  std::vector<tensor_view> pv, gv;
  for (std::size_t i = 0; i < n; ++i) {
    params.push_back(trace.p(i));
    grads.emplace_back(d, params.back().shape());
  }
  for (auto& p : params) pv.push_back(p.view());
  for (auto& g : grads) gv.push_back(g.view());
  auto o = e.make(opt.config, impl_options{opt.threads}, d);
  o->bind(pv, gv);
  if (trace.initial) o->load_state(*trace.initial);

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
    if (trace.initial) ref->load_state(*trace.initial);
  }
  for (std::int64_t t = 0; t < steps; ++t) {
    for (std::size_t i = 0; i < n; ++i) {
      const host_tensor& g = trace.g(i);
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
  state_comparison c = compare_state(st, ref->state(), ref->bounds(), d, opt.config.amsgrad);
  print_state_comparison(c);
  return c.ok() ? 0 : 1;
}

}  // namespace adambench
