// `adambench ab`: two builds of the harness on this machine, interleaved, then compared (docs/gate.md).
#include "cli/command.h"
#include "cli/gate_common.h"
#include "core/results.h"

#include <fmt/format.h>

namespace adambench {
namespace {

namespace fs = std::filesystem;

// Joins whole runs of one build and checks the result like any file read from disk. Speed pools
// the repetitions of every round; agree and converge are deterministic, so the last round stands.
loaded_result joined(const std::vector<loaded_result>& runs, const fs::path& path) {
  auto j = runs[0].kind == "speed" ? merge_repeats(runs) : runs.back().json;
  write_json_atomic(path, j);
  return checked_result(std::move(j), path.string());
}

command_run ab_options_of(CLI::App& c, int&) {
  struct state {
    std::string bin_a, bin_b, out_dir, markdown;
    int rounds = 5;
    std::vector<std::string> args;
    gate_thresholds th;
  };
  auto g = std::make_shared<state>();
  c.add_option("--a", g->bin_a, "baseline adambench binary")->required();
  c.add_option("--b", g->bin_b, "candidate adambench binary")->required();
  c.add_option("--rounds", g->rounds, "interleaved rounds (A B, then B A, ...)")->check(int_at_least(1));
  c.add_option("--out", g->out_dir, "folder for every run and the merged a.json / b.json")->required();
  c.add_option("--markdown", g->markdown, "also write a Markdown summary");
  c.add_option("args", g->args, "after --: the subcommand and its arguments, e.g. -- speed suites/ci.toml")->required();
  g->th.add(c);
  g->th.add_noise(c);
  return [g](const command_env&) {
    const gate_options o = g->th.options();
    check_binary(g->bin_a);
    check_binary(g->bin_b);
    std::vector<loaded_result> a, b;
    for (int r = 0; r < g->rounds; ++r) {
      // Alternate the order so slow drift of the machine hits both sides alike.
      for (int k = 0; k < 2; ++k) {
        const bool side_a = (r % 2 == 0) == (k == 0);
        const std::string& bin = side_a ? g->bin_a : g->bin_b;
        fs::path dir = fs::path(g->out_dir) / (side_a ? "a" : "b") / fmt::format("round-{}", r + 1);
        check_child(run_child(bin, g->args, dir), bin, "round", r + 1);
        (side_a ? a : b).push_back(load_result(result_in(dir)));
      }
    }
    std::vector<loaded_result> ma{joined(a, fs::path(g->out_dir) / "a.json")}, mb{joined(b, fs::path(g->out_dir) / "b.json")};
    return finish(compare_results(ma, mb, o), g->markdown, g->bin_a, g->bin_b);
  };
}

ADAMBENCH_REGISTER_COMMAND("ab", "A/B: run two builds of the harness on this machine, interleaved, then compare", 80, ab_options_of);

}  // namespace
}  // namespace adambench
