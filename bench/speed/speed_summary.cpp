// The speed runner's summary rows (speed/speed_summary.h): figures with their spread over
// repetitions, and ratios against the limit (the probe), the LibTorch CPU peers and DeepSpeed's.
#include "speed/speed_summary.h"

#include "speed/probe.h"

#include <map>

namespace adambench {
namespace {

using bench_run = benchmark::BenchmarkReporter::Run;
// function_name -> aggregate name ("" for a single repetition) -> run
using runs_by_name = std::map<std::string, std::map<std::string, const bench_run*>>;

double to_us(const bench_run& r) { return r.GetAdjustedRealTime() * 1e6 / benchmark::GetTimeUnitMultiplier(r.time_unit); }

auto counter(const char* c) {
  return [c](const bench_run& r) {
    auto it = r.counters.find(c);
    return it == r.counters.end() ? std::nan("") : it->second.value;
  };
}

template <class Value>
speed_figure figure_of(const runs_by_name& by, const std::string& name, Value&& value) {
  speed_figure f;
  auto it = by.find(name);
  if (it == by.end()) return f;
  auto& m = it->second;
  auto pick = [&](const char* agg) -> double {
    auto j = m.find(agg);
    if (j == m.end()) return std::nan("");
    return value(*j->second);
  };
  if (m.count("median")) {
    f.median = pick("median");
    f.stddev = pick("stddev");
    f.lo = pick("min");
    f.hi = pick("max");
  } else if (m.count("")) {
    f.median = f.lo = f.hi = value(*m.at(""));
  }
  return f;
}

// Ratios: the median of this row's repetitions over the median of the other's; the spread is
// this row's min..max over the same median.
speed_figure against(const std::vector<row_summary>& rows, const row_summary& r, int other) {
  speed_figure f;
  if (other < 0 || !r.rate.has()) return f;
  const speed_figure& o = rows[other].rate;
  if (!o.has() || o.median <= 0) return f;
  f.median = r.rate.median / o.median;
  f.lo = r.rate.lo / o.median;
  f.hi = r.rate.hi / o.median;
  return f;
}

void add_ratios(std::vector<row_summary>& rows, const std::vector<bench_spec>& specs) {
  for (auto& r : rows) {
    const bench_spec& b = specs[r.spec];
    if (!b.impl) continue;
    r.limit_fraction = against(rows, r, b.probe);
    r.over_limit = r.limit_fraction.has() && r.limit_fraction.median > limit_tolerance;
    r.vs_deepspeed = against(rows, r, b.deepspeed);
    int best = -1;
    for (int j : b.peers) {
      const speed_figure f = against(rows, r, j);
      if (!f.has()) continue;
      r.vs_peers.emplace_back(specs[j].impl->name, f);
      if (best < 0 || rows[j].rate.median > rows[best].rate.median) best = j;
    }
    if (best >= 0 && !b.impl->traits.libtorch_peer()) {
      r.best_peer = specs[best].impl->name;
      r.vs_best = against(rows, r, best);
    }
  }
}

}  // namespace

speed_summary summarise(const speed_grid& grid, const std::vector<std::int64_t>& extra_bytes, const std::vector<bench_run>& runs) {
  runs_by_name by;
  std::map<std::string, std::string> errors;
  for (auto& r : runs) {
    if (r.error_occurred) {
      errors[r.run_name.function_name] = r.error_message;
      continue;
    }
    if (r.run_type == bench_run::RT_Aggregate) by[r.run_name.function_name][r.aggregate_name] = &r;
    else by[r.run_name.function_name][""] = &r;  // the last repetition; superseded by aggregates
  }
  const auto& specs = grid.specs;
  std::vector<row_summary> rows(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    rows[i].spec = static_cast<int>(i);
    rows[i].time_us = figure_of(by, specs[i].name, to_us);
    rows[i].rate = figure_of(by, specs[i].name, counter("params_per_second"));
    rows[i].bytes_rate = figure_of(by, specs[i].name, counter("bytes_per_second"));
    rows[i].extra_bytes = extra_bytes[i];
    if (auto e = errors.find(specs[i].name); e != errors.end()) rows[i].error = e->second;
  }
  add_ratios(rows, specs);
  return {std::move(rows), last_level_cache_bytes()};
}

}  // namespace adambench
