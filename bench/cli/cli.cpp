#include "adambench/cli.h"

#include "cli/command.h"
#include "core/results.h"
#include "shared/context.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <optional>
#include <regex>
#include <thread>
#include <torch/version.h>  // a macro header: no LibTorch compile cost

namespace adambench {
namespace {

// The command line of every registered command (bench/cli/command.h), in help order.
struct command_line {
  CLI::App app{"adambench: correctness, speed and convergence of Adam/AdamW implementations"};
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::pair<CLI::App*, command_run>> commands;

  command_line() {
    app.require_subcommand(1);
    app.set_version_flag("--version", fmt::format("adambench {} (commit {}, LibTorch {})", build_info().value("adambench_version", "?"),
                                                  git_commit(), TORCH_VERSION));
    add_threads(&app, threads);  // before the subcommand; each runner declares it after too
    for (auto& e : registered_commands()) {
      CLI::App* cmd = app.add_subcommand(e.name, e.description);
      if (e.hidden) cmd->group("");  // an empty group: not in --help
      commands.emplace_back(cmd, e.options(*cmd, threads));
    }
  }
};

// nullopt when the command line parsed; otherwise the exit code (help and version: 0; errors: 2).
std::optional<int> parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11 says "--threads: must be ≥ 1"; the project's wording is "--threads must be ≥ 1".
    const std::string what = std::regex_replace(std::string(e.what()), std::regex("^(--[A-Za-z0-9-]+): must"), "$1 must");
    fmt::print(stderr, "adambench: {}\n", what.substr(0, what.find('\n')));
    return 2;
  }
  return std::nullopt;
}

// Runs the parsed subcommand; 2 when none ran.
int dispatch(const command_line& cl, const registry& reg) {
  const command_env env{reg, cl.threads, cl.app};
  for (auto& [cmd, run] : cl.commands)
    if (cmd->parsed()) return run(env);
  return 2;
}

}  // namespace

int cli_main(int argc, char** argv, const registry& reg) {
  command_line cl;
  if (auto rc = parse(cl.app, argc, argv)) return *rc;
  install_interrupt_handler();
  try {
    return dispatch(cl, reg);
  } catch (const input_error& e) {
    fmt::print(stderr, "adambench: {}\n", e.what());
    return 2;
  } catch (const io_error& e) {
    fmt::print(stderr, "adambench: {}\n", e.what());
    return 4;
  } catch (const std::exception& e) {  // no exception escapes main: one line, exit 4
    std::string what = e.what();
    fmt::print(stderr, "adambench: internal error: {}\n", what.substr(0, what.find('\n')));
    return 4;
  }
}

}  // namespace adambench
