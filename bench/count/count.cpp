// The counting runner (count/count.h, docs/speed.md "Counted speed"). run_count checks what it
// can before anything runs (the suite, the filter, Valgrind, the build's instruction set), then
// re-runs this program under Callgrind as `count-worker` (run_count_worker below), which counts K
// steps of every selected benchmark between client requests and names each dump after it. The
// parent reads the dumps and writes count.json whole.
#include "count/count.h"

#include "core/results.h"
#include "core/suite.h"
#include "shared/context.h"
#include "count/count_callgrind.h"
#include "count/kernel_build.h"
#include "speed/probe.h"
#include "shared/report_util.h"
#include "speed/speed_bench.h"
#include "speed/speed_grid.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <regex>
#include <sstream>
#include <sys/personality.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <valgrind/callgrind.h>

namespace adambench {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const counting::cache_model model{};

// ---- what is counted ----------------------------------------------------------------------------

/// The speed grid at one thread, and the benchmarks of it the filter selects.
struct count_plan {
  speed_grid grid;
  std::vector<int> chosen;                                  ///< indices into grid.specs, in order
  std::vector<std::pair<std::string, std::string>> skipped;  ///< name, why (implementation cannot run it)
};

count_plan plan_of(speed_suite suite, const registry& reg, const count_options& opt) {
  suite.threads = "all";  // counting runs at one thread whatever the suite sweeps (threads are the timed gate's)
  speed_options so;
  so.impls = opt.impls;
  so.threads = 1;
  so.shard = opt.shard;
  count_plan p;
  p.grid = build_speed_grid(suite, reg, so);
  std::optional<std::regex> re;
  if (!opt.filter.empty()) re.emplace(opt.filter, std::regex::ECMAScript);
  auto wanted = [&](const std::string& name) { return !re || std::regex_search(name, *re); };
  for (std::size_t i = 0; i < p.grid.specs.size(); ++i)
    if (wanted(p.grid.specs[i].name)) p.chosen.push_back(static_cast<int>(i));
  for (const auto& s : p.grid.skipped) {
    const auto colon = s.find(": ");
    const std::string name = s.substr(0, colon);
    if (wanted(name)) p.skipped.emplace_back(name, colon == std::string::npos ? "" : s.substr(colon + 2));
  }
  return p;
}

// ---- the worker, under Callgrind ------------------------------------------------------------------

/// One benchmark's buffers and stepper: the optimizer or the probe, bound and warmed up.
struct stepper {
  std::unique_ptr<optimizer> opt;
  std::unique_ptr<bandwidth_probe> probe;
  void step() {
    if (probe) probe->step(bandwidth_probe::variant::loop);
    else opt->step();
  }
};

stepper make_stepper(const bench_spec& b, std::vector<tensor_view>& pv, std::vector<tensor_view>& gv) {
  stepper s;
  if (!b.impl) {
    s.probe = std::make_unique<bandwidth_probe>(pv, gv, b.cfg.amsgrad, 1);
  } else {
    s.opt = b.impl->make(b.cfg, impl_options{1}, dtype::float32);
    s.opt->bind(pv, gv);
  }
  return s;
}

/// Counts exactly `steps` steps: instrumentation on (one uncounted step warms the simulated caches,
/// which start empty), collection on around the steps, one dump named after the benchmark.
void count_steps(stepper& s, const std::string& name, int steps) {
  CALLGRIND_START_INSTRUMENTATION;
  s.step();
  CALLGRIND_ZERO_STATS;
  CALLGRIND_TOGGLE_COLLECT;
  for (int k = 0; k < steps; ++k) s.step();
  CALLGRIND_TOGGLE_COLLECT;
  CALLGRIND_DUMP_STATS_AT(name.c_str());
  CALLGRIND_STOP_INSTRUMENTATION;
}

// ---- the parent: Valgrind, the worker process, the result -------------------------------------

std::string find_valgrind() {
  if (const char* e = std::getenv("ADAMBENCH_VALGRIND"); e && *e) {
    if (::access(e, X_OK) != 0) throw io_error(fmt::format("count: ADAMBENCH_VALGRIND={} is not an executable file", e));
    return e;
  }
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string d; std::getline(dirs, d, ':');) {
    const std::string f = (d.empty() ? "." : d) + "/valgrind";
    if (::access(f.c_str(), X_OK) == 0) return f;
  }
  throw io_error("count: valgrind not found on PATH: counting needs Valgrind (scripts/setup.sh installs it; Debian: apt-get install valgrind)");
}

