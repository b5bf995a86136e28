// Reporters of the speed runner: the summary table (console and speed.txt) and the fields added
// to Google Benchmark's JSON (speed.json). They read speed_grid and speed_summary only.
#include "speed/speed_report.h"

#include "core/results.h"

#include <fmt/format.h>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace adambench {
namespace {

using ojson = nlohmann::ordered_json;

std::string fmt_time(double us) {
  if (std::isnan(us)) return "-";
  if (us >= 1e6) return fmt::format("{:.3g} s", us / 1e6);
  if (us >= 1e3) return fmt::format("{:.3g} ms", us / 1e3);
  return fmt::format("{:.3g} us", us);
}

std::string fmt_bytes(std::int64_t b) {
  if (b < 0) return "-";
  if (b == 0) return "0";
  if (b >= (1 << 20)) return fmt::format("{:.3g} MiB", static_cast<double>(b) / (1 << 20));
  if (b >= (1 << 10)) return fmt::format("{:.3g} KiB", static_cast<double>(b) / (1 << 10));
  return fmt::format("{} B", b);
}

std::string ratio(const speed_figure& f, bool pct) {
  if (!f.has()) return std::string("-");
  if (pct) return fmt::format("{:.3g}% ({:.3g}..{:.3g})", 100 * f.median, 100 * f.lo, 100 * f.hi);
  return fmt::format("{:.3g}x ({:.3g}..{:.3g})", f.median, f.lo, f.hi);
}

std::string table_head(int repetitions) {
  std::string out = fmt::format(
      "\nSummary: median over {} repetition{} (time: ± stddev; ratios: this row's min..max over the other's median).\n"
      "limit = the probe: Adam's access pattern (reads p, g, m, v; writes p, m, v) without arithmetic, same buffers and\n"
      "threads, the fastest of its variants in each round. vs best LibTorch: over the fastest LibTorch CPU peer of the case;\n"
      "vs DeepSpeed: over deepspeed-cpu (DeepSpeed's CPU Adam) on the same case.\n"
      "extra/step: peak bytes one step allocates beyond the bound buffers and the optimizer's state (allocation hook).\n",
      repetitions, repetitions == 1 ? "" : "s");
  out += fmt::format("{:<18} {:<16} {:>3} {:<12} {:>24} {:>9} {:>8} {:>20} {:>34} {:>22} {:>10}  {}\n", "implementation", "shape", "thr",
                     "algo", "time/step", "Gparam/s", "GB/s", "of limit", "vs best LibTorch", "vs DeepSpeed", "extra/step", "vs each LibTorch");
  return out;
}

// One row of the table; `cached`: its working set fits in the last-level cache (marked '*').
std::string table_row(const speed_grid& grid, const row_summary& r, bool cached) {
  const bench_spec& b = grid.specs[r.spec];
  const speed_figure& t = r.time_us;
  std::string algo_s = b.impl ? fmt::format("{}{}", to_string(b.cfg.kind), b.cfg.amsgrad ? "+ams" : "")
                              : (b.cfg.amsgrad ? "(36 B/param)" : "(28 B/param)");
  std::string ts = !t.has() ? "failed: " + r.error
                            : std::isnan(t.stddev) ? fmt_time(t.median)
                                                   : fmt::format("{} (±{:.1f}%)", fmt_time(t.median), 100.0 * t.stddev / t.median);
  const shape_list& sh = grid.shapes[b.shape];
  std::string frac = b.impl ? ratio(r.limit_fraction, true) : "limit";
  std::string best = r.best_peer.empty() ? "" : fmt::format("{} over {}", ratio(r.vs_best, false), r.best_peer);
  std::string ds = r.vs_deepspeed.has() ? ratio(r.vs_deepspeed, false) : "";
  std::string each;
  for (auto& [name, f] : r.vs_peers) each += fmt::format("{}{} {:.3g}x", each.empty() ? "" : ", ", name, f.median);
  if (r.over_limit) {
    // Faster than the limit is not a result: the probe's repetitions were slowed (noise) or the
    // probe is not the limit. The row is shown for what went wrong, without ratios.
    frac = fmt::format("!{:.0f}% OVER LIMIT", 100 * r.limit_fraction.median);
    best = "(measurement problem)";
    ds.clear();
    each.clear();
  }
  return fmt::format("{:<18} {:<16} {:>3} {:<12} {:>24} {:>9} {:>8} {:>20} {:>34} {:>22} {:>10}  {}\n", b.impl_name(),
                     sh.name + (cached ? "*" : ""), b.threads, algo_s, ts, r.rate.has() ? fmt::format("{:.3f}", r.rate.median / 1e9) : "-",
                     r.bytes_rate.has() ? fmt::format("{:.1f}", r.bytes_rate.median / 1e9) : "-", frac, best, ds, fmt_bytes(r.extra_bytes),
                     each);
}

std::string problem(const row_summary& r) {
  return fmt::format("{:.1f}% of the limit (above {:.0f}%): a measurement problem, not a result", 100 * r.limit_fraction.median,
                     100 * limit_tolerance);
}

ojson num(double x) { return std::isnan(x) ? ojson(nullptr) : ojson(x); }
ojson fig(const speed_figure& f) { return ojson{{"median", num(f.median)}, {"min", num(f.lo)}, {"max", num(f.hi)}}; }

// The summary's fields on each of Google Benchmark's entries (runs and aggregates) of a row.
void annotate_entries(ojson& j, const speed_grid& grid, const std::vector<row_summary>& rows) {
  std::map<std::string, const row_summary*> by_name;
  for (auto& r : rows) by_name[grid.specs[r.spec].name] = &r;
  if (!j.contains("benchmarks") || !j["benchmarks"].is_array()) return;
  for (auto& e : j["benchmarks"]) {
    std::string rn = e.value("run_name", std::string());
    for (const char* suffix : {"/real_time", "/manual_time"}) {
      const std::string sfx = suffix;
      if (rn.size() > sfx.size() && rn.compare(rn.size() - sfx.size(), sfx.size(), sfx) == 0) rn.resize(rn.size() - sfx.size());
    }
    auto it = by_name.find(rn);
    if (it == by_name.end() || !grid.specs[it->second->spec].impl) continue;
    const row_summary& r = *it->second;
    e["over_limit"] = r.over_limit;
    if (r.over_limit) e["measurement_problem"] = problem(r);
    if (r.limit_fraction.has()) e["limit_fraction"] = r.limit_fraction.median;
    if (!r.best_peer.empty() && !r.over_limit) {
      e["vs_best_libtorch"] = r.vs_best.median;
      e["best_libtorch"] = r.best_peer;
    }
    if (r.vs_deepspeed.has() && !r.over_limit) e["vs_deepspeed"] = r.vs_deepspeed.median;
  }
}

// One entry of `adambench_rows`.
ojson row_json(const speed_grid& grid, const row_summary& r) {
  const bench_spec& b = grid.specs[r.spec];
  const shape_list& sh = grid.shapes[b.shape];
  ojson o{{"name", b.name},
          {"impl", b.impl_name()},
          {"algo", b.impl ? to_string(b.cfg.kind) : "probe"},
          {"amsgrad", b.cfg.amsgrad},
          {"shape", sh.name},
          {"params", sh.numel},
          {"tensors", sh.shapes.size()},
          {"threads", b.threads},
          {"time_us", fig(r.time_us)},
          {"params_per_second", fig(r.rate)},
          {"extra_bytes_per_step", r.extra_bytes >= 0 ? ojson(r.extra_bytes) : ojson(nullptr)}};
  if (!r.error.empty()) o["error"] = r.error;
  if (b.impl) {
    o["limit_fraction"] = fig(r.limit_fraction);
    o["over_limit"] = r.over_limit;
    o["measurement_problem"] = r.over_limit ? ojson(problem(r)) : ojson(nullptr);
    if (!r.over_limit) {
      o["best_libtorch"] = r.best_peer.empty() ? ojson(nullptr) : ojson(r.best_peer);
      o["vs_best_libtorch"] = r.best_peer.empty() ? ojson(nullptr) : fig(r.vs_best);
      ojson each = ojson::object();
      for (auto& [name, f] : r.vs_peers) each[name] = fig(f);
      o["vs_libtorch"] = each;
      o["vs_deepspeed"] = r.vs_deepspeed.has() ? fig(r.vs_deepspeed) : ojson(nullptr);
    }
  }
  return o;
}

}  // namespace

