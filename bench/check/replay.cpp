#include "check/replay.h"

#include "adam_reference.h"
#include "core/npz.h"
#include "check/state_compare.h"
#include "check/trace.h"

#include <cmath>
#include <cstring>
#include <fmt/format.h>

namespace adambench {
namespace {

// The implementation's buffers: the trace's initial parameters, and one gradient row at a time.
struct replay_buffers {
  std::vector<host_tensor> params, grads;
  std::vector<tensor_view> pv, gv;
};

replay_buffers make_buffers(const trace_data& trace) {
  replay_buffers b;
  for (std::size_t i = 0; i < trace.n; ++i) {
    b.params.push_back(trace.p(i));
    b.grads.emplace_back(trace.type, b.params.back().shape());
  }
  for (auto& p : b.params) b.pv.push_back(p.view());
  for (auto& g : b.grads) b.gv.push_back(g.view());
  return b;
}

// The reference, at the precision it uses for `d`, started from the same parameters and state.
std::unique_ptr<reference_adam> make_reference(const adam_config& config, dtype d, const std::vector<host_tensor>& params,
                                               const trace_data& trace) {
  auto ref = std::make_unique<reference_adam>(config, is_16bit(d) ? dtype::float32 : d);
  std::vector<std::vector<double>> p0;
  for (auto& p : params) {
    std::vector<double> x(p.numel());
    for (std::int64_t k = 0; k < p.numel(); ++k) x[k] = p.get(k);
    p0.push_back(std::move(x));
  }
  ref->init(std::move(p0));
  if (trace.initial) ref->load_state(*trace.initial);
  return ref;
}

// Copies row t of every gradient into the implementation's buffers (and, for the reference, `gd`).
void load_row(const trace_data& trace, std::int64_t t, std::vector<host_tensor>& grads, std::vector<std::vector<double>>* gd) {
  const std::size_t width = size_of(trace.type);
  for (std::size_t i = 0; i < trace.n; ++i) {
    const host_tensor& g = trace.g(i);
    const std::int64_t per_row = grads[i].numel();
    const std::size_t bytes = static_cast<std::size_t>(per_row) * width;
    if (bytes) std::memcpy(grads[i].data(), static_cast<const char*>(g.data()) + t * bytes, bytes);
    if (gd) {
      (*gd)[i].resize(per_row);
      for (std::int64_t k = 0; k < per_row; ++k) (*gd)[i][k] = grads[i].get(k);
    }
  }
}

// RESULT.npz: final pK, mK, vK (and vmaxK with amsgrad), in the trace's dtype and shapes.
void write_result(const std::filesystem::path& path, const adam_state& st, const std::vector<host_tensor>& params, dtype d, bool amsgrad) {
  std::map<std::string, host_tensor> out;
  auto put = [&](const std::string& name, const std::vector<double>& x, const shape_t& shape) {
    host_tensor t(d, shape);
    for (std::int64_t k = 0; k < t.numel(); ++k) t.set(k, x[k]);
    out.emplace(name, std::move(t));
  };
  for (std::size_t i = 0; i < params.size(); ++i) {
    const shape_t& sh = params[i].shape();
    put(fmt::format("p{}", i), st.params[i], sh);
    put(fmt::format("m{}", i), st.m[i], sh);
    put(fmt::format("v{}", i), st.v[i], sh);
    if (amsgrad) put(fmt::format("vmax{}", i), st.vmax[i], sh);
  }
  write_npz(path, out);
}

}  // namespace

int run_replay(const registry& reg, const replay_options& opt) {
  const impl_entry& e = reg.at(opt.impl);  // unknown name: input_error before any work
  opt.config.validate();
  if (opt.out.empty()) throw input_error("replay: --out RESULT.npz is required");
  const trace_data trace = read_trace(opt.trace);
  const dtype d = trace.type;
  const std::int64_t steps = steps_to_run(trace, opt.steps, opt.config.amsgrad, opt.trace.string());

  case_features f;
  f.type = d;
  f.nonfinite_then_more_steps = nonfinite_before_last(trace, steps);
  f.starts_from_state = trace.initial.has_value();
  support s = e.supports(opt.config, f);
  if (!s.ok) {
    fmt::print(stderr, "adambench replay: {} does not support this case: {}\n", e.name, s.reason);
    return 3;
  }

  replay_buffers b = make_buffers(trace);
  auto o = e.make(opt.config, impl_options{opt.threads}, d);
  o->bind(b.pv, b.gv);
  if (trace.initial) o->load_state(*trace.initial);
  std::unique_ptr<reference_adam> ref = opt.compare ? make_reference(opt.config, d, b.params, trace) : nullptr;
  std::vector<std::vector<double>> gd(trace.n);
  for (std::int64_t t = 0; t < steps; ++t) {
    load_row(trace, t, b.grads, ref ? &gd : nullptr);
    o->step();
    if (ref) ref->step(gd);
  }
  adam_state st = o->read_state();
  write_result(opt.out, st, b.params, d, opt.config.amsgrad);
  fmt::print("replayed {} steps over {} tensors with {} ({}, {}); wrote {}\n", steps, trace.n, e.name, to_string(d),
             opt.config.describe(), opt.out.string());

  if (!ref) return 0;
  state_comparison c = compare_state(st, ref->state(), ref->bounds(), d, opt.config.amsgrad);
  print_state_comparison(c);
  return c.ok() ? 0 : 1;
}

}  // namespace adambench
