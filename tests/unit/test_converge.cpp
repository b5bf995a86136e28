// The convergence runner's pieces: suite parsing, workloads' gradients, bootstrap, and small
// end-to-end runs through run_converge (determinism, divergence, drift, skips).
#include "core/suite.h"
#include "converge/converge.h"
#include "workloads/mnist_idx.h"
#include "adambench/workload.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <thread>
#ifdef __GLIBC__
#include <malloc.h>
#endif

using namespace adambench;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("adambench_test_converge_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream f(p);
  return nlohmann::json::parse(f);
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Loss and gradient at the current parameters, then central finite differences in float64 of
// the loss through the float32 parameters (step large enough for float32 resolution).
void check_gradient(workload& w, double rel_tol) {
  std::vector<std::int64_t> batch(std::min<std::int64_t>(w.train_size(), 64));
  std::iota(batch.begin(), batch.end(), 0);
  w.compute_grad(batch, 1);
  std::vector<std::vector<float>> g;
  for (auto& v : w.grads()) g.emplace_back(static_cast<float*>(v.data), static_cast<float*>(v.data) + v.numel());
  auto params = w.params();
  int checked = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    float* p = static_cast<float*>(params[i].data);
    for (std::int64_t k = 0; k < params[i].numel(); k += std::max<std::int64_t>(1, params[i].numel() / 7)) {
      const float x0 = p[k];
      const float h = 1e-2f * std::max(1.0f, std::abs(x0));
      p[k] = x0 + h;
      const double fp = w.compute_grad(batch, 1);
      p[k] = x0 - h;
      const double fm = w.compute_grad(batch, 1);
      p[k] = x0;
      const double fd = (fp - fm) / (static_cast<double>(x0 + h) - static_cast<double>(x0 - h));
      INFO("tensor " << i << " element " << k << " analytic " << g[i][k] << " numeric " << fd);
      CHECK(std::abs(fd - g[i][k]) <= rel_tol * std::max(1.0, std::abs(fd)));
      ++checked;
    }
  }
  CHECK(checked > 0);
}

workload_spec spec(const std::string& name, std::map<std::string, double> num = {}) {
  workload_spec s;
  s.name = name;
  s.num = std::move(num);
  s.data_dir = default_fashion_mnist_dir;
  return s;
}

}  // namespace

TEST_CASE("converge: analytic workloads: gradients match finite differences", "[converge][workloads]") {
  auto& reg = default_workloads();
  SECTION("quadratic") {
    auto w = reg.at("quadratic").make(spec("quadratic", {{"dim", 8}, {"condition", 10}, {"noise", 0}}), 3, 1);
    check_gradient(*w, 1e-3);
  }
  SECTION("rosenbrock") {
    auto w = reg.at("rosenbrock").make(spec("rosenbrock", {{"dim", 6}}), 3, 1);
    check_gradient(*w, 1e-2);  // quartic: the finite difference's own error is O(h^2 * f''')
  }
  SECTION("logreg") {
    auto w = reg.at("logreg").make(spec("logreg", {{"dim", 5}, {"classes", 3}, {"train", 200}, {"val", 50}}), 3, 1);
    check_gradient(*w, 1e-3);
  }
}

