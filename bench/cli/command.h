#pragma once
/// The command table: every subcommand is one file in bench/cli/ that registers {name, options, run}
/// with ADAMBENCH_REGISTER_COMMAND; cli_main builds the command line from the commands linked in
/// (the GPU check build links agree and list only), and the helpers below are what runners share:
/// the run options, their checks before any work, --shard and --threads.
#include "adambench/optimizer.h"
#include "adambench/register.h"
#include "core/suite.h"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace adambench {

/// What a parsed subcommand runs with besides its own options.
struct command_env {
  const registry& reg;
  int threads;         ///< --threads before or after the subcommand (default: every hardware thread)
  const CLI::App& app;  ///< the whole command line, to ask whether a global option was given
};

/// Runs a parsed subcommand and returns its exit code (docs/architecture.md "Exit codes").
using command_run = std::function<int(const command_env&)>;

/// One subcommand. `options` declares its options (and nested subcommands) on `cmd`, the
/// subcommand the table made for it, with `threads` the global --threads to bind; it returns what
/// runs the command once parsed (state shared by the two lives in what the closure captures).
struct command_entry {
  std::string name;
  std::string description;  ///< the line `adambench --help` shows
  int help_order = 0;       ///< place in `adambench --help` (smaller first)
  std::function<command_run(CLI::App& cmd, int& threads)> options;
  bool hidden = false;  ///< internal (count-worker): runs, but `adambench --help` does not list it
};

/// Adds `e` to the table; returns true so a namespace-scope variable can call it.
bool register_command(command_entry e);
/// Every registered command, in help order.
std::vector<command_entry> registered_commands();

// ---- what runners share ----

/// Options common to the runners (agree, speed, converge, sweep, count), bound to each command's
/// own help texts; `prepare` checks them all before any work.
struct run_options {
  std::vector<std::string> impls;
  std::string out, shard, filter;
  bool quiet = false, allow_empty = false;

  /// Checks, in this order: --shard is I/N, --filter a regular expression, every --impl is
  /// registered, ADAMBENCH_RUN_ID is well formed, --out is a writable folder (made if missing).
  /// Throws input_error (exit 2) or io_error (exit 4) naming what and where.
  void prepare(const registry& reg) const;
  /// --shard as (I, N); (1, 1), the whole run, when not given.
  std::pair<int, int> shard_slice() const;
  /// --out, when given.
  std::optional<std::filesystem::path> out_dir() const;
};

/// Parses "I/N" (1 <= I <= N); throws input_error otherwise.
std::pair<int, int> parse_shard(const std::string& s);

/// Throws input_error when `re` is not an ECMAScript regular expression, naming `flag`.
void check_regex(const std::string& re, const char* flag);

/// An integer option's check: "--threads must be ≥ 1 (got 0)" rather than CLI11's range wording.
CLI::Validator int_at_least(long long lo);

/// Declares --algo (into `algo`, read with parse_algo) and adam_config's fields as options:
/// --lr, --beta1, --beta2, --eps, --weight-decay, --amsgrad, --maximize (replay, check).
void add_hyperparameters(CLI::App& cmd, adam_config& cfg, std::string& algo);

/// Declares --threads on a subcommand too (`agree --threads 2`), bound to the global value.
void add_threads(CLI::App* cmd, int& threads);

/// A suite file, or the name of a shipped suite, read and parsed by `parse(text, source)`.
template <class Parse>
auto read_suite(const std::string& path_or_name, Parse parse) {
  std::string source;
  std::string text = load_suite_text(path_or_name, source);
  return parse(text, source);
}

}  // namespace adambench

/// Registers a subcommand at program start, next to its code: the arguments are a command_entry's
/// (name, description, help order, options[, hidden]).
#define ADAMBENCH_REGISTER_COMMAND(...)                                                                    \
  [[maybe_unused]] static const bool ADAMBENCH_CONCAT_(adambench_command_registered_, __COUNTER__) = \
      ::adambench::register_command(::adambench::command_entry{__VA_ARGS__})
