// What a tune keeps under DIR/runs/: the manifest (the plan, the inputs' hashes, the settings) and
// one file per finished run. Read back by --resume, so every field is checked: a damaged file is
// bad input naming the file. No LibTorch here: the readers' fuzz build (adambench-readers) links it.
#include "adambench/errors.h"
#include "core/results.h"
#include "tune/tune.h"

#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace adambench {

using nlohmann::json;

namespace {

json number(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return x;
}

// A field reader that names the file and the field on every mismatch.
struct reader {
  std::string what;  ///< "FILE: not a tune manifest"
  [[noreturn]] void bad(const std::string& field, const std::string& why) const { throw input_error(fmt::format("{} ({}: {})", what, field, why)); }
  const json& at(const json& j, const char* key) const {
    if (!j.is_object()) bad(key, "its parent is not an object");
    auto it = j.find(key);
    if (it == j.end()) bad(key, "missing");
    return *it;
  }
  std::string str(const json& j, const char* key) const {
    const json& v = at(j, key);
    if (!v.is_string()) bad(key, "not a string");
    return v.get<std::string>();
  }
  double num(const json& j, const char* key) const { return num_of(at(j, key), key); }
  double num_of(const json& v, const char* key) const {
    if (v.is_number()) return v.get<double>();
    if (v == "nan") return NAN;
    if (v == "inf") return INFINITY;
    if (v == "-inf") return -INFINITY;
    bad(key, "not a number");
  }
  std::int64_t integer(const json& j, const char* key, std::int64_t lo) const {
    const json& v = at(j, key);
    if (!v.is_number_integer()) bad(key, "not an integer");
    const auto x = v.get<std::int64_t>();
    if (x < lo) bad(key, fmt::format("{} is below {}", x, lo));
    return x;
  }
  std::vector<std::string> strs(const json& j, const char* key) const {
    const json& v = at(j, key);
    if (!v.is_array()) bad(key, "not an array");
    std::vector<std::string> out;
    for (auto& e : v) {
      if (!e.is_string()) bad(key, "an element is not a string");
      out.push_back(e.get<std::string>());
    }
    return out;
  }
};

json read_json_file(const std::filesystem::path& file, const std::string& what) {
  std::ifstream f(file, std::ios::binary);
  if (!f) throw input_error(fmt::format("{}: cannot be read", file.string()));
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  // Run files nest three levels; a deeply nested file is not one (and would recurse in the parser).
  int depth = 0, most = 0;
  for (char ch : text) depth += ch == '[' || ch == '{' ? 1 : ch == ']' || ch == '}' ? -1 : 0, most = std::max(most, depth);
  if (most > 16) throw input_error(fmt::format("{}: {} (nested too deeply)", file.string(), what));
  try {
    return json::parse(text);
  } catch (const json::exception&) {
    throw input_error(fmt::format("{}: {} (not valid JSON: damaged or truncated)", file.string(), what));
  }
}

}  // namespace

std::string file_sha256(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw input_error(fmt::format("{}: cannot open the file", path));
  std::stringstream ss;
  ss << f.rdbuf();
  return sha256_hex(ss.str());
}

std::string tune_run_file(const std::string& key) { return sha256_hex(key).substr(0, 32) + ".run"; }

json tune_manifest_json(const tune_manifest& m) {
  const auto& s = m.settings;
  json j{{"format", "adambench tune manifest"}, {"version", 1}, {"plan", {{"source", m.plan_source}, {"text", m.plan_text}}},
         {"model", {{"path", m.in.model}, {"sha256", m.in.model_sha256}, {"task", m.in.task}, {"params", m.in.n_params}}},
         {"data", {{"path", m.in.data}, {"sha256", m.in.data_sha256}, {"train", m.in.n_train}, {"val", m.in.n_val}}},
         {"timing", {{"impl", m.timing.impl}, {"batch", m.timing.batch}, {"steps", m.timing.steps}, {"load_s", number(m.timing.load_s)},
                     {"step_s", number(m.timing.step_s)}, {"eval_s", number(m.timing.eval_s)}, {"grad_rms", number(m.timing.grad_rms)}}},
         {"settings", {{"impls", s.impls}, {"seeds", s.seeds}, {"batch", s.batch}, {"steps", s.steps}, {"evals", s.evals}, {"stages", s.stages},
                       {"short_stages", s.short_stages}, {"cuts", s.cuts}, {"budget_s", s.budget_s ? number(*s.budget_s) : json(nullptr)},
                       {"threads", s.threads}}}};
  return j;
}

