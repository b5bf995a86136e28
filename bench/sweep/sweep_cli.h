#pragma once
/// The `sweep` subcommand: hyper-parameter studies and tuning-advice verdicts (docs/tuning.md).
#include "adambench/optimizer.h"

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

namespace adambench {

struct sweep_cli;
/// Adds `sweep` to `app`; keep the returned state alive until run_sweep_commands.
std::shared_ptr<sweep_cli> add_sweep_commands(CLI::App& app);
/// Runs `sweep` when it was parsed (with the global --threads); nullopt otherwise.
std::optional<int> run_sweep_commands(sweep_cli& s, const registry& reg, int threads);

}  // namespace adambench
