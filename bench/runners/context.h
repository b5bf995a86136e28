#pragma once
/// What every result file says about where it came from, and the run's interrupt flag.
#include <atomic>
#include <nlohmann/json.hpp>

namespace adambench {

/// machine, build (compiler, commit, versions incl. LibTorch), threads, time.
nlohmann::json run_context(int threads);

/// Set by SIGINT/SIGTERM (installed by the CLI): runners stop after the current case, write what
/// they have with "interrupted": true and the place they stopped, and exit 130.
extern std::atomic<bool> interrupted;
void install_interrupt_handler();

}  // namespace adambench
