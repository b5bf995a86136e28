#pragma once
/// The gate's subcommands: compare, merge, ab (A/B of two builds, interleaved) and calibrate
/// (A/A: one build K times, the false-alarm rate of the thresholds).
#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

namespace adambench {

struct gate_cli;
/// Adds the subcommands to `app`; keep the returned state alive until run_gate_commands.
std::shared_ptr<gate_cli> add_gate_commands(CLI::App& app);
/// Runs whichever gate subcommand was parsed; nullopt when none was.
std::optional<int> run_gate_commands(gate_cli& g);

/// Parses "I/N" (1 <= I <= N); throws input_error otherwise.
std::pair<int, int> parse_shard(const std::string& s);

}  // namespace adambench
