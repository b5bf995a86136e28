#pragma once
/// `adambench check TRACE.npz RESULT.npz`: results computed elsewhere judged against the reference.
#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

namespace adambench {

struct check_cli;
/// Adds the subcommand to `app`; keep the returned state alive until run_check_commands.
std::shared_ptr<check_cli> add_check_commands(CLI::App& app);
/// Runs `check` when it was parsed; nullopt otherwise.
std::optional<int> run_check_commands(check_cli& c);

}  // namespace adambench
