#include "cli/gate_cli.h"

#include "adambench/errors.h"
#include "core/results.h"
#include "gate/compare.h"
#include "core/stats.h"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/wait.h>
#include <unistd.h>

namespace adambench {

namespace fs = std::filesystem;

struct gate_cli {
  CLI::App *compare = nullptr, *merge = nullptr, *ab = nullptr, *calibrate = nullptr;
  std::string baseline, candidate, markdown, merge_out, merge_run_id;
  std::vector<std::string> merge_inputs;
  gate_options opt;
  std::string bin_a, bin_b, out_dir, noise_file;
  int rounds = 5, group = 3;
  std::vector<std::string> args;
  std::vector<CLI::Option*> min_effect_opts;  // given: it is counted speed's minimum effect too
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
    g->min_effect_opts.push_back(
        c->add_option("--min-effect", g->opt.min_effect,
                      "speed: floor of the smallest relative change that counts; a benchmark's measured A/A noise raises it (default 0.02); "
                      "count: the smallest relative change of a counted figure (default 0.01)")
            ->check(CLI::Range(0.0, 10.0)));
    c->add_option("--alpha", g->opt.alpha, "speed: significance level of the Welch t-test over whole runs' medians (default 0.05)")
        ->check(CLI::Range(0.0, 1.0));
  };
  auto noise = [&](CLI::App* c) {
    c->add_option("--noise", g->noise_file, "speed: the A/A noise floors of `adambench calibrate` (its baseline.json or calibration.json)");
  };
  g->compare = app.add_subcommand("compare", "compare results with a baseline: exit 0 no regression, 1 regression, 2 bad input or nothing comparable");
  g->compare->add_option("baseline", g->baseline, "result file or folder of them")->required();
  g->compare->add_option("candidate", g->candidate, "result file or folder of them")->required();
  g->compare->add_option("--markdown", g->markdown, "also write a Markdown summary (pull-request comment, CI job summary)");
  g->compare->add_flag("--allow-missing", g->opt.allow_missing, "baseline results missing, newly skipped or errored in the candidate warn instead of fail");
  g->compare->add_flag("--exact", g->opt.exact, "convergence: curves must be bitwise identical to the baseline's (default: the band of docs/convergence.md)");
  thresholds(g->compare);
  noise(g->compare);

  g->merge = app.add_subcommand("merge", "join the pieces of a sharded run (--shard I/N, shards 1..N once each) into one result");
  g->merge->add_option("--out", g->merge_out, "merged result file")->required();
  g->merge->add_option("inputs", g->merge_inputs, "result files or folders, one kind")->required();
  g->merge->add_option("--run-id", g->merge_run_id,
                       "merge only pieces of this run (their ADAMBENCH_RUN_ID); a piece of another run counts as missing");

  g->ab = app.add_subcommand("ab", "A/B: run two builds of the harness on this machine, interleaved, then compare");
  g->ab->add_option("--a", g->bin_a, "baseline adambench binary")->required();
  g->ab->add_option("--b", g->bin_b, "candidate adambench binary")->required();
  g->ab->add_option("--rounds", g->rounds, "interleaved rounds (A B, then B A, ...)")->check(CLI::PositiveNumber);
  g->ab->add_option("--out", g->out_dir, "folder for every run and the merged a.json / b.json")->required();
  g->ab->add_option("--markdown", g->markdown, "also write a Markdown summary");
  g->ab->add_option("args", g->args, "after --: the subcommand and its arguments, e.g. -- speed suites/ci.toml")->required();
  thresholds(g->ab);
  noise(g->ab);

