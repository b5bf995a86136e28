#include "cli/gate_cli.h"

#include "core/adam_config.h"
#include "core/results.h"
#include "gate/compare.h"
#include "core/stats.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/wait.h>
#include <unistd.h>

namespace adambench {

namespace fs = std::filesystem;

struct gate_cli {
  CLI::App *compare = nullptr, *merge = nullptr, *ab = nullptr, *calibrate = nullptr;
  std::string baseline, candidate, markdown, merge_out;
  std::vector<std::string> merge_inputs;
  gate_options opt;
  std::string bin_a, bin_b, out_dir;
  int rounds = 5;
  std::vector<std::string> args;
};

std::pair<int, int> parse_shard(const std::string& s) {
  int i = 0, n = 0;
  char slash = 0, extra = 0;
  if (std::sscanf(s.c_str(), "%d%c%d%c", &i, &slash, &n, &extra) != 3 || slash != '/' || n < 1 || i < 1 || i > n)
    throw input_error(fmt::format("invalid --shard '{}': expected I/N with 1 <= I <= N", s));
  return {i, n};
}

std::shared_ptr<gate_cli> add_gate_commands(CLI::App& app) {
  auto g = std::make_shared<gate_cli>();
  auto thresholds = [&](CLI::App* c) {
    c->add_option("--min-effect", g->opt.min_effect, "smallest relative speed change that counts (default 0.05)")->check(CLI::Range(0.0, 10.0));
    c->add_option("--alpha", g->opt.alpha, "significance level of the Mann-Whitney U test (default 0.01)")->check(CLI::Range(0.0, 1.0));
  };
  g->compare = app.add_subcommand("compare", "compare results with a baseline: exit 0 no regression, 1 regression, 2 bad input or nothing comparable");
  g->compare->add_option("baseline", g->baseline, "result file or folder of them")->required();
  g->compare->add_option("candidate", g->candidate, "result file or folder of them")->required();
  g->compare->add_option("--markdown", g->markdown, "also write a Markdown summary (pull-request comment, CI job summary)");
  g->compare->add_flag("--allow-missing", g->opt.allow_missing, "baseline results missing, newly skipped or errored in the candidate warn instead of fail");
  g->compare->add_flag("--exact", g->opt.exact, "convergence: curves must be bitwise identical to the baseline's (default: the band of docs/convergence.md)");
  thresholds(g->compare);

  g->merge = app.add_subcommand("merge", "join the pieces of a sharded run (--shard I/N, shards 1..N once each) into one result");
  g->merge->add_option("--out", g->merge_out, "merged result file")->required();
  g->merge->add_option("inputs", g->merge_inputs, "result files or folders, one kind")->required();

  g->ab = app.add_subcommand("ab", "A/B: run two builds of the harness on this machine, interleaved, then compare");
  g->ab->add_option("--a", g->bin_a, "baseline adambench binary")->required();
  g->ab->add_option("--b", g->bin_b, "candidate adambench binary")->required();
  g->ab->add_option("--rounds", g->rounds, "interleaved rounds (A B, then B A, ...)")->check(CLI::PositiveNumber);
  g->ab->add_option("--out", g->out_dir, "folder for every run and the merged a.json / b.json")->required();
  g->ab->add_option("--markdown", g->markdown, "also write a Markdown summary");
  g->ab->add_option("args", g->args, "after --: the subcommand and its arguments, e.g. -- speed suites/ci.toml")->required();
  thresholds(g->ab);

  g->calibrate = app.add_subcommand("calibrate", "A/A: run one build K times and report the false-alarm rate of the thresholds");
  g->calibrate->add_option("--bin", g->bin_a, "adambench binary")->required();
  g->calibrate->add_option("--runs", g->rounds, "runs (K >= 2; every pair is compared)")->check(CLI::Range(2, 100));
  g->calibrate->add_option("--out", g->out_dir, "folder for every run and calibration.json")->required();
  g->calibrate->add_option("args", g->args, "after --: the subcommand and its arguments")->required();
  thresholds(g->calibrate);
  return g;
}

namespace {

// Runs `bin args... --out dir`; returns its exit status (126/127 when it cannot start).
int run_child(const std::string& bin, std::vector<std::string> args, const fs::path& out) {
  args.push_back("--out");
  args.push_back(out.string());
  std::vector<char*> argv;
  std::string b = bin;
  argv.push_back(b.data());
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  fmt::print(stderr, "run: {} {}\n", bin, fmt::join(args, " "));
  pid_t pid = ::fork();
  if (pid < 0) throw io_error(fmt::format("cannot start {}: fork failed", bin));
  if (pid == 0) {
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void check_binary(const std::string& b) {
  if (::access(b.c_str(), X_OK) != 0) throw input_error(fmt::format("{}: not an executable file", b));
}

// A child that did not finish with a verdict (0 or 1) is an environment failure: exit 4.
void check_child(int rc, const std::string& bin, const char* what, int index) {
  if (rc != 0 && rc != 1) throw io_error(fmt::format("{} exited {} in {} {}", bin, rc, what, index));
}

// The single result file a run wrote into `dir` (speed.json, agree.json, converge.json).
fs::path result_in(const fs::path& dir) {
  for (const char* n : {"speed.json", "agree.json", "converge.json"})
    if (fs::exists(dir / n)) return dir / n;
  throw io_error(fmt::format("{}: the run wrote no result file", dir.string()));
}

int finish(const gate_report& rep, const std::string& md, const std::string& a, const std::string& b) {
  fmt::print("{}", gate_text(rep));
  if (!md.empty()) write_file_atomic(md, gate_markdown(rep, a, b));
  return gate_exit_code(rep);
}

// Joins whole runs of one build and checks the result like any file read from disk. Speed pools
// the repetitions of every round; agree and converge are deterministic, so the last round stands.
loaded_result joined(const std::vector<loaded_result>& runs, const fs::path& path) {
  auto j = runs[0].kind == "speed" ? merge_repeats(runs) : runs.back().json;
  write_json_atomic(path, j);
  return checked_result(std::move(j), path.string());
}

}  // namespace

namespace {

int run_compare(const gate_cli& g) {
  auto b = load_results(g.baseline);
  auto c = load_results(g.candidate);
  return finish(compare_results(b, c, g.opt), g.markdown, g.baseline, g.candidate);
}

int run_merge(const gate_cli& g) {
  std::vector<loaded_result> parts;
  for (auto& p : g.merge_inputs)
    for (auto& r : load_results(p)) parts.push_back(std::move(r));
  write_json_atomic(g.merge_out, checked_result(merge_results(parts), g.merge_out).json);
  fmt::print("merged {} results into {}\n", parts.size(), g.merge_out);
  return 0;
}

int run_ab(const gate_cli& g) {
  check_binary(g.bin_a);
  check_binary(g.bin_b);
  std::vector<loaded_result> a, b;
  for (int r = 0; r < g.rounds; ++r) {
    // Alternate the order so slow drift of the machine hits both sides alike.
    for (int k = 0; k < 2; ++k) {
      const bool side_a = (r % 2 == 0) == (k == 0);
      fs::path dir = fs::path(g.out_dir) / (side_a ? "a" : "b") / fmt::format("round-{}", r + 1);
      check_child(run_child(side_a ? g.bin_a : g.bin_b, g.args, dir), side_a ? g.bin_a : g.bin_b, "round", r + 1);
      (side_a ? a : b).push_back(load_result(result_in(dir)));
    }
  }
  std::vector<loaded_result> ma{joined(a, fs::path(g.out_dir) / "a.json")}, mb{joined(b, fs::path(g.out_dir) / "b.json")};
  return finish(compare_results(ma, mb, g.opt), g.markdown, g.bin_a, g.bin_b);
}

// Every pair of A/A runs compared: how often identical builds are called different.
nlohmann::json calibration_of(const gate_cli& g, const std::vector<std::vector<loaded_result>>& runs) {
  int comparisons = 0, alarms = 0, inconclusive = 0;
  nlohmann::json pairs = nlohmann::json::array();
  for (std::size_t i = 0; i < runs.size(); ++i)
    for (std::size_t j = i + 1; j < runs.size(); ++j) {
      gate_report rep = compare_results(runs[i], runs[j], g.opt);
      int n = 0;
      for (auto& row : rep.rows)
        if (row.kind == "speed" && row.verdict != "new") ++n;
      comparisons += n;
      alarms += rep.regressions + rep.improvements;
      inconclusive += rep.inconclusive;
      pairs.push_back({{"a", i + 1}, {"b", j + 1}, {"compared", n}, {"regressions", rep.regressions},
                       {"improvements", rep.improvements}, {"inconclusive", rep.inconclusive}});
    }
  const double rate = comparisons ? static_cast<double>(alarms) / comparisons : 0.0;
  return {{"schema_version", result_schema_version}, {"kind", "calibration"},
          {"thresholds", {{"min_effect", g.opt.min_effect}, {"alpha", g.opt.alpha}}},
          {"runs", g.rounds}, {"comparisons", comparisons}, {"false_alarms", alarms},
          {"inconclusive", inconclusive}, {"false_alarm_rate", rate}, {"pairs", pairs}};
}

int run_calibrate(const gate_cli& g) {
  check_binary(g.bin_a);
  std::vector<std::vector<loaded_result>> runs;
  for (int r = 0; r < g.rounds; ++r) {
    fs::path dir = fs::path(g.out_dir) / fmt::format("run-{}", r + 1);
    check_child(run_child(g.bin_a, g.args, dir), g.bin_a, "run", r + 1);
    runs.push_back({load_result(result_in(dir))});
  }
  const auto out = checked_result(calibration_of(g, runs), "calibration.json").json;
  write_json_atomic(fs::path(g.out_dir) / "calibration.json", out);
  fmt::print("A/A calibration: {} runs, {} comparisons, {} false alarms ({:.1f}%), {} inconclusive, thresholds: effect {:.0f}%, alpha {}\n",
             g.rounds, out["comparisons"].get<int>(), out["false_alarms"].get<int>(), 100.0 * out["false_alarm_rate"].get<double>(),
             out["inconclusive"].get<int>(), 100.0 * g.opt.min_effect, g.opt.alpha);
  return 0;
}

}  // namespace

std::optional<int> run_gate_commands(gate_cli& g) {
  if (g.compare->parsed()) return run_compare(g);
  if (g.merge->parsed()) return run_merge(g);
  if (g.ab->parsed()) return run_ab(g);
  if (g.calibrate->parsed()) return run_calibrate(g);
  return std::nullopt;
}

}  // namespace adambench