TEST_CASE("converge: quadratic: optimum 0 and noise that shrinks with batch size", "[converge][workloads]") {
  auto s = spec("quadratic", {{"dim", 20}, {"condition", 100}, {"noise", 1.0}});
  auto w = default_workloads().at("quadratic").make(s, 0, 1);
  auto spread = [&](std::size_t batch) {  // RMS of the gradient noise over many steps
    auto clean = default_workloads().at("quadratic").make(spec("quadratic", {{"dim", 20}, {"condition", 100}, {"noise", 0}}), 0, 1);
    std::vector<std::int64_t> b(batch, 0);
    clean->compute_grad(b, 1);
    const float* g0 = static_cast<float*>(clean->grads()[0].data);
    double ss = 0;
    int n = 0;
    for (int t = 1; t <= 50; ++t) {
      w->compute_grad(b, t);
      const float* g = static_cast<float*>(w->grads()[0].data);
      for (int i = 0; i < 20; ++i, ++n) ss += (g[i] - g0[i]) * (g[i] - g0[i]);
    }
    return std::sqrt(ss / n);
  };
  const double s16 = spread(16), s256 = spread(256);
  CHECK(s16 == Approx(0.25).epsilon(0.15));   // 1 / sqrt(16)
  CHECK(s256 == Approx(0.0625).epsilon(0.15));  // 1 / sqrt(256)
  // Same seed, same start; another seed, another start.
  auto a = default_workloads().at("quadratic").make(s, 5, 1), b = default_workloads().at("quadratic").make(s, 5, 1),
       c = default_workloads().at("quadratic").make(s, 6, 1);
  CHECK(std::memcmp(a->params()[0].data, b->params()[0].data, 20 * sizeof(float)) == 0);
  CHECK(std::memcmp(a->params()[0].data, c->params()[0].data, 20 * sizeof(float)) != 0);
  CHECK(a->evaluate().loss > 0);
}

TEST_CASE("converge: rosenbrock: zero loss and gradient at the optimum", "[converge][workloads]") {
  auto w = default_workloads().at("rosenbrock").make(spec("rosenbrock", {{"dim", 5}}), 0, 1);
  float* p = static_cast<float*>(w->params()[0].data);
  std::fill(p, p + 5, 1.0f);
  std::vector<std::int64_t> b{0};
  CHECK(w->compute_grad(b, 1) == 0.0);
  const float* g = static_cast<float*>(w->grads()[0].data);
  for (int i = 0; i < 5; ++i) CHECK(g[i] == 0.0f);
}

TEST_CASE("converge: workload options are checked", "[converge][workloads]") {
  auto& reg = default_workloads();
  CHECK_THROWS_WITH(reg.at("quadratic").check(spec("quadratic", {{"dimm", 3}})), Catch::Contains("unknown option dimm"));
  CHECK_THROWS_WITH(reg.at("nope"), Catch::Contains("unknown workload 'nope'"));
  auto s = spec("mlp");
  s.data_dir = "/nonexistent/fmnist";
  CHECK_THROWS_WITH(reg.at("mlp").check(s), Catch::Contains("/nonexistent/fmnist") && Catch::Contains("no such directory"));
  auto t = spec("char_lm");
  t.text_file = "/nonexistent/corpus.txt";
  CHECK_THROWS_WITH(reg.at("char_lm").check(t), Catch::Contains("/nonexistent/corpus.txt"));
}

TEST_CASE("converge: Fashion-MNIST: IDX files read and the MLP starts from the seed's weights", "[converge][workloads][fmnist]") {
  auto d = load_mnist(default_fashion_mnist_dir);
  CHECK(d->train.n == 60000);
  CHECK(d->test.n == 10000);
  CHECK(d->train.rows == 28);
  CHECK(d->train.labels[0] == 9);  // the first training image is an ankle boot
  auto s = spec("mlp", {{"val", 500}});
  auto a = default_workloads().at("mlp").make(s, 1, 1), b = default_workloads().at("mlp").make(s, 1, 1);
  REQUIRE(a->params().size() == 4);  // fc1.weight, fc1.bias, fc2.weight, fc2.bias
  CHECK(a->params()[0].numel() == 256 * 784);
  for (std::size_t i = 0; i < 4; ++i)
    CHECK(std::memcmp(a->params()[i].data, b->params()[i].data, a->params()[i].numel() * sizeof(float)) == 0);
  const eval_point e = a->evaluate();
  CHECK(e.loss == Approx(std::log(10.0)).margin(0.3));  // untrained: near uniform over 10 classes
  CHECK(e.acc < 0.3);
  std::vector<std::int64_t> batch(32);
  std::iota(batch.begin(), batch.end(), 0);
  a->compute_grad(batch, 1);
  double n2 = 0;
  for (auto& g : a->grads())
    for (std::int64_t k = 0; k < g.numel(); ++k) n2 += static_cast<float*>(g.data)[k] * static_cast<float*>(g.data)[k];
  CHECK(n2 > 0);
}

