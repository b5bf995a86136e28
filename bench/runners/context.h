#pragma once
/// What every result file says about where it came from, and the run's interrupt flag.
#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace adambench {

/// machine, build (compiler, commit, versions incl. LibTorch), threads, time.
nlohmann::json run_context(int threads);

/// Set by SIGINT/SIGTERM (installed by the CLI): runners stop after the current case, write what
/// they have with "interrupted": true and the place they stopped, and exit 130.
extern std::atomic<bool> interrupted;
void install_interrupt_handler();

/// A run whose every selected case was skipped checked nothing: says so in one stderr line with
/// the skip reasons (e.g. "no CUDA device") and returns 3, or 0 when `--allow-empty` was given.
int nothing_checked(const std::string& runner, const std::vector<std::string>& reasons, bool allow_empty);

}  // namespace adambench
