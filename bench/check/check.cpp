#include "check/check.h"

#include "adam_reference.h"
#include "core/npz.h"
#include "check/state_compare.h"
#include "check/trace.h"

#include <cmath>
#include <fmt/format.h>

namespace adambench {

namespace {

std::vector<double> to_doubles(const host_tensor& t, std::int64_t row = -1, std::int64_t per_row = 0) {
  const std::int64_t n = row < 0 ? t.numel() : per_row, off = row < 0 ? 0 : row * per_row;
  std::vector<double> x(n);
  for (std::int64_t k = 0; k < n; ++k) x[k] = t.get(off + k);
  return x;
}

// The user's final parameters and state, shaped like the trace's parameters.
adam_state read_result(const std::filesystem::path& path, const trace_data& t, bool amsgrad, std::int64_t want_step,
                       const name_map& names) {
  const std::string rs = path.string();
  auto arrays = read_npz(path);
  apply_name_map(arrays, names);
  adam_state s;
  s.step = want_step;
  if (auto it = arrays.find("step"); it != arrays.end()) {
    if (it->second.numel() != 1) throw input_error(fmt::format("{}: 'step' must hold one number", rs));
    s.step = static_cast<std::int64_t>(it->second.get(0));
  }
  for (std::size_t i = 0; i < t.n; ++i)
    for (const char* k : {"p", "m", "v", "vmax"}) {
      const std::string kind = k;
      if (kind == "vmax" && !amsgrad) continue;
      const std::string name = fmt::format("{}{}", k, i);
      auto it = arrays.find(name);
      if (it == arrays.end())
        throw input_error(fmt::format("{}: missing array {} (a result holds p0.., m0.., v0..{} for the trace's {} tensors)", rs,
                                      name, amsgrad ? ", vmax0.." : "", t.n));
      if (it->second.shape() != t.p(i).shape())
        throw input_error(fmt::format("{}: {} has shape {}, expected {} like p{} of the trace", rs, name,
                                      shape_string(it->second.shape()), shape_string(t.p(i).shape()), i));
      // 16-bit parameters keep float32 state (master weights, m, v): the state may be either.
      const dtype at = it->second.type();
      if (at != t.type && !(kind != "p" && is_16bit(t.type) && at == dtype::float32))
        throw input_error(fmt::format("{}: {} is {} but the trace is {}", rs, name, to_string(at), to_string(t.type)));
      auto& dst = kind == "p" ? s.params : kind == "m" ? s.m : kind == "v" ? s.v : s.vmax;
      dst.push_back(to_doubles(it->second));
    }
  return s;
}

}  // namespace

int run_check(const check_options& opt) {
  opt.config.validate();
  const std::string tr = opt.trace.string();
  const name_map names = opt.names.empty() ? name_map{} : read_name_map(opt.names);
  const trace_data trace = read_trace(opt.trace, names);
  const std::int64_t steps = steps_to_run(trace, opt.steps, opt.config.amsgrad, tr);

  reference_adam ref(opt.config);
  std::vector<std::vector<double>> p0;
  for (std::size_t i = 0; i < trace.n; ++i) p0.push_back(to_doubles(trace.p(i)));
  ref.init(std::move(p0));
  if (trace.initial) ref.load_state(*trace.initial);
  const std::int64_t want_step = ref.state().step + steps;
  const adam_state got = read_result(opt.result, trace, opt.config.amsgrad, want_step, names);

  std::vector<std::vector<double>> g(trace.n);
  for (std::int64_t t = 0; t < steps; ++t) {
    for (std::size_t i = 0; i < trace.n; ++i) g[i] = to_doubles(trace.g(i), t, numel_of(trace.p(i).shape()));
    ref.step(g);
  }
  // The reference keeps float64; a user's buffers hold the dtype: compare with the reference's
  // values as they are (the tolerance accounts for the dtype's roundings, docs/tolerances.md).
  fmt::print("checked {} steps over {} tensors ({}, {}{}) of {} against the float64 reference\n", steps, trace.n,
             to_string(trace.type), opt.config.describe(), trace.initial ? ", from the trace's initial state" : "",
             opt.result.string());
  state_comparison c = compare_state(got, ref.state(), ref.bounds(), trace.type, opt.config.amsgrad);
  print_state_comparison(c);
  return c.ok() ? 0 : 1;
}

}  // namespace adambench
