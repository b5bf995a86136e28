#include "cli/gate_common.h"

#include "adambench/errors.h"
#include "core/results.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/wait.h>
#include <unistd.h>

namespace adambench {

namespace fs = std::filesystem;

void gate_thresholds::add(CLI::App& c) {
  min_effect = c.add_option("--min-effect", opt.min_effect,
                            "speed: floor of the smallest relative change that counts; a benchmark's measured A/A noise raises it (default 0.02); "
                            "count: the smallest relative change of a counted figure (default 0.01)")
                   ->check(CLI::Range(0.0, 10.0));
  c.add_option("--alpha", opt.alpha, "speed: significance level of the Welch t-test over whole runs' medians (default 0.05)")
      ->check(CLI::Range(0.0, 1.0));
}

void gate_thresholds::add_noise(CLI::App& c) {
  c.add_option("--noise", noise_file, "speed: the A/A noise floors of `adambench calibrate` (its baseline.json or calibration.json)");
}

gate_options gate_thresholds::options() const {
  gate_options o = opt;
  if (min_effect && min_effect->count() > 0) o.count_min_effect = o.min_effect;
  if (noise_file.empty()) return o;
  const loaded_result r = load_result(noise_file);
  if (!r.json.contains("adambench_noise"))
    throw input_error(fmt::format("--noise {}: no adambench_noise in this {} result (adambench calibrate writes one)", noise_file, r.kind));
  o.noise = r.json["adambench_noise"];
  return o;
}

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

void check_child(int rc, const std::string& bin, const char* what, int index) {
  if (rc != 0 && rc != 1) throw io_error(fmt::format("{} exited {} in {} {}", bin, rc, what, index));
}

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

}  // namespace adambench
