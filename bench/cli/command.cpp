#include "cli/command.h"

#include "shared/context.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdio>
#include <fmt/format.h>
#include <regex>

namespace adambench {

namespace {

// Filled by static initializers of the command files, read once by cli_main.
std::vector<command_entry>& table() {
  static std::vector<command_entry> t;
  return t;
}

}  // namespace

bool register_command(command_entry e) {
  table().push_back(std::move(e));
  return true;
}

std::vector<command_entry> registered_commands() {
  std::vector<command_entry> t = table();
  // Static initialization order across files is unspecified: the help order is the declared one.
  std::stable_sort(t.begin(), t.end(), [](const command_entry& a, const command_entry& b) { return a.help_order < b.help_order; });
  return t;
}

std::pair<int, int> parse_shard(const std::string& s) {
  int i = 0, n = 0;
  char slash = 0, extra = 0;
  if (std::sscanf(s.c_str(), "%d%c%d%c", &i, &slash, &n, &extra) != 3 || slash != '/' || n < 1 || i < 1 || i > n)
    throw input_error(fmt::format("invalid --shard '{}': expected I/N with 1 <= I <= N", s));
  return {i, n};
}

void check_regex(const std::string& re, const char* flag) {
  try {
    std::regex r(re);
  } catch (const std::regex_error& e) {
    throw input_error(fmt::format("{} '{}': not a regular expression ({})", flag, re, e.what()));
  }
}

CLI::Validator int_at_least(long long lo) {
  return CLI::Validator(
      [lo](std::string& s) -> std::string {
        long long v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        const std::string shown = s.size() > 24 ? s.substr(0, 24) + "..." : s;
        if (ec == std::errc::result_out_of_range || (ec == std::errc() && end == s.data() + s.size() && v > INT_MAX))
          return fmt::format("must be ≤ {} (got {})", INT_MAX, shown);
        if (ec != std::errc() || end != s.data() + s.size()) return fmt::format("must be an integer (got '{}')", shown);
        if (v < lo) return fmt::format("must be ≥ {} (got {})", lo, v);
        return {};
      },
      "");  // the help shows INT; the bound is in the error
}

void add_threads(CLI::App* cmd, int& threads) {
  cmd->add_option("--threads", threads, "CPU threads for OpenMP and LibTorch (default: all hardware threads)")->check(int_at_least(1));
}

void add_hyperparameters(CLI::App& c, adam_config& cfg, std::string& algo) {
  c.add_option("--algo", algo, "adam or adamw");
  c.add_option("--lr", cfg.lr, "learning rate");
  c.add_option("--beta1", cfg.beta1);
  c.add_option("--beta2", cfg.beta2);
  c.add_option("--eps", cfg.eps);
  c.add_option("--weight-decay", cfg.weight_decay);
  c.add_flag("--amsgrad", cfg.amsgrad);
  c.add_flag("--maximize", cfg.maximize);
}

void run_options::prepare(const registry& reg) const {
  if (!shard.empty()) parse_shard(shard);
  if (!filter.empty()) check_regex(filter, "--filter");
  for (auto& n : impls) reg.at(n);  // unknown names fail before any work
  run_id();                         // so does a malformed ADAMBENCH_RUN_ID
  if (!out.empty()) check_out_dir(out);  // writable before a run that may take hours
}

std::pair<int, int> run_options::shard_slice() const {
  if (shard.empty()) return {1, 1};
  return parse_shard(shard);
}

std::optional<std::filesystem::path> run_options::out_dir() const {
  if (out.empty()) return std::nullopt;
  return std::filesystem::path(out);
}

}  // namespace adambench
