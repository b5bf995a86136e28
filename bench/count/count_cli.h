#pragma once
/// The `count` subcommand (counted speed under Valgrind, docs/speed.md "Counted speed") and the
/// hidden `count-worker` it re-runs itself as, under Valgrind.
#include "adambench/optimizer.h"

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

namespace adambench {

struct count_cli;
/// Adds `count` and `count-worker` to `app`; keep the returned state alive until run_count_commands.
std::shared_ptr<count_cli> add_count_commands(CLI::App& app);
/// Runs whichever was parsed; nullopt when neither was.
std::optional<int> run_count_commands(count_cli& c, const registry& reg);

}  // namespace adambench