tune_manifest read_tune_manifest(const std::filesystem::path& file) {
  const std::string what = file.string() + ": not a manifest of adambench tune";
  const json j = read_json_file(file, "not a manifest of adambench tune");
  const reader r{what};
  if (r.str(j, "format") != "adambench tune manifest") r.bad("format", "not 'adambench tune manifest'");
  if (r.integer(j, "version", 1) != 1) r.bad("version", "not 1 (written by another adambench)");
  tune_manifest m;
  const json& plan = r.at(j, "plan");
  m.plan_source = r.str(plan, "source"), m.plan_text = r.str(plan, "text");
  const json& model = r.at(j, "model");
  m.in.model = r.str(model, "path"), m.in.model_sha256 = r.str(model, "sha256"), m.in.task = r.str(model, "task");
  m.in.n_params = r.integer(model, "params", 0);
  const json& data = r.at(j, "data");
  m.in.data = r.str(data, "path"), m.in.data_sha256 = r.str(data, "sha256");
  m.in.n_train = r.integer(data, "train", 1), m.in.n_val = r.integer(data, "val", 0);
  const json& t = r.at(j, "timing");
  m.timing.impl = r.str(t, "impl"), m.timing.batch = r.integer(t, "batch", 1), m.timing.steps = r.integer(t, "steps", 0);
  m.timing.load_s = r.num(t, "load_s"), m.timing.step_s = r.num(t, "step_s"), m.timing.eval_s = r.num(t, "eval_s");
  m.timing.grad_rms = r.num(t, "grad_rms");
  for (double x : {m.timing.load_s, m.timing.step_s, m.timing.eval_s})
    if (!(x >= 0) || !std::isfinite(x)) r.bad("timing", "a time that is not a finite number >= 0");
  const json& s = r.at(j, "settings");
  m.settings.impls = r.strs(s, "impls");
  const json& seeds = r.at(s, "seeds");
  if (!seeds.is_array() || seeds.size() < 3) r.bad("settings.seeds", "not an array of 3 or more seeds");
  for (auto& e : seeds) {
    if (!e.is_number_unsigned()) r.bad("settings.seeds", "a seed is not an integer >= 0");
    m.settings.seeds.push_back(e.get<std::uint64_t>());
  }
  if (m.settings.impls.empty()) r.bad("settings.impls", "empty");
  m.settings.batch = r.integer(s, "batch", 1), m.settings.steps = r.integer(s, "steps", 1), m.settings.evals = r.integer(s, "evals", 0);
  m.settings.stages = r.strs(s, "stages"), m.settings.short_stages = r.strs(s, "short_stages"), m.settings.cuts = r.strs(s, "cuts");
  if (m.settings.stages.empty()) r.bad("settings.stages", "empty");
  const json& b = r.at(s, "budget_s");
  if (!b.is_null()) m.settings.budget_s = r.num_of(b, "settings.budget_s");
  m.settings.threads = static_cast<int>(std::min<std::int64_t>(r.integer(s, "threads", 1), 1 << 16));
  return m;
}

json tune_run_json(const std::string& key, const run_result& r) {
  json curve = json::array();
  for (auto& row : r.curve)
    curve.push_back({row.step, number(row.epoch), number(row.lr), number(row.train_loss), number(row.val_loss), number(row.val_acc), number(row.wall_s)});
  return {{"format", "adambench tune run"}, {"key", key}, {"impl", r.impl}, {"verdict", r.verdict}, {"reason", r.reason},
          {"lr", number(r.lr)}, {"steps_budget", r.steps_budget}, {"steps_done", r.steps_done}, {"diverged_at", r.diverged_at},
          {"steps_to_target", r.steps_to_target}, {"wall_to_target", number(r.wall_to_target)}, {"train_s", number(r.train_s)},
          {"opt_s", number(r.opt_s)}, {"eval_s", number(r.eval_s)}, {"samples", r.samples}, {"curve", curve}};
}

run_result read_tune_run(const std::filesystem::path& file, const std::string& key, std::string* key_out) {
  const std::string what = file.string() + ": not a run of adambench tune";
  const json j = read_json_file(file, "not a run of adambench tune");
  const reader rd{what};
  if (rd.str(j, "format") != "adambench tune run") rd.bad("format", "not 'adambench tune run'");
  const std::string k = rd.str(j, "key");
  if (!key.empty() && k != key) rd.bad("key", "another run's (the file name does not match its content)");
  if (key_out) *key_out = k;
  run_result r;
  r.impl = rd.str(j, "impl"), r.verdict = rd.str(j, "verdict"), r.reason = rd.str(j, "reason");
  if (r.verdict != "ok" && r.verdict != "diverged") rd.bad("verdict", "not ok or diverged");
  r.lr = rd.num(j, "lr");
  r.steps_budget = rd.integer(j, "steps_budget", 0), r.steps_done = rd.integer(j, "steps_done", 0);
  r.diverged_at = rd.integer(j, "diverged_at", -1), r.steps_to_target = rd.integer(j, "steps_to_target", -1);
  if (r.steps_done > r.steps_budget) rd.bad("steps_done", "more than steps_budget");
  if ((r.verdict == "diverged") != (r.diverged_at >= 0)) rd.bad("diverged_at", "does not fit the verdict");
  r.wall_to_target = rd.num(j, "wall_to_target"), r.train_s = rd.num(j, "train_s"), r.opt_s = rd.num(j, "opt_s"), r.eval_s = rd.num(j, "eval_s");
  r.samples = rd.integer(j, "samples", 0);
  const json& curve = rd.at(j, "curve");
  if (!curve.is_array() || curve.empty()) rd.bad("curve", "not a non-empty array");
  std::int64_t last = -1;
  for (auto& row : curve) {
    if (!row.is_array() || row.size() != 7 || !row[0].is_number_integer()) rd.bad("curve", "a row is not [step, epoch, lr, train_loss, val_loss, val_acc, wall_s]");
    curve_row c;
    c.step = row[0].get<std::int64_t>();
    if (c.step <= last || c.step > r.steps_budget) rd.bad("curve", "steps not increasing within the budget");
    last = c.step;
    c.epoch = rd.num_of(row[1], "curve"), c.lr = rd.num_of(row[2], "curve"), c.train_loss = rd.num_of(row[3], "curve");
    c.val_loss = rd.num_of(row[4], "curve"), c.val_acc = rd.num_of(row[5], "curve"), c.wall_s = rd.num_of(row[6], "curve");
    r.curve.push_back(c);
  }
  return r;
}

}  // namespace adambench
