// `adambench count-worker` (internal, hidden): what `adambench count` runs under Valgrind.
#include "cli/command.h"
#include "count/count.h"

namespace adambench {
namespace {

command_run count_worker_options_of(CLI::App& c, int&) {
  auto request = std::make_shared<std::string>();
  c.add_option("request", *request, "what to count (JSON written by `adambench count`)")->required();
  return [request](const command_env& env) { return run_count_worker(env.reg, *request); };
}

ADAMBENCH_REGISTER_COMMAND("count-worker", "internal: the counted process of `adambench count`", 160, count_worker_options_of, true);

}  // namespace
}  // namespace adambench