TEST_CASE("converge: bootstrap median interval is deterministic", "[converge]") {
  const std::vector<double> x{3.0, 1.0, 2.0, 10.0, 2.5};
  auto a = bootstrap_median(x), b = bootstrap_median(x);
  CHECK(a.median == 2.5);
  CHECK(a.lo == b.lo);
  CHECK(a.hi == b.hi);
  CHECK(a.lo <= a.median);
  CHECK(a.hi >= a.median);
  CHECK(a.lo >= 1.0);
  CHECK(a.hi <= 10.0);
  auto one = bootstrap_median({4.0});
  CHECK(one.lo == 4.0);
  CHECK(one.hi == 4.0);
  auto never = bootstrap_median({5.0, INFINITY, INFINITY});
  CHECK(std::isinf(never.median));
}

TEST_CASE("converge: lr scaling rules", "[converge]") {
  CHECK(scaled_lr(1e-3, lr_scaling::none, 512, 128) == 1e-3);
  CHECK(scaled_lr(1e-3, lr_scaling::linear, 512, 128) == Approx(4e-3));
  CHECK(scaled_lr(1e-3, lr_scaling::sqrt, 512, 128) == Approx(2e-3));
  CHECK(scaled_lr(1e-3, lr_scaling::linear, 64, 128) == Approx(5e-4));
}

TEST_CASE("converge: suites parse; arrays expand; errors name the file and case", "[converge][suite]") {
  const char* text = R"(
[converge]
impls = ["reference", "eigen"]
seeds = [0, 1]
[[converge.case]]
name = "q"
workload = "quadratic"
options = { dim = 10, noise = 0.5 }
lr = [0.01, 0.1]
schedule = "cosine"
batch_sizes = [16, 64]
steps = 50
target = 0.1
)";
  auto s = parse_converge_suite(text, "t.toml");
  REQUIRE(s.cases.size() == 2);
  CHECK(s.cases[0].name == "q/lr=0.01");
  CHECK(s.cases[1].config.lr == 0.1);
  CHECK(s.cases[0].batch_sizes == std::vector<std::int64_t>{16, 64});
  CHECK(s.cases[0].workload.num.at("dim") == 10);
  CHECK(s.cases[0].schedule.kind == schedule_kind::cosine);
  CHECK(s.cases[0].t_max_is_run_length);
  CHECK(s.seeds == std::vector<std::uint64_t>{0, 1});
  CHECK_THROWS_WITH(parse_converge_suite("[converge]\n[[converge.case]]\nworkload = \"quadratic\"\nlrr = 1\n", "x.toml"),
                    Catch::Contains("x.toml") && Catch::Contains("lrr: unknown field"));
  CHECK_THROWS_WITH(parse_converge_suite("[converge]\n[[converge.case]]\nname = \"a\"\n", "x.toml"), Catch::Contains("workload: missing"));
  CHECK_THROWS_WITH(parse_converge_suite("[converge]\n[[converge.case]]\nworkload = \"quadratic\"\nschedule = \"exp\"\n", "x.toml"),
                    Catch::Contains("invalid schedule 'exp'"));
  CHECK_THROWS_WITH(parse_converge_suite("[converge]\n[[converge.case]]\nworkload = \"quadratic\"\nbetas = [1.5, 0.9]\n", "x.toml"),
                    Catch::Contains("beta1"));
  CHECK_THROWS_WITH(parse_converge_suite("[agree]\n", "x.toml"), Catch::Contains("no [converge] table"));
}