/// Starts argv[0] with argv (address randomisation off for the child: the simulated caches then see
/// the same addresses every run) and `env` as its whole environment (this process's when empty).
/// stdout goes to `out_fd` when >= 0. Returns the pid.
pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& env = {}, int out_fd = -1, const char* cwd = nullptr) {
  std::vector<std::string> copy = args, env_copy = env;
  std::vector<char*> argv, envp;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_copy) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw io_error(fmt::format("count: cannot start {}: fork failed", args[0]));
  if (pid == 0) {
    ::personality(ADDR_NO_RANDOMIZE);
    if (out_fd >= 0) ::dup2(out_fd, 1);
    if (cwd && ::chdir(cwd) != 0) ::_exit(127);
    if (env.empty()) ::execv(argv[0], argv.data());
    else ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

/// The counted process's whole environment: fixed, so the stack Valgrind builds for it (and the
/// heap after it) starts at the same addresses on every machine and checkout. Only what changes
/// what runs passes: the library path, OpenMP's settings and the test-only plant.
std::vector<std::string> worker_env() {
  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C"};
  for (const char* k : {"LD_LIBRARY_PATH", "OMP_NUM_THREADS", "OMP_PROC_BIND", "ADAMBENCH_PLANT"})
    if (const char* v = std::getenv(k); v && *v) env.push_back(fmt::format("{}={}", k, v));
  return env;
}

/// Waits for the child; a SIGINT or SIGTERM this process receives is passed on to it once.
/// With `relay_fd` >= 0 (the read end of the child's stdout pipe), what the child prints is read as
/// it comes and copied to this process's stdout when `show` (else dropped).
int wait_child(pid_t pid, int relay_fd = -1, bool show = false) {
  bool forwarded = false;
  auto relay = [&] {
    char buf[4096];
    for (ssize_t n; relay_fd >= 0 && (n = ::read(relay_fd, buf, sizeof buf)) > 0;)
      if (show) {
        std::fwrite(buf, 1, static_cast<std::size_t>(n), stdout);
        std::fflush(stdout);
      }
  };
  for (;;) {
    int st = 0;
    relay();
    const pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid) {
      relay();
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    if (r < 0 && errno != EINTR) throw io_error("count: lost the counting process (waitpid failed)");
    if (interrupted.load() && !forwarded) {
      ::kill(pid, SIGINT);
      forwarded = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string valgrind_version(const std::string& valgrind) {
  int fd[2];
  if (::pipe(fd) != 0) throw io_error("count: pipe failed");
  const pid_t pid = spawn({valgrind, "--version"}, {}, fd[1]);
  ::close(fd[1]);
  std::string text;
  char buf[256];
  for (ssize_t n; (n = ::read(fd[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  ::close(fd[0]);
  const int rc = wait_child(pid);
  text = text.substr(0, text.find('\n'));
  if (rc != 0 || text.rfind("valgrind-", 0) != 0) throw io_error(fmt::format("count: {} --version failed (exit {}): not a working Valgrind", valgrind, rc));
  return text;
}

std::string self_exe() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw io_error(fmt::format("count: cannot find this program's file (/proc/self/exe): {}", ec.message()));
  return p.string();
}

/// Valgrind's options: Callgrind, collection and instrumentation off until the worker asks, the
/// fixed cache model, write-backs simulated, one output file with every dump.
std::vector<std::string> callgrind_options(const fs::path& out_file, const fs::path& log) {
  return {"--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no", "--cache-sim=yes", "--simulate-wb=yes",
          counting::valgrind_option("I1", model.i1), counting::valgrind_option("D1", model.d1), counting::valgrind_option("LL", model.ll),
          "--combine-dumps=yes", "--compress-strings=no", "--compress-pos=no", "--dump-line=no",
          "--callgrind-out-file=" + out_file.string(), "--log-file=" + log.string()};
}

/// What the worker is to count, in a file: its command line is then the same length on every run.
/// Whether a model entry is a file path (not a shipped model's name): load_model's rule.
bool names_a_model_file(const std::string& m) { return m.find('/') != std::string::npos || !fs::path(m).extension().empty(); }

/// The worker's request: the suite's text, not its path, and the options. The worker runs in "/", and
/// what it holds must not depend on where the suite, the checkout or the caller's folder is (a run
/// from another folder moved LibTorch's counts by up to 4%). Only a suite that names model files by
/// path brings the caller's folder and the suite's path along, to find them as `speed` does.
json request_of(const count_options& opt) {
  std::string source;
  const std::string text = load_suite_text(opt.suite_arg, source);
  json r = {{"suite_text", text}, {"impls", opt.impls}, {"filter", opt.filter}, {"steps", opt.steps},
            {"warmup", opt.warmup}, {"shard", {opt.shard.first, opt.shard.second}}};
  const speed_suite suite = parse_speed_suite(text, source);
  if (std::any_of(suite.models.begin(), suite.models.end(), names_a_model_file)) {
    r["cwd"] = fs::current_path().string();
    r["suite_source"] = source;
  }
  return r;
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// The last line of Valgrind's log that says what went wrong, for a one-line error.
std::string log_reason(const fs::path& log) {
  std::istringstream in(read_text(log));
  std::string last;
  for (std::string l; std::getline(in, l);)
    if (l.find("Unrecognised instruction") != std::string::npos || l.find("Process terminating") != std::string::npos ||
        l.find("valgrind:") != std::string::npos)
      last = l;
  return last;
}

json cache_json(const counting::cache_level& c) { return {{"size", c.size}, {"assoc", c.assoc}, {"line", c.line}}; }

json instrument_json(const std::string& version, const count_options& opt, const std::vector<std::string>& options) {
  json o = json::array();
  for (auto& s : options)
    if (s.rfind("--callgrind-out-file", 0) != 0 && s.rfind("--log-file", 0) != 0) o.push_back(s);
  return {{"tool", "callgrind"},
          {"valgrind", version},
          {"options", o},
          {"cache", {{"I1", cache_json(model.i1)}, {"D1", cache_json(model.d1)}, {"LL", cache_json(model.ll)}}},
          {"steps", opt.steps},
          {"warmup_steps", opt.warmup},
          {"threads", 1},
          {"address_randomization", "off for the counted process (personality ADDR_NO_RANDOMIZE)"},
          {"est_cycles_formula", counting::cycles_formula},
          {"dram_bytes_rule", counting::dram_bytes_rule},
          {"min_bytes_rule", counting::min_bytes_rule}};
}

/// One counted benchmark's row: its case, events over K steps and the figures per step and parameter.
json counted_row(const bench_spec& b, const shape_list& sh, const counting::dump& d, int steps) {
  const counting::step_figures f = counting::figures_of(d.events, steps, model.ll.line);
  const double n = static_cast<double>(sh.numel);
  const std::int64_t min_bpp = adam_bytes_per_param(b.cfg.amsgrad);
  const std::int64_t working_set = sh.numel * (min_bpp == 36 ? 20 : 16);  // p, g, m, v (and max_v), 4 B each
  json ev = json::object();
  for (auto* e : counting::event_names) ev[e] = d.events.count(e) ? d.events.at(e) : 0;
  const double bpp = n > 0 ? f.dram_bytes / n : 0.0;
  json r = {{"verdict", "counted"},
            {"events", ev},
            {"per_step",
             {{"instructions", f.instructions}, {"data_reads", f.data_reads}, {"data_writes", f.data_writes}, {"d1_misses", f.d1_misses},
              {"ll_misses", f.ll_misses}, {"ll_writebacks", f.ll_writebacks}, {"dram_bytes", f.dram_bytes}, {"est_cycles", f.est_cycles}}},
            {"per_param",
             {{"instructions", n > 0 ? f.instructions / n : 0.0}, {"dram_bytes", bpp}, {"est_cycles", n > 0 ? f.est_cycles / n : 0.0}}},
            {"min_bytes_per_param", min_bpp},
            {"working_set_bytes", working_set},
            {"fits_in_ll", working_set <= model.ll.size}};
  // Above twice the simulated LL every step must move the minimum; less is a measurement bug.
  r["below_minimum"] = working_set > 2 * model.ll.size && bpp < 0.99 * static_cast<double>(min_bpp);
  return r;
}

json row_head(const bench_spec* b, const std::string& name, const speed_grid& g) {
  json r = {{"name", name}, {"impl", name.substr(0, name.find('/'))}};
  if (!b) return r;
  const shape_list& sh = g.shapes[b->shape];
  r["impl"] = b->impl_name();
  if (b->impl) r["algo"] = to_string(b->cfg.kind);
  r["amsgrad"] = b->cfg.amsgrad;
  r["shape"] = sh.name;
  r["params"] = sh.numel;
  r["tensors"] = sh.shapes.size();
  return r;
}

const bench_spec* spec_named(const speed_grid& g, const std::string& name) {
  for (auto& s : g.specs)
    if (s.name == name) return &s;
  return nullptr;
}

/// count.json from the worker's manifest and Callgrind's dumps.
json assemble(const speed_suite& suite, const count_plan& plan, const count_options& opt, const json& manifest,
              const std::vector<counting::dump>& dumps, const json& instrument) {
  std::map<std::string, const counting::dump*> by_name;
  for (auto& d : dumps) by_name[d.name] = &d;
  const std::string stopped = manifest.value("stopped_before", "");
  json doc = report_util::result_base("count", suite.source, 1, opt.shard, manifest.value("interrupted", false) ? (stopped.empty() ? "?" : stopped) : "",
                                      "stopped_before");
  doc["build"] = {{"compiler", build_info().value("compiler", "unknown")}, {"kernel_flags", kernel_flags()}, {"isa", kernel_isa()}};
  doc["counting"] = instrument;
  if (const char* e = std::getenv("ADAMBENCH_PLANT"); e && *e) doc["planted"] = e;  // the test-only mutants binary's plant
  json rows = json::array();
  int counted = 0, errors = 0;
  for (const auto& m : manifest["rows"]) {
    const std::string name = m["name"];
    const bench_spec* b = spec_named(plan.grid, name);
    json r = row_head(b, name, plan.grid);
    auto d = by_name.find(name);
    if (m["status"] == "counted" && b && d != by_name.end()) {
      r.update(counted_row(*b, plan.grid.shapes[b->shape], *d->second, opt.steps));
      ++counted;
    } else {
      r["verdict"] = "error";
      r["reason"] = m["status"] == "counted" ? "no Callgrind dump for this benchmark" : m.value("reason", "failed");
      ++errors;
    }
    rows.push_back(r);
  }
  for (auto& [name, why] : plan.skipped) {
    json r = row_head(nullptr, name, plan.grid);
    r["verdict"] = "skip";
    r["reason"] = why;
    rows.push_back(r);
  }
  doc["summary"] = {{"counted", counted}, {"errors", errors}, {"skipped", plan.skipped.size()}};
  doc["results"] = rows;
  return doc;
}

void print_table(const json& doc) {
  fmt::print("{:<44} {:>12} {:>14} {:>12} {:>16}\n", "benchmark (1 thread)", "instr/param", "DRAM B/param", "min B/param", "est. cycles/step");
  for (const auto& r : doc["results"]) {
    if (r["verdict"] != "counted") {
      fmt::print("{:<44} {}: {}\n", r["name"].get<std::string>(), r["verdict"].get<std::string>(), r.value("reason", ""));
      continue;
    }
    const std::string note = r["below_minimum"].get<bool>() ? "  BELOW THE MINIMUM (measurement problem)"
                             : r["fits_in_ll"].get<bool>()   ? "  (fits in the simulated LL)"
                                                             : "";
    fmt::print("{:<44} {:>12.3f} {:>14.3f} {:>12} {:>16.4g}{}\n", r["name"].get<std::string>(), r["per_param"]["instructions"].get<double>(),
               r["per_param"]["dram_bytes"].get<double>(), r["min_bytes_per_param"].get<int>(), r["per_step"]["est_cycles"].get<double>(), note);
  }
}

/// The folder for Callgrind's output, Valgrind's log, the worker's request and manifest, and the
/// link the worker is started through. Its name has the same length on every run (the paths the
/// worker sees land on its stack: other lengths would move its buffers across cache sets).
struct scratch {
  fs::path dir;
  bool keep = false;
  scratch() {
    std::string t = "/tmp/adambench-count.XXXXXX";
    if (!::mkdtemp(t.data())) throw io_error(fmt::format("count: cannot create a working folder in /tmp: {}", std::strerror(errno)));
    dir = t;
  }
  ~scratch() {
    std::error_code ec;
    if (!keep) fs::remove_all(dir, ec);
  }
};

/// Runs the worker under Valgrind; returns its exit status. A status other than 0 and 130 is an
/// environment failure: Valgrind's log is kept next to count.json and named.
int run_worker(const std::string& valgrind, const count_options& opt, scratch& work, const fs::path& cg_out) {
  const fs::path log = work.dir / "valgrind.log", exe = work.dir / "exe", request = work.dir / "request.json";
  std::error_code ec;
  fs::create_symlink(self_exe(), exe, ec);
  if (ec) throw io_error(fmt::format("count: cannot link {}: {}", exe.string(), ec.message()));
  write_json_atomic(request, request_of(opt));
  std::vector<std::string> args = {valgrind};
  for (auto& o : callgrind_options(cg_out, log)) args.push_back(o);
  for (auto& a : {exe.string(), std::string("count-worker"), request.string()}) args.push_back(a);
  // The worker runs in "/" (the working folder moved LibTorch's flat 2^20 counts by up to 4%), and
  // its stdout is always a pipe, relayed here unless --quiet: a file behind it instead of a pipe or
  // /dev/null moved 2-4 D1 misses on the fixture suite. It always prints its progress.
  int fd[2];
  if (::pipe2(fd, O_CLOEXEC) != 0) throw io_error("count: pipe failed");
  ::fcntl(fd[0], F_SETFL, O_NONBLOCK);
  pid_t pid = -1;
  try {
    pid = spawn(args, worker_env(), fd[1], "/");
  } catch (...) {
    ::close(fd[0]), ::close(fd[1]);
    throw;
  }
  ::close(fd[1]);
  int rc = 0;
  try {
    rc = wait_child(pid, fd[0], !opt.quiet);
  } catch (...) {
    ::close(fd[0]);
    throw;
  }
  ::close(fd[0]);
  if (rc == 0 || rc == 130) return rc;
  fs::path kept = log;
  if (opt.out) {
    std::error_code ec;
    kept = *opt.out / "count-valgrind.log";
    fs::copy_file(log, kept, fs::copy_options::overwrite_existing, ec);
    if (ec) kept = log, work.keep = true;
  } else {
    work.keep = true;
  }
  const std::string why = log_reason(log);
  if (rc == 128 + SIGILL)
    throw io_error(fmt::format("count: Valgrind met an instruction it cannot decode (SIGILL; {}): use the counting build: "
                               "ADAMBENCH_COUNT=1 scripts/setup.sh",
                               kept.string()));
  throw io_error(fmt::format("count: the counting process failed (exit {}){}; Valgrind's log: {}", rc, why.empty() ? "" : ": " + why, kept.string()));
}

}  // namespace

int run_count(const speed_suite& suite, const registry& reg, const count_options& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  const count_plan plan = plan_of(suite, reg, opt);
  if (plan.chosen.empty() && plan.skipped.empty())
    throw input_error(opt.filter.empty() ? "count: the suite selects no benchmark"
                                         : fmt::format("count: --filter '{}' matches no benchmark", opt.filter));
  if (plan.chosen.empty()) {
    std::vector<std::string> why;
    for (auto& s : plan.skipped) why.push_back(s.second);
    return nothing_checked("count", why, opt.allow_empty);
  }
  // Valgrind 3.19 decodes no AVX-512 (EVEX): such a build would die on SIGILL mid-run.
  if (kernel_uses_avx512())
    throw io_error(fmt::format("count: this build's CPU kernels use AVX-512 ({}), which Valgrind cannot run: use the counting build: "
                               "ADAMBENCH_COUNT=1 scripts/setup.sh, then build-count/adambench count",
                               kernel_flags()));
  const std::string valgrind = find_valgrind();
  const std::string version = valgrind_version(valgrind);
  if (opt.out) {  // checked before minutes of counting: the result is written there at the end
    std::error_code ec;
    fs::create_directories(*opt.out, ec);
    if (ec) throw io_error(fmt::format("--out {}: cannot create the folder: {}", opt.out->string(), ec.message()));
    if (::access(opt.out->c_str(), W_OK) != 0) throw io_error(fmt::format("--out {}: folder is not writable", opt.out->string()));
  }
  scratch work;
  const fs::path cg_out = work.dir / "callgrind.out";
  const int rc = run_worker(valgrind, opt, work, cg_out);
  const fs::path manifest_file = work.dir / "manifest.json";
  if (!fs::exists(manifest_file)) throw io_error(fmt::format("count: the counting process exited {} without saying what it counted", rc));
  const json manifest = json::parse(read_text(manifest_file));
  const std::vector<counting::dump> dumps = fs::exists(cg_out) ? counting::parse_callgrind(read_text(cg_out), cg_out.string())
                                                               : std::vector<counting::dump>{};
  json doc = assemble(suite, plan, opt, manifest, dumps, instrument_json(version, opt, callgrind_options(cg_out, "")));
  doc["summary"]["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!opt.quiet) print_table(doc);
  if (opt.out) {
    write_json_atomic(*opt.out / "count.json", doc);
    fmt::print("wrote {}\n", (*opt.out / "count.json").string());
  }
  if (doc["interrupted"].get<bool>()) {
    fmt::print(stderr, "count: interrupted before {}; the benchmarks counted before it are kept\n", doc.value("stopped_before", "?"));
    return 130;
  }
  return doc["summary"]["errors"].get<int>() > 0 ? 4 : 0;
}

count_options read_request(const fs::path& request) {
  const json r = json::parse(read_text(request));
  count_options o;
  o.suite_arg = r.at("suite_text");  // the text itself (request_of)
  o.impls = r.at("impls").get<std::vector<std::string>>();
  o.filter = r.at("filter");
  o.steps = r.at("steps");
  o.warmup = r.at("warmup");
  o.shard = {r.at("shard")[0], r.at("shard")[1]};
  return o;
}

int run_count_worker(const registry& reg, const fs::path& request) {
  if (!RUNNING_ON_VALGRIND) throw io_error("count-worker: not under Valgrind (run `adambench count`, which starts it)");
  // stdout (a pipe to `count`, run_worker) line-buffered, so the progress lines arrive as they are
  // printed, and in static storage, so no buffer of the pipe's size sits in the counted heap.
  static char stdout_buffer[4096];
  std::setvbuf(stdout, stdout_buffer, _IOLBF, sizeof stdout_buffer);
  const count_options opt = read_request(request);
  const json req = json::parse(read_text(request));
  // Model files are found from the caller's folder and the suite's, as `speed` finds them; then back
  // to "/" before anything is counted.
  if (req.contains("cwd") && ::chdir(req["cwd"].get<std::string>().c_str()) != 0)
    throw io_error(fmt::format("count-worker: cannot enter {}", req["cwd"].get<std::string>()));
  const speed_suite suite = parse_speed_suite(opt.suite_arg, req.value("suite_source", std::string("the suite")));
  const count_plan plan = plan_of(suite, reg, opt);
  if (req.contains("cwd") && ::chdir("/") != 0) throw io_error("count-worker: cannot enter /");
  const fs::path manifest = request.parent_path() / "manifest.json";
  json rows = json::array();
  std::string stopped;
  std::vector<host_tensor> p, g;
  std::vector<tensor_view> pv, gv;
  int shape = -1, done = 0;
  for (int i : plan.chosen) {
    const bench_spec& b = plan.grid.specs[static_cast<std::size_t>(i)];
    if (interrupted.load()) {
      stopped = b.name;
      break;
    }
    fmt::print("count: [{}/{}] {}\n", ++done, plan.chosen.size(), b.name);
    std::fflush(stdout);
    try {
      if (shape != b.shape) make_step_buffers(plan.grid.shapes[b.shape], p, g, pv, gv), shape = b.shape;
      stepper s = make_stepper(b, pv, gv);
      for (int w = 1; w < opt.warmup; ++w) s.step();  // the last warm-up step runs instrumented
      count_steps(s, b.name, opt.steps);
      rows.push_back({{"name", b.name}, {"status", "counted"}});
    } catch (const std::exception& e) {
      rows.push_back({{"name", b.name}, {"status", "error"}, {"reason", e.what()}});
    }
  }
  json m = {{"rows", rows}, {"interrupted", !stopped.empty()}};
  if (!stopped.empty()) m["stopped_before"] = stopped;
  write_json_atomic(manifest, m);
  return stopped.empty() ? 0 : 130;
}

}  // namespace adambench
