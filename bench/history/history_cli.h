#pragma once
/// The history subcommands: `history add` (results into the SQLite store), `history show`
/// (trends per figure) and `history check` (exit 1 when the newest run sits after a regression).
#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

namespace adambench {

struct history_cli;
/// Adds `history` and its subcommands to `app`; keep the returned state alive until run_history_commands.
std::shared_ptr<history_cli> add_history_commands(CLI::App& app);
/// Runs whichever history subcommand was parsed; nullopt when none was.
std::optional<int> run_history_commands(history_cli& h);

}  // namespace adambench
