#pragma once
// Small formatting helpers shared by the reporters (agree, converge, sweep).
#include "core/results.h"
#include "core/stats.h"
#include "shared/context.h"

#include <cctype>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <string>

namespace adambench::report_util {

/// A JSON number, or null for NaN and infinities (JSON has neither).
inline nlohmann::json jnum(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

/// {median, lo, hi, ci95}: what the gate (bench/gate) and the report read.
inline nlohmann::json ci_json(const stats::median_ci& m) {
  return {{"median", jnum(m.median)}, {"lo", jnum(m.lo)}, {"hi", jnum(m.hi)}, {"ci95", {jnum(m.lo), jnum(m.hi)}}};
}

/// How bootstrap_median's intervals were made (its defaults), for result files.
inline nlohmann::json bootstrap_json() {
  return {{"statistic", "median"}, {"level", stats::default_level}, {"resamples", stats::default_resamples}, {"rng_seed", stats::default_bootstrap_seed}};
}

/// The head every result file starts with: schema version, kind, context, suite; then the shard
/// ("I/N" when N > 1), whether an interrupt stopped the run and, under `stop_key`, where.
inline nlohmann::json result_base(const char* kind, const std::string& suite, int threads, std::pair<int, int> shard, const std::string& stopped_at,
                                  const char* stop_key = "stopped_at") {
  nlohmann::json j{{"schema_version", result_schema_version}, {"kind", kind}, {"context", run_context(threads)}, {"suite", suite}};
  if (shard.second > 1) j["shard"] = fmt::format("{}/{}", shard.first, shard.second);
  j["interrupted"] = !stopped_at.empty();
  if (!stopped_at.empty()) j[stop_key] = stopped_at;
  return j;
}

/// result_base, plus what every result file of a training runner says: the bootstrap method and the curve columns.
inline nlohmann::json result_head(const char* kind, const std::string& suite, int threads, std::pair<int, int> shard, const std::string& stopped_at) {
  nlohmann::json j = result_base(kind, suite, threads, shard, stopped_at);
  j["bootstrap"] = bootstrap_json();
  j["csv_columns"] = {"step", "epoch", "lr", "train_loss", "val_loss", "val_acc", "wall_s"};
  return j;
}

/// "-" for NaN, "inf", else `digits` significant digits.
inline std::string fmt_g(double x, int digits = 3) {
  if (std::isnan(x)) return "-";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return fmt::format("{:.{}g}", x, digits);
}

/// "m [lo, hi]", or "m" when the interval is a point.
inline std::string ci_cell(const stats::median_ci& m, int digits) {
  if (std::isnan(m.median)) return "-";
  if (m.lo == m.hi && m.lo == m.median) return fmt_g(m.median, digits);
  return fmt::format("{} [{}, {}]", fmt_g(m.median, digits), fmt_g(m.lo, digits), fmt_g(m.hi, digits));
}

/// A name usable in a file name: other characters become '_'.
inline std::string file_safe(const std::string& s) {
  std::string o;
  for (char c : s) o += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_') ? c : '_';
  return o;
}

}  // namespace adambench::report_util