TEST_CASE("converge: shipped suites have a valid converge part", "[converge][suite]") {
  for (const char* name : {"smoke", "ci", "full"}) {
    INFO(name);
    std::string text = embedded_suite(name);
    REQUIRE(!text.empty());
    auto s = parse_converge_suite(text, name);
    CHECK(!s.cases.empty());
    CHECK_NOTHROW(check_converge_inputs(s, default_registry(), converge_options{}));
  }
  CHECK(parse_converge_suite(embedded_suite("ci"), "ci").seeds.size() == 3);
}

TEST_CASE("converge: run_converge: identical curves for a seed and drift and divergence", "[converge][runner]") {
  const char* text = R"(
[converge]
impls = ["reference", "eigen", "libtorch", "libtorch-fused", "sgd-momentum"]
seeds = [0, 1]
[[converge.case]]
name = "q"
workload = "quadratic"
options = { dim = 20, condition = 50, noise = 0.5 }
lr = 0.05
batch_sizes = [8, 64]
steps = 200
eval_every = 10
target = 0.2
sgd_lr = 0.005
[[converge.case]]
name = "boom"
workload = "rosenbrock"
lr = 10
batch_sizes = [1]
steps = 50
expect = "diverge"
impls = ["eigen"]
)";
  auto suite = parse_converge_suite(text, "t.toml");
  converge_options o;
  o.quiet = true;
  o.threads = 1;
  const fs::path d1 = temp_dir("a"), d2 = temp_dir("b");
  o.out = d1;
  REQUIRE(run_converge(suite, default_registry(), o) == 0);
  o.out = d2;
  REQUIRE(run_converge(suite, default_registry(), o) == 0);
  auto j1 = read_json(d1 / "converge.json"), j2 = read_json(d2 / "converge.json");
  CHECK(j1["kind"] == "converge");
  CHECK(j1["schema_version"].is_number_integer());
  CHECK(j1.contains("context"));
  REQUIRE(j1["runs"].size() == j2["runs"].size());
  int diverged = 0, skipped = 0, drift_checked = 0;
  for (std::size_t i = 0; i < j1["runs"].size(); ++i) {
    auto& r = j1["runs"][i];
    INFO(r.dump());
    if (r["verdict"] == "skip") {
      ++skipped;
      CHECK(!r["reason"].get<std::string>().empty());
      continue;
    }
    CHECK(r["curve_digest"] == j2["runs"][i]["curve_digest"]);  // bitwise-identical curve
    // CSV without wall_s is byte-identical too.
    auto strip = [](const std::string& csv) {
      std::string out, line;
      std::istringstream in(csv);
      while (std::getline(in, line)) out += line.substr(0, line.rfind(',')) + "\n";
      return out;
    };
    const std::string c1 = read_text(d1 / r["curve_csv"].get<std::string>()), c2 = read_text(d2 / r["curve_csv"].get<std::string>());
    CHECK(c1.rfind("step,epoch,lr,train_loss,val_loss,val_acc,wall_s\n", 0) == 0);
    CHECK(strip(c1) == strip(c2));
    if (r["case"] == "boom") {
      ++diverged;
      CHECK(r["verdict"] == "diverged");
      CHECK(r["diverged_at_step"].get<int>() >= 1);
      CHECK(r["diverged_at_step"].get<int>() < 50);
    } else if (r["impl"] == "eigen" || r["impl"] == "libtorch") {
      // Same algorithm in float32: the curve follows the float64 reference closely on a convex problem.
      ++drift_checked;
      CHECK(r["drift_from_reference"]["max_abs_val_loss"].get<double>() < 1e-3);
      CHECK(r["drift_from_reference"]["param_l2_rel"].get<double>() < 1e-4);
      CHECK(r["steps_to_target"].is_number());
    } else if (r["impl"] == "sgd-momentum") {
      CHECK(!r.contains("drift_from_reference"));
    }
  }
  CHECK(diverged == 2);
  // Skips are what the registry says each implementation cannot run (e.g. libtorch-fused has no
  // CPU kernel in LibTorch 1.13), once per batch size and seed of case "q".
  int expected_skips = 0;
  for (auto& name : suite.impls) {
    case_features f;
    f.baselines_allowed = true;
    if (!default_registry().at(name).supports(config_for(suite.cases[0], name), f).ok) expected_skips += 2 * 2;
  }
  CHECK(skipped == expected_skips);
  CHECK(drift_checked == 8);
  // Seeds differ: another seed gives another curve.
  CHECK(j1["runs"][0]["curve_digest"] != j1["runs"][5]["curve_digest"]);
  fs::remove_all(d1);
  fs::remove_all(d2);
}

