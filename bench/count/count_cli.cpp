#include "count/count_cli.h"

#include "cli/gate_cli.h"
#include "core/suite.h"
#include "speed/speed_suite.h"
#include "count/count.h"

#include <fmt/format.h>
#include <regex>

namespace adambench {

struct count_cli {
  CLI::App *app = nullptr, *count = nullptr, *worker = nullptr;
  std::string suite = "smoke", out, filter, shard, request;
  std::vector<std::string> impls;
  int steps = 2, warmup = 2;
  bool quiet = false, allow_empty = false;
};

std::shared_ptr<count_cli> add_count_commands(CLI::App& app) {
  auto s = std::make_shared<count_cli>();
  s->app = &app;
  auto* c = s->count = app.add_subcommand("count", "counted cost of one step under Valgrind (instructions, simulated cache and DRAM traffic; 1 thread)");
  c->add_option("suite", s->suite, "suite file (TOML) with a [speed] table, or a shipped suite's name (default: smoke)");
  c->add_option("--impl", s->impls, "implementations to count (repeatable; default: the suite's list)");
  c->add_option("--filter", s->filter, "count only benchmarks whose name (IMPL/ALGO/SHAPE/threads:1) matches this regex (searched)");
  c->add_option("--out", s->out, "folder for count.json");
  c->add_option("--steps", s->steps, "steps counted per benchmark after warm-up; figures are per step (default 2)")->check(CLI::Range(1, 1000));
  c->add_option("--warmup", s->warmup, "steps before counting, the last one under the cache simulation (default 2)")->check(CLI::Range(1, 1000));
  c->add_option("--shard", s->shard, "count the I-th of N interleaved slices of the shape lists (join with `adambench merge`)");
  c->add_flag("--quiet", s->quiet, "no progress lines and no table");
  c->add_flag("--allow-empty", s->allow_empty, "exit 0, not 3, when every selected benchmark was skipped");
  // Internal: what `count` runs under Valgrind, with a request file it wrote. Hidden (empty group).
  s->worker = app.add_subcommand("count-worker", "internal: the counted process of `adambench count`")->group("");
  s->worker->add_option("request", s->request, "what to count (JSON written by `adambench count`)")->required();
  return s;
}

std::optional<int> run_count_commands(count_cli& s, const registry& reg) {
  if (s.worker->parsed()) return run_count_worker(reg, s.request);
  if (!s.count->parsed()) return std::nullopt;
  // Counting is one thread: threads are the timed gate's business (docs/speed.md).
  if (auto* t = s.app->get_option_no_throw("--threads"); t && t->count() > 0 && t->as<int>() != 1)
    throw input_error("count: counts one thread only (--threads 1); thread scaling is the timed gate's business (adambench speed)");
  std::string source;
  const speed_suite suite = parse_speed_suite(load_suite_text(s.suite, source), source);
  count_options o;
  o.suite_arg = s.suite;
  o.impls = s.impls;
  for (auto& n : o.impls) reg.at(n);  // unknown names fail before any work
  if (!s.filter.empty()) {
    try {
      std::regex r(s.filter);
    } catch (const std::regex_error& e) {
      throw input_error(fmt::format("--filter '{}': not a regular expression ({})", s.filter, e.what()));
    }
  }
  o.filter = s.filter;
  if (!s.out.empty()) o.out = s.out;
  o.steps = s.steps;
  o.warmup = s.warmup;
  if (!s.shard.empty()) o.shard = parse_shard(s.shard);
  o.quiet = s.quiet;
  o.allow_empty = s.allow_empty;
  return run_count(suite, reg, o);
}

}  // namespace adambench
