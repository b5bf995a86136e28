// `adambench merge`: the pieces of a sharded run joined into one result (docs/sharding.md).
#include "cli/command.h"
#include "core/results.h"
#include "gate/compare.h"

#include <fmt/format.h>

namespace adambench {
namespace {

command_run merge_options_of(CLI::App& c, int&) {
  struct state {
    std::string out, run_id;
    std::vector<std::string> inputs;
    CLI::Option* run_id_opt = nullptr;
  };
  auto g = std::make_shared<state>();
  c.add_option("--out", g->out, "merged result file")->required();
  c.add_option("inputs", g->inputs, "result files or folders, one kind")->required();
  g->run_id_opt = c.add_option("--run-id", g->run_id,
                               "merge only pieces of this run (their ADAMBENCH_RUN_ID); a piece of another run counts as missing");
  return [g](const command_env&) {
    std::vector<loaded_result> parts;
    for (auto& p : g->inputs)
      for (auto& r : load_results(p)) parts.push_back(std::move(r));
    const auto run = g->run_id_opt->count() ? std::optional<std::string>(g->run_id) : std::nullopt;
    nlohmann::json merged = merge_results(parts, run);
    if (selected_nothing(merged)) {
      fmt::print(stderr, "merge: nothing checked: every one of the {} pieces selected no case; nothing written, exit 3\n", parts.size());
      return 3;
    }
    const std::size_t joined = merged["merged_from"].size();
    write_json_atomic(g->out, checked_result(std::move(merged), g->out).json);
    fmt::print("merged {} results into {}\n", joined, g->out);
    return 0;
  };
}

ADAMBENCH_REGISTER_COMMAND("merge", "join the pieces of a sharded run (--shard I/N, shards 1..N once each) into one result", 70,
                           merge_options_of);

}  // namespace
}  // namespace adambench
