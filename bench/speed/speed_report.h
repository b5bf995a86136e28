#pragma once
/// Reporters of the speed runner (speed/speed_report.cpp): they read the grid and the summary
/// only (speed/speed_summary.h) and compute nothing of their own.
#include "speed/speed_summary.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace adambench {

/// The summary table printed after Google Benchmark's and written as speed.txt.
std::string speed_summary_table(const speed_grid& grid, const speed_summary& sum, int repetitions);

/// Adds the summary to Google Benchmark's JSON: on every entry of a row `over_limit` (and
/// `measurement_problem` when true), `limit_fraction`, `vs_best_libtorch` and `best_libtorch`; and
/// the whole summary as `adambench_rows`. Google Benchmark's tools ignore fields they do not know.
void annotate_speed_json(nlohmann::ordered_json& j, const speed_grid& grid, const speed_summary& sum);

/// Reads the JSON Google Benchmark wrote to `gb_json`, annotates it (unless only listing) and
/// writes it whole to `final_json`; `gb_json` is removed in every case. Throws io_error when
/// Google Benchmark's output cannot be read back.
void write_speed_json(const std::filesystem::path& gb_json, const std::filesystem::path& final_json, const speed_grid& grid,
                      const speed_summary& sum, bool listing);

}  // namespace adambench
