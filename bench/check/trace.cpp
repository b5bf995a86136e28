#include "check/trace.h"

#include "adambench/errors.h"

#include <cmath>
#include <fmt/format.h>
#include <regex>
#include <set>
#include <toml++/toml.h>

namespace adambench {

const host_tensor& trace_data::p(std::size_t i) const { return arrays.at(fmt::format("p{}", i)); }
const host_tensor& trace_data::g(std::size_t i) const { return arrays.at(fmt::format("g{}", i)); }

namespace {

std::vector<double> to_doubles(const host_tensor& t) {
  std::vector<double> x(t.numel());
  for (std::int64_t k = 0; k < t.numel(); ++k) x[k] = t.get(k);
  return x;
}

// m0.., v0.., vmax0.. and step, when the trace starts from a saved state.
std::optional<adam_state> read_initial_state(const trace_data& t, const std::string& tr) {
  const bool any = t.arrays.count("step") || t.arrays.count("m0") || t.arrays.count("v0") || t.arrays.count("vmax0");
  if (!any) return std::nullopt;
  adam_state s;
  if (!t.arrays.count("step")) throw input_error(fmt::format("{}: an initial state (m0, v0, ...) needs the scalar array 'step'", tr));
  const host_tensor& st = t.arrays.at("step");
  if (st.numel() != 1 || st.get(0) < 0 || st.get(0) != std::floor(st.get(0)))
    throw input_error(fmt::format("{}: 'step' must be one non-negative integer", tr));
  s.step = static_cast<std::int64_t>(st.get(0));
  const bool has_vmax = t.arrays.count("vmax0") > 0;
  for (std::size_t i = 0; i < t.n; ++i)
    for (const char* k : {"m", "v", "vmax"}) {
      if (std::string(k) == "vmax" && !has_vmax) continue;
      const std::string name = fmt::format("{}{}", k, i);
      auto it = t.arrays.find(name);
      if (it == t.arrays.end()) throw input_error(fmt::format("{}: missing array {} of the initial state", tr, name));
      if (it->second.shape() != t.p(i).shape())
        throw input_error(fmt::format("{}: {} has shape {}, expected {} like p{}", tr, name, shape_string(it->second.shape()),
                                      shape_string(t.p(i).shape()), i));
      auto& dst = std::string(k) == "m" ? s.m : std::string(k) == "v" ? s.v : s.vmax;
      dst.push_back(to_doubles(it->second));
    }
  return s;
}

}  // namespace

name_map read_name_map(const std::filesystem::path& path) {
  const std::string f = path.string();
  if (!std::filesystem::is_regular_file(path)) throw input_error(fmt::format("{}: no such file", f));
  toml::table root;
  try {
    root = toml::parse_file(f);
  } catch (const toml::parse_error& e) {
    throw input_error(fmt::format("{}:{}: {}", f, e.source().begin.line, e.description()));
  }
  const std::regex role_re("(p|g|m|v|vmax)(0|[1-9][0-9]*)|step");
  name_map names;
  std::set<std::string> seen;
  for (auto& [k, v] : root) {
    const std::string role(k.str());
    if (!std::regex_match(role, role_re))
      throw input_error(fmt::format("{}: unknown role '{}': expected p0.., g0.., m0.., v0.., vmax0.. or step", f, role));
    auto s = v.value<std::string>();
    if (!s) throw input_error(fmt::format("{}: {} must be a string (the array's name in the npz file)", f, role));
    if (!seen.insert(*s).second) throw input_error(fmt::format("{}: array '{}' is given two roles", f, *s));
    names[role] = *s;
  }
  return names;
}

void apply_name_map(std::map<std::string, host_tensor>& arrays, const name_map& names) {
  std::map<std::string, host_tensor> out;
  std::map<std::string, std::string> role_of;
  for (auto& [role, name] : names) role_of[name] = role;
  for (auto& [name, a] : arrays) {
    auto it = role_of.find(name);
    const std::string key = it == role_of.end() ? name : it->second;
    if (out.count(key)) throw input_error(fmt::format("two arrays would be called {}: rename one or map it", key));
    out.emplace(key, std::move(a));
  }
  arrays = std::move(out);
}

std::int64_t steps_to_run(const trace_data& t, std::optional<std::int64_t> steps, bool amsgrad, const std::string& what) {
  if (steps && (*steps < 0 || *steps > t.rows))
    throw input_error(fmt::format("{}: --steps {} but the trace holds {} steps", what, *steps, t.rows));
  if (t.initial && amsgrad && t.initial->vmax.empty())
    throw input_error(fmt::format("{}: --amsgrad with an initial state needs vmax0, vmax1, ...", what));
  return steps ? *steps : t.rows;
}

trace_data read_trace(const std::filesystem::path& path, const name_map& names) {
  trace_data t;
  const std::string tr = path.string();
  t.arrays = read_npz(path);
  apply_name_map(t.arrays, names);

  std::regex name_re("(p|g|m|v|vmax)(0|[1-9][0-9]*)");
  for (auto& [name, a] : t.arrays) {
    std::smatch m;
    if (name == "step") continue;
    if (!std::regex_match(name, m, name_re))
      throw input_error(fmt::format("{}: unexpected array '{}': a trace holds p0, p1, ..., g0, g1, ... and optionally "
                                    "m0.., v0.., vmax0.. and step", tr, name));
    if (m[1] == "p" || m[1] == "g") t.n = std::max<std::size_t>(t.n, std::stoull(m[2]) + 1);
  }
  if (t.n == 0) throw input_error(fmt::format("{}: no arrays p0/g0: a trace holds parameters p0, p1, ... and gradients g0, g1, ...", tr));
  for (std::size_t i = 0; i < t.n; ++i)
    for (const char* k : {"p", "g"})
      if (!t.arrays.count(fmt::format("{}{}", k, i))) throw input_error(fmt::format("{}: missing array {}{}", tr, k, i));

  t.type = t.p(0).type();
  std::int64_t rows = -1;
  for (std::size_t i = 0; i < t.n; ++i) {
    const host_tensor& p = t.p(i);
    const host_tensor& g = t.g(i);
    if (p.type() != t.type)
      throw input_error(fmt::format("{}: p{} is {} but p0 is {}: all arrays must share one dtype", tr, i, to_string(p.type()), to_string(t.type)));
    if (g.type() != t.type)
      throw input_error(fmt::format("{}: g{} is {} but p{} is {}", tr, i, to_string(g.type()), i, to_string(t.type)));
    shape_t want = p.shape();
    if (g.shape().size() != want.size() + 1 || !std::equal(want.begin(), want.end(), g.shape().begin() + 1))
      throw input_error(fmt::format("{}: g{} has shape {}, expected (T, *{}) for p{} of shape {}", tr, i, shape_string(g.shape()),
                                    shape_string(want), i, shape_string(want)));
    if (rows >= 0 && g.shape()[0] != rows)
      throw input_error(fmt::format("{}: g{} has {} steps but g0 has {}", tr, i, g.shape()[0], rows));
    rows = g.shape()[0];
  }
  t.rows = rows;
  t.initial = read_initial_state(t, tr);
  return t;
}

bool nonfinite_before_last(const trace_data& t, std::int64_t steps) {
  for (std::size_t i = 0; i < t.n; ++i) {
    const host_tensor& g = t.g(i);
    const std::int64_t per_row = numel_of(t.p(i).shape());
    for (std::int64_t k = 0; k < (steps - 1) * per_row; ++k)
      if (!std::isfinite(g.get(k))) return true;
  }
  return false;
}

}  // namespace adambench