std::string speed_summary_table(const speed_grid& grid, const speed_summary& sum, int repetitions) {
  std::string out = table_head(repetitions);
  // A working set (p, g, m, v and max_v: 4 or 5 floats per parameter) inside the last-level cache
  // measures the cache, not memory: marked with '*'.
  const std::int64_t llc = sum.llc_bytes;
  bool any_cached = false, any_over = false;
  int last_shape = -1;
  for (auto& r : sum.rows) {
    if (!r.present()) continue;  // filtered out
    const bench_spec& b = grid.specs[r.spec];
    if (b.shape != last_shape && last_shape != -1) out += "\n";
    last_shape = b.shape;
    const bool cached = llc > 0 && grid.shapes[b.shape].numel * (b.cfg.amsgrad ? 20 : 16) <= llc;
    any_cached = any_cached || cached;
    any_over = any_over || r.over_limit;
    out += table_row(grid, r, cached);
  }
  if (any_cached)
    out += fmt::format("\n* the working set fits in the last-level cache ({} MiB): a cache figure, not a memory one.\n", llc >> 20);
  if (any_over)
    out += fmt::format(
        "\n! above {:.0f}% of the limit: a MEASUREMENT PROBLEM, not a result (the probe's repetitions were slowed by\n"
        "  other load, or the limit is wrong). Rerun on a quieter machine; these rows carry no ratios.\n",
        100 * limit_tolerance);
  return out;
}

void annotate_speed_json(ojson& j, const speed_grid& grid, const speed_summary& sum) {
  annotate_entries(j, grid, sum.rows);
  ojson out = ojson::array();
  for (auto& r : sum.rows)
    if (r.present()) out.push_back(row_json(grid, r));
  j["adambench_rows"] = out;
}

void write_speed_json(const std::filesystem::path& gb_json, const std::filesystem::path& final_json, const speed_grid& grid,
                      const speed_summary& sum, bool listing) {
  std::error_code ec;
  try {
    std::ifstream in(gb_json);
    std::stringstream text;
    text << in.rdbuf();
    // Google Benchmark writes NaN (the cv of a counter that is 0 in every repetition) as a bare
    // token, which JSON does not have: null instead.
    static const std::regex non_finite(R"(: (-?nan|-?NaN|-?inf|-?Infinity)([,\n]))");
    // ordered: Google Benchmark's field order stays as it wrote it
    ojson j = ojson::parse(std::regex_replace(text.str(), non_finite, ": null$2"));
    if (!listing) annotate_speed_json(j, grid, sum);
    write_file_atomic(final_json, j.dump(2) + "\n");
  } catch (const ojson::exception& e) {
    std::filesystem::remove(gb_json, ec);
    throw io_error(fmt::format("cannot read back Google Benchmark's output {}: {}", gb_json.string(), e.what()));
  } catch (...) {
    std::filesystem::remove(gb_json, ec);
    throw;
  }
  std::filesystem::remove(gb_json, ec);
}

}  // namespace adambench