TEST_CASE("converge: run_converge: unmet expectations exit 1 and bad inputs throw", "[converge][runner]") {
  converge_options o;
  o.quiet = true;
  auto suite = parse_converge_suite(R"(
[converge]
impls = ["eigen"]
[[converge.case]]
workload = "quadratic"
lr = 1e-6
batch_sizes = [8]
steps = 20
target = 1e-9
expect = "target"
)", "t.toml");
  CHECK(run_converge(suite, default_registry(), o) == 1);
  o.impls = {"no-such-impl"};
  CHECK_THROWS_WITH(run_converge(suite, default_registry(), o), Catch::Contains("unknown implementation 'no-such-impl'"));
  o.impls = {};
  o.case_filter = {"zzz"};
  CHECK_THROWS_WITH(run_converge(suite, default_registry(), o), Catch::Contains("no case matches"));
}

// --threads must reach OpenBLAS's own pool (Debian's LibTorch multiplies linear layers with it):
// at::set_num_threads alone left a second OpenBLAS thread spinning in a --threads 1 run.
TEST_CASE("converge: a LibTorch workload's threads reach OpenBLAS's pool", "[converge][workloads][fmnist]") {
  using get_fn = int (*)();
  using set_fn = void (*)(int);
  auto get = reinterpret_cast<get_fn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  auto set = reinterpret_cast<set_fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  INFO("LibTorch's BLAS is not OpenBLAS here (scripts/setup.sh installs libopenblas0-pthread)");
  REQUIRE(get != nullptr);
  REQUIRE(set != nullptr);
  set(2);  // as OpenBLAS starts on a machine with 2 or more cores
  INFO("OpenBLAS runs " << get() << " thread(s) before the workload is made");
  REQUIRE(get() == static_cast<int>(std::min(2u, std::max(1u, std::thread::hardware_concurrency()))));
  auto w = default_workloads().at("mlp").make(spec("mlp", {{"val", 100}}), 0, 1);
  CHECK(get() == 1);
}

// Evaluation batches allocate activations above glibc's 32 MiB mmap limit; training keeps freed
// memory in the heap so they are not faulted in afresh every evaluation (docs/tuning.md).
TEST_CASE("converge: training keeps freed memory in the heap", "[converge][runner]") {
#ifdef __GLIBC__
  auto suite = parse_converge_suite(R"(
[converge]
impls = ["eigen"]
[[converge.case]]
workload = "quadratic"
batch_sizes = [8]
steps = 1
)", "t.toml");
  converge_options o;
  o.quiet = true;
  REQUIRE(compute_converge(suite, default_registry(), o).runs.size() == 1);
  constexpr std::size_t big = std::size_t{64} << 20;
  const std::size_t mapped0 = mallinfo2().hblkhd;
  void* p = std::malloc(big);
  REQUIRE(p != nullptr);
  std::memset(p, 1, big);
  CHECK(mallinfo2().hblkhd == mapped0);  // from the heap, not a fresh mapping
  std::free(p);
  CHECK(mallinfo2().fordblks >= big);  // kept for the next evaluation, not handed back
#else
  WARN("not glibc: training leaves the allocator's settings alone, nothing to check");
#endif
}
