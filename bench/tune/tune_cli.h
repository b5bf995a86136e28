#pragma once
/// The `tune` subcommand (Adam tuned on the user's own model, docs/tuning.md) and `data-order`
/// (the minibatches a training run takes, for a training loop outside adambench).
#include "adambench/optimizer.h"

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

namespace adambench {

struct tune_cli;
/// Adds `tune` and `data-order` to `app`; keep the returned state alive until run_tune_commands.
std::shared_ptr<tune_cli> add_tune_commands(CLI::App& app);
/// Runs `tune` or `data-order` when parsed (with the global --threads); nullopt otherwise.
std::optional<int> run_tune_commands(tune_cli& t, const registry& reg, int threads);

}  // namespace adambench