  g->calibrate = app.add_subcommand(
      "calibrate", "A/A: run one build K times; store each benchmark's noise floor with the runs, and report the false-alarm rate");
  g->calibrate->add_option("--bin", g->bin_a, "adambench binary")->required();
  g->calibrate->add_option("--runs", g->rounds, "whole runs (K >= 2 x --group)")->check(CLI::Range(2, 100));
  g->calibrate->add_option("--group", g->group, "runs per side when estimating the false-alarm rate (default 3)")->check(CLI::Range(2, 50));
  g->calibrate->add_option("--out", g->out_dir, "folder for every run, baseline.json and calibration.json")->required();
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
  for (const char* n : {"speed.json", "agree.json", "converge.json", "count.json"})
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

// The options with --noise read: the `adambench_noise` object of a calibration or its baseline.
gate_options options_of(const gate_cli& g) {
  gate_options o = g.opt;
  for (auto* m : g.min_effect_opts)
    if (m->count() > 0) o.count_min_effect = o.min_effect;
  if (g.noise_file.empty()) return o;
  const loaded_result r = load_result(g.noise_file);
  if (!r.json.contains("adambench_noise"))
    throw input_error(fmt::format("--noise {}: no adambench_noise in this {} result (adambench calibrate writes one)", g.noise_file, r.kind));
  o.noise = r.json["adambench_noise"];
  return o;
}

int run_compare(const gate_cli& g) {
  const gate_options o = options_of(g);
  auto b = load_results(g.baseline);
  auto c = load_results(g.candidate);
  return finish(compare_results(b, c, o), g.markdown, g.baseline, g.candidate);
}

int run_merge(const gate_cli& g) {
  std::vector<loaded_result> parts;
  for (auto& p : g.merge_inputs)
    for (auto& r : load_results(p)) parts.push_back(std::move(r));
  const auto run = g.merge->count("--run-id") ? std::optional<std::string>(g.merge_run_id) : std::nullopt;
  nlohmann::json merged = merge_results(parts, run);
  if (selected_nothing(merged)) {
    fmt::print(stderr, "merge: nothing checked: every one of the {} pieces selected no case; nothing written, exit 3\n", parts.size());
    return 3;
  }
  const std::size_t joined = merged["merged_from"].size();
  write_json_atomic(g.merge_out, checked_result(std::move(merged), g.merge_out).json);
  fmt::print("merged {} results into {}\n", joined, g.merge_out);
  return 0;
}

int run_ab(const gate_cli& g) {
  const gate_options o = options_of(g);
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
  return finish(compare_results(ma, mb, o), g.markdown, g.bin_a, g.bin_b);
}

// The false-alarm rate of the gate as used: consecutive groups of `group` runs compared pairwise
// (group a as baseline, b as candidate), each pair with noise floors measured on the runs outside
// both groups (out of sample), or on all runs when fewer than two are left (in sample).
nlohmann::json false_alarms_of(const gate_cli& g, const std::vector<loaded_result>& runs) {
  const int ng = static_cast<int>(runs.size()) / g.group;
  int comparisons = 0, alarms = 0, inconclusive = 0;
  bool in_sample = false;
  nlohmann::json pairs = nlohmann::json::array();
  auto slice = [&](int k) { return std::vector<loaded_result>(runs.begin() + k * g.group, runs.begin() + (k + 1) * g.group); };
  for (int a = 0; a < ng; ++a)
    for (int b = a + 1; b < ng; ++b) {
      std::vector<loaded_result> rest;
      for (int r = 0; r < static_cast<int>(runs.size()); ++r)
        if (r / g.group != a && r / g.group != b) rest.push_back(runs[static_cast<std::size_t>(r)]);
      gate_options o = g.opt;
      in_sample = in_sample || rest.size() < 2;
      o.noise = speed_noise_of(rest.size() >= 2 ? rest : runs);
      const gate_report rep = compare_results(slice(a), slice(b), o);
      int n = 0;
      for (auto& row : rep.rows)
        if (row.kind == "speed" && row.verdict != "new") ++n;
      comparisons += n;
      alarms += rep.regressions + rep.improvements;
      inconclusive += rep.inconclusive;
      pairs.push_back({{"a", a + 1}, {"b", b + 1}, {"compared", n}, {"regressions", rep.regressions},
                       {"improvements", rep.improvements}, {"inconclusive", rep.inconclusive}});
    }
  return {{"group", g.group}, {"comparisons", comparisons}, {"false_alarms", alarms}, {"inconclusive", inconclusive},
          {"false_alarm_rate", comparisons ? static_cast<double>(alarms) / comparisons : 0.0},
          {"noise", in_sample ? "in sample" : "out of sample"}, {"pairs", pairs}};
}

// The noise floors, largest first: the benchmarks a gate can judge least finely.
void print_noise(const nlohmann::json& noise) {
  std::vector<std::pair<double, std::string>> rows;
  for (auto& [k, e] : noise["benchmarks"].items()) rows.emplace_back(e.value("time", 0.0), k);
  std::sort(rows.rbegin(), rows.rend());
  fmt::print("A/A noise floor per benchmark over {} runs ((max - min) / min of the run medians; time, fraction of probe):\n",
             noise["runs"].get<int>());
  for (auto& [t, k] : rows) {
    const auto& e = noise["benchmarks"][k];
    fmt::print("  {:>6.1f}%  {:>8}  {}\n", 100.0 * t,
               e.contains("probe_fraction") ? fmt::format("{:.1f}%", 100.0 * e["probe_fraction"].get<double>()) : "-", k);
  }
}

int run_calibrate(const gate_cli& g) {
  check_binary(g.bin_a);
  if (g.rounds < 2 * g.group)
    throw input_error(fmt::format("calibrate: --runs {} is fewer than two groups of --group {}", g.rounds, g.group));
  std::vector<loaded_result> runs;
  for (int r = 0; r < g.rounds; ++r) {
    fs::path dir = fs::path(g.out_dir) / fmt::format("run-{}", r + 1);
    check_child(run_child(g.bin_a, g.args, dir), g.bin_a, "run", r + 1);
    runs.push_back(load_result(result_in(dir)));
    if (runs.back().kind != "speed")
      throw input_error(fmt::format("calibrate: {} is a {} result: calibrate measures speed (-- speed SUITE ...)", runs.back().path.string(),
                                    runs.back().kind));
  }
  const nlohmann::json noise = speed_noise_of(runs);
  nlohmann::json base = merge_repeats(runs);
  base["adambench_noise"] = noise;
  write_json_atomic(fs::path(g.out_dir) / "baseline.json", checked_result(std::move(base), "baseline.json").json);
  nlohmann::json cal{{"schema_version", result_schema_version}, {"kind", "calibration"},
                     {"thresholds", {{"min_effect", g.opt.min_effect}, {"alpha", g.opt.alpha}}}, {"runs", g.rounds}};
  cal.update(false_alarms_of(g, runs));
  cal["adambench_noise"] = noise;
  const auto out = checked_result(std::move(cal), "calibration.json").json;
  write_json_atomic(fs::path(g.out_dir) / "calibration.json", out);
  print_noise(noise);
  fmt::print("A/A calibration: {} runs in groups of {}, {} comparisons, {} false alarms ({:.1f}%), {} inconclusive "
             "(noise {}; thresholds: effect >= max({:.0f}%, noise), alpha {})\n",
             g.rounds, g.group, out["comparisons"].get<int>(), out["false_alarms"].get<int>(), 100.0 * out["false_alarm_rate"].get<double>(),
             out["inconclusive"].get<int>(), out["noise"].get<std::string>(), 100.0 * g.opt.min_effect, g.opt.alpha);
  fmt::print("wrote {} (the runs with their noise floors: a baseline for compare) and {}\n",
             (fs::path(g.out_dir) / "baseline.json").string(), (fs::path(g.out_dir) / "calibration.json").string());
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
