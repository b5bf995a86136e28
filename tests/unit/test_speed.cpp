// The speed runner's inputs: shipped model shape lists, model files, the [speed] suite table, and
// the bandwidth probe's access pattern. (Speed targets are benchmark results, not timed tests.)
#include "adambench/optimizer.h"
#include "core/suite.h"
#include "speed/speed_suite.h"
#include "speed/alloc_hook.h"
#include "speed/probe.h"
#include "speed/speed.h"
#include "speed/speed_grid.h"
#include "speed/speed_summary.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

using namespace adambench;

namespace {
std::int64_t count_params(const shape_list& s) {
  std::int64_t n = 0;
  for (auto& sh : s.shapes) n += numel_of(sh);
  return n;
}
}  // namespace

TEST_CASE("speed: shipped models hold the real architectures' parameter counts") {
  struct want {
    const char* name;
    std::int64_t params, tensors;
  };
  const std::int64_t llama = 4 * 4096LL * 4096 + 3 * 4096LL * 11008 + 2 * 4096;
  for (want w : {want{"resnet50", 25'557'032, 161}, want{"bert_base", 109'482'240, 199}, want{"gpt2_small", 124'439'808, 148},
                 want{"llama2_7b_layer", llama, 9}, want{"many_small", 10'240'000, 10'000}}) {
    INFO(w.name);
    shape_list s = load_model(w.name, {});
    CHECK(s.name == w.name);
    CHECK(s.numel == w.params);
    CHECK(count_params(s) == w.params);
    CHECK(static_cast<std::int64_t>(s.shapes.size()) == w.tensors);
  }
  // GPT-2: two thirds of the tensors hold about 0.1% of the parameters.
  shape_list g = load_model("gpt2_small", {});
  std::int64_t small = 0, small_params = 0;
  for (auto& sh : g.shapes)
    if (sh.size() == 1) ++small, small_params += numel_of(sh);
  CHECK(small == 98);
  CHECK(small_params < g.numel / 500);
  for (auto& sh : load_model("many_small", {}).shapes) CHECK(sh == shape_t{1024});
  CHECK(shipped_models().size() >= 5);
}

TEST_CASE("speed: model file format") {
  shape_list s = parse_model_file("# comment\n\nw 3 4   # trailing\nscalar\nb 5 *3\nempty 0 7\n@params 28\n@tensors 6\n", "m", "m.txt");
  REQUIRE(s.shapes.size() == 6);
  CHECK(s.shapes[0] == shape_t{3, 4});
  CHECK(s.shapes[1].empty());  // 0-dim: one element
  CHECK(s.shapes[2] == shape_t{5});
  CHECK(s.shapes[4] == shape_t{5});
  CHECK(s.shapes[5] == shape_t{0, 7});
  CHECK(s.numel == 12 + 1 + 15 + 0);
  CHECK_THROWS_WITH(parse_model_file("w 3 x\n", "m", "m.txt"), "m.txt:1: dimension 'x' is not a non-negative integer");
  CHECK_THROWS_WITH(parse_model_file("w 3\nv -2\n", "m", "m.txt"), "m.txt:2: dimension '-2' is not a non-negative integer");
  CHECK_THROWS_WITH(parse_model_file("w 3 *0\n", "m", "m.txt"), "m.txt:1: repeat count must be >= 1");
  CHECK_THROWS_WITH(parse_model_file("w 3\n@params 4\n", "m", "m.txt"), "m.txt: @params says 4 but the tensors hold 3");
  CHECK_THROWS_WITH(parse_model_file("w 3\n@tensors 2\n", "m", "m.txt"), "m.txt: @tensors says 2 but the file lists 1");
  CHECK_THROWS_WITH(parse_model_file("@bogus 1\n", "m", "m.txt"), "m.txt:1: unknown directive @bogus");
  CHECK_THROWS_WITH(parse_model_file("# nothing\n", "m", "m.txt"), "m.txt: no tensors");
}

TEST_CASE("speed: models by name or path") {
  CHECK_THROWS_WITH(load_model("nope", {}), Catch::StartsWith("unknown model 'nope': shipped models are ") && Catch::Contains("gpt2_small"));
  CHECK_THROWS_WITH(load_model("no/such/file.txt", {}), "no/such/file.txt: no such model file");
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / "adambench_test_speed";
  fs::create_directories(dir);
  std::ofstream(dir / "mine.txt") << "a 2 2\nb 3\n";
  shape_list s = load_model((dir / "mine.txt").string(), {});
  CHECK(s.name == "mine");
  CHECK(s.numel == 7);
  // A relative path is also tried next to the suite file.
  CHECK(load_model("mine.txt", dir).numel == 7);
  fs::remove_all(dir);
}

TEST_CASE("speed: flat shapes") {
  CHECK(flat_shape(10).name == "flat_1K");
  CHECK(flat_shape(24).name == "flat_16M");
  CHECK(flat_shape(26).name == "flat_64M");
  CHECK(flat_shape(3).name == "flat_8");
  CHECK(flat_shape(26).numel == (1 << 26));
  CHECK(flat_shape(20).shapes == std::vector<shape_t>{{1 << 20}});
}

TEST_CASE("speed: [speed] suite table") {
  speed_suite s = parse_speed_suite(
      "[speed]\nimpls = ['eigen']\nflat = [10, 12]\nmodels = 'gpt2_small'\nalgo = ['adam', 'adamw']\namsgrad = [false, true]\n"
      "threads = 'sweep'\nrepetitions = 9\nmin_time = 0.2\nwarmup_time = 0\nweight_decay = 0.01\n",
      "s.toml");
  CHECK(s.impls == std::vector<std::string>{"eigen"});
  CHECK(s.flat_log2 == std::vector<int>{10, 12});
  CHECK(s.models == std::vector<std::string>{"gpt2_small"});
  CHECK(s.algos == std::vector<algo>{algo::adam, algo::adamw});
  CHECK(s.amsgrad == std::vector<bool>{false, true});
  CHECK(s.threads == "sweep");
  CHECK(s.repetitions == 9);
  CHECK(s.min_time == 0.2);
  CHECK(s.warmup_time == 0.0);
  CHECK(s.weight_decay == 0.01);
  speed_suite t = parse_speed_suite("[speed]\nflat = 20\nthreads = [1, 2]\n", "s.toml");
  CHECK(t.threads == "list");
  CHECK(t.thread_list == std::vector<int>{1, 2});
  CHECK(t.impls == std::vector<std::string>{"eigen", "libtorch"});

  CHECK_THROWS_WITH(parse_speed_suite("[agree]\n", "s.toml"), "s.toml: no [speed] table");
  CHECK_THROWS_WITH(parse_speed_suite("[speed]\n", "s.toml"), "s.toml: speed: no shapes (give flat and/or models)");
  CHECK_THROWS_WITH(parse_speed_suite("[speed]\nflat = 10\nbogus = 1\n", "s.toml"), "s.toml: speed.bogus: unknown field");
  CHECK_THROWS_WITH(parse_speed_suite("[speed]\nflat = 40\n", "s.toml"), "s.toml: speed.flat: log2 size 40 must be in [0, 30]");
  CHECK_THROWS_WITH(parse_speed_suite("[speed]\nflat = 10\nthreads = 'many'\n", "s.toml"), Catch::StartsWith("s.toml: speed.threads: expected"));
  CHECK_THROWS_WITH(parse_speed_suite("[speed]\nflat = 10\nthreads = [0]\n", "s.toml"), "s.toml: speed.threads: thread count 0 must be >= 1");
  CHECK_THROWS_WITH(parse_speed_suite("[speed]\nflat = 10\nalgo = 'sgd'\n", "s.toml"), Catch::StartsWith("s.toml: speed.algo: invalid algo"));
  CHECK_THROWS_WITH(parse_speed_suite("[speed]\nflat = 10\nrepetitions = 0\n", "s.toml"), "s.toml: speed.repetitions: 0 must be in [1, 1000]");
  CHECK_THROWS_WITH(parse_speed_suite("[speed]\nflat = 10\nimpls = [1]\n", "s.toml"), "s.toml: speed.impls: expected a string");
  CHECK_THROWS_WITH(parse_speed_suite("[speed\n", "s.toml"), Catch::StartsWith("s.toml:1:"));
}

TEST_CASE("speed: [speed] defaults, and a scalar where a list is expected") {
  const speed_suite d = parse_speed_suite("[speed]\nflat = 10\n", "s.toml");
  CHECK(d.source == "s.toml");
  CHECK(d.impls == std::vector<std::string>{"eigen", "libtorch"});
  CHECK(d.flat_log2 == std::vector<int>{10});
  CHECK(d.models.empty());
  CHECK(d.algos == std::vector<algo>{algo::adam});
  CHECK(d.amsgrad == std::vector<bool>{false});
  CHECK(d.threads == "all");
  CHECK(d.thread_list.empty());
  CHECK(d.weight_decay == 0.0);
  CHECK(d.repetitions == 1);
  CHECK(d.min_time == 0.5);
  CHECK(d.warmup_time == 0.1);
  const speed_suite s = parse_speed_suite("[speed]\nmodels = ['resnet50', 'x.txt']\nimpls = 'eigen'\nalgo = 'adamw'\namsgrad = true\nthreads = 2\n", "s.toml");
  CHECK(s.flat_log2.empty());
  CHECK(s.models == std::vector<std::string>{"resnet50", "x.txt"});
  CHECK(s.impls == std::vector<std::string>{"eigen"});
  CHECK(s.algos == std::vector<algo>{algo::adamw});
  CHECK(s.amsgrad == std::vector<bool>{true});
  CHECK(s.threads == "list");
  CHECK(s.thread_list == std::vector<int>{2});
  // The bounds themselves are accepted.
  const speed_suite b = parse_speed_suite("[speed]\nflat = [0, 30]\nrepetitions = 1000\nmin_time = 3600\nwarmup_time = 0\n", "s.toml");
  CHECK(b.flat_log2 == std::vector<int>{0, 30});
  CHECK(b.repetitions == 1000);
  CHECK(b.min_time == 3600);
}

TEST_CASE("speed: every [speed] field rejects a wrong type and a bad value, naming file, table and field") {
  auto error = [](const std::string& body) {
    try {
      parse_speed_suite("[speed]\nflat = 10\n" + body + "\n", "s.toml");
    } catch (const input_error& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  // Wrong types.
  CHECK(error("models = 3") == "s.toml: speed.models: expected a string");
  CHECK(error("algo = 5") == "s.toml: speed.algo: expected a string");
  CHECK(error("amsgrad = 'yes'") == "s.toml: speed.amsgrad: expected true or false");
  CHECK(error("amsgrad = [true, 'no']") == "s.toml: speed.amsgrad: expected true or false");
  CHECK(error("threads = 1.5") == "s.toml: speed.threads: expected an integer");
  CHECK(error("weight_decay = 'a'") == "s.toml: speed.weight_decay: expected a number");
  CHECK(error("repetitions = 1.5") == "s.toml: speed.repetitions: expected an integer");
  CHECK(error("repetitions = [3]") == "s.toml: speed.repetitions: expected an integer");
  CHECK(error("min_time = 'a'") == "s.toml: speed.min_time: expected a number");
  CHECK(error("warmup_time = [1]") == "s.toml: speed.warmup_time: expected a number");
  CHECK(error("impls = [1]") == "s.toml: speed.impls: expected a string");
  CHECK(error("bogus = 1") == "s.toml: speed.bogus: unknown field");
  CHECK(error("Flat = 1") == "s.toml: speed.Flat: unknown field");
  // Bad values.
  CHECK(error("impls = []") == "s.toml: speed.impls: must not be empty");
  CHECK(error("algo = ['adam', 'sgd']") == "s.toml: speed.algo: invalid algo 'sgd': must be adam or adamw");
  CHECK(error("algo = []") == "s.toml: speed: algo and amsgrad must not be empty");
  CHECK(error("amsgrad = []") == "s.toml: speed: algo and amsgrad must not be empty");
  CHECK(error("threads = [2, -1]") == "s.toml: speed.threads: thread count -1 must be >= 1");
  CHECK(error("threads = 'many'") == "s.toml: speed.threads: expected \"all\", \"sweep\" or a list of thread counts");
  CHECK(error("weight_decay = -1") == "s.toml: speed.weight_decay: invalid weight_decay -1: must be finite and >= 0");
  CHECK(error("repetitions = 1001") == "s.toml: speed.repetitions: 1001 must be in [1, 1000]");
  CHECK(error("min_time = -1") == "s.toml: speed.min_time: -1 must be in [0, 3600] seconds");
  CHECK(error("min_time = nan") == "s.toml: speed.min_time: nan must be in [0, 3600] seconds");
  CHECK(error("warmup_time = 3601") == "s.toml: speed.warmup_time: 3601 must be in [0, 3600] seconds");
  CHECK_THROWS_WITH(parse_speed_suite("[speed]\nflat = [10, -1]\n", "s.toml"), "s.toml: speed.flat: log2 size -1 must be in [0, 30]");
  CHECK_THROWS_WITH(parse_speed_suite("[speed]\nflat = [31]\n", "s.toml"), "s.toml: speed.flat: log2 size 31 must be in [0, 30]");
  CHECK_THROWS_WITH(parse_speed_suite("[speed]\nflat = 'x'\n", "s.toml"), "s.toml: speed.flat: expected an integer");
  CHECK_THROWS_WITH(parse_speed_suite("[speed]\nflat = [[10]]\n", "s.toml"), "s.toml: speed.flat: expected an integer");
  CHECK_THROWS_WITH(parse_speed_suite("[speed]\nmodels = []\n", "s.toml"), "s.toml: speed: no shapes (give flat and/or models)");
  CHECK_THROWS_WITH(parse_speed_suite("speed = 1\n", "s.toml"), "s.toml: no [speed] table");
}

TEST_CASE("speed: the shipped suites' speed sections parse and gate with >= 9 repetitions") {
  for (const char* n : {"smoke", "ci", "full"}) {
    INFO(n);
    speed_suite s = parse_speed_suite(embedded_suite(n), n);
    CHECK(!s.impls.empty());
    for (auto& m : s.models) CHECK_NOTHROW(load_model(m, {}));
  }
  CHECK(parse_speed_suite(embedded_suite("ci"), "ci").repetitions >= 9);
  CHECK(parse_speed_suite(embedded_suite("full"), "full").repetitions >= 9);
  speed_suite full = parse_speed_suite(embedded_suite("full"), "full");
  CHECK(full.flat_log2.front() == 10);
  CHECK(full.flat_log2.back() == 26);
  CHECK(full.threads == "sweep");
}

TEST_CASE("speed: the probe moves Adam's bytes: reads p, g, m, v; writes p, m, v") {
  CHECK(adam_bytes_per_param(false) == 28);
  CHECK(adam_bytes_per_param(true) == 36);
  for (bool ams : {false, true})
    for (int threads : {1, 2}) {
      INFO("amsgrad " << ams << " threads " << threads);
      std::vector<host_tensor> p, g;
      std::vector<tensor_view> pv, gv;
      for (shape_t s : {shape_t{40000}, shape_t{}, shape_t{0}, shape_t{17, 3}}) {
        p.emplace_back(dtype::float32, s);
        g.emplace_back(dtype::float32, s);
      }
      for (std::size_t t = 0; t < p.size(); ++t)
        for (std::int64_t i = 0; i < p[t].numel(); ++i) {
          p[t].set(i, 1.0 + static_cast<double>(i % 7));
          g[t].set(i, 0.5);
        }
      for (auto& x : p) pv.push_back(x.view());
      for (auto& x : g) gv.push_back(x.view());
      bandwidth_probe pr(pv, gv, ams, threads);
      CHECK(pr.numel() == 40000 + 1 + 0 + 51);
      // m, v (and max_v) start at 0: p <- m, m <- v, v <- (max_v <-) p + g. Every variant moves
      // the same values (a variant that dropped a load or a store would break the cycle).
      using V = bandwidth_probe::variant;
      pr.step(V::loop);
      pr.step(V::packet);
      pr.step(V::stream);
      for (std::size_t t = 0; t < p.size(); ++t)
        for (std::int64_t i = 0; i < p[t].numel(); ++i) {
          const double p0 = 1.0 + static_cast<double>(i % 7);
          // Without amsgrad the values cycle p -> v -> m -> p (+ g once per cycle): after three
          // steps p = p0 + g. With amsgrad the cycle is four long: p = 0 after three.
          REQUIRE(p[t].get(i) == (ams ? 0.0 : p0 + 0.5));
        }
    }
}

TEST_CASE("speed: each probe variant alone runs the cycle") {
  using V = bandwidth_probe::variant;
  for (V var : {V::loop, V::packet, V::stream}) {
    INFO(bandwidth_probe::variant_name(var));
    // 40,003 elements: several work items, a SIMD tail, and a misaligned-length last chunk.
    host_tensor p(dtype::float32, shape_t{40003}), g(dtype::float32, shape_t{40003});
    for (std::int64_t i = 0; i < p.numel(); ++i) {
      p.set(i, 2.0 + static_cast<double>(i % 5));
      g.set(i, 0.25);
    }
    std::vector<tensor_view> pv{p.view()}, gv{g.view()};
    bandwidth_probe pr(pv, gv, false, 2);
    for (int k = 0; k < 3; ++k) pr.step(var);
    for (std::int64_t i = 0; i < p.numel(); ++i) REQUIRE(p.get(i) == 2.25 + static_cast<double>(i % 5));
  }
  CHECK(std::string(bandwidth_probe::variant_name(V::stream)) == "stream");
}

TEST_CASE("speed: machine facts for the context") {
  // The packet width follows the instruction set: 4, 8 or 16 floats on x86-64 (SSE, AVX, AVX-512).
  const std::string simd = simd_description();
  CHECK((simd.find("(4 floats per Eigen packet)") != std::string::npos || simd.find("(8 floats per Eigen packet)") != std::string::npos ||
         simd.find("(16 floats per Eigen packet)") != std::string::npos));
  // Every x86-64 and ARM server has a last-level cache of at least 256 KiB and below 4 GiB, and
  // Linux lists it in sysfs (0 would mean the parse failed and the '*' marks vanish).
  const std::int64_t llc = last_level_cache_bytes();
  CHECK(llc >= (std::int64_t{256} << 10));
  CHECK(llc < (std::int64_t{4} << 30));
}

TEST_CASE("speed: the allocation hook sees a known allocation, and none in an Eigen step") {
  REQUIRE(alloc_hook::available());
  // A known allocation: 3 MiB held at once (two blocks), then freed: the peak is what was held.
  alloc_hook::arm();
  {
    std::vector<char> a(1 << 20, 1), b(2 << 20, 2);
    CHECK(a[5] + b[7] == 3);
  }
  const std::int64_t peak = alloc_hook::disarm();
  CHECK(peak >= (3 << 20));
  CHECK(peak < (3 << 20) + (1 << 16));
  // aligned_alloc and posix_memalign (LibTorch's CPU allocator) are seen too, and free balances them.
  alloc_hook::arm();
  void* q = std::aligned_alloc(64, 1 << 20);
  void* r = nullptr;
  REQUIRE(posix_memalign(&r, 64, 1 << 20) == 0);
  REQUIRE(q);
  std::memset(q, 1, 1 << 20);  // used, so the compiler cannot drop the allocation
  std::memset(r, 2, 1 << 20);
  CHECK(static_cast<volatile char*>(q)[9] + static_cast<volatile char*>(r)[9] == 3);
  std::free(q);
  std::free(r);
  void* s = std::malloc(100);
  std::free(s);
  CHECK(alloc_hook::disarm() >= (2 << 20));
  // Disarmed: nothing counted.
  alloc_hook::arm();
  CHECK(alloc_hook::disarm() == 0);

  // Eigen allocates nothing per step once bound (its state lives from bind on).
  registry& reg = default_registry();
  host_tensor p(dtype::float32, shape_t{100000}), g(dtype::float32, shape_t{100000});
  std::vector<tensor_view> pv{p.view()}, gv{g.view()};
  auto opt = reg.at("eigen").make(adam_config{}, impl_options{2}, dtype::float32);
  opt->bind(pv, gv);
  opt->step();  // the first parallel region starts OpenMP's threads (their allocations are not a step's)
  alloc_hook::arm();
  opt->step();
  CHECK(alloc_hook::disarm() == 0);
  // torch::optim::Adam allocates a temporary of the parameter's size (or more) on every step.
  auto lt = reg.at("libtorch").make(adam_config{}, impl_options{2}, dtype::float32);
  lt->bind(pv, gv);
  lt->step();
  alloc_hook::arm();
  lt->step();
  CHECK(alloc_hook::disarm() >= 100000 * 4);
}

namespace {
// A registry entry that supports everything and is never made (the grid only asks supports).
impl_entry entry(const char* name, speed_peer peer) {
  return {name, "test", [](const adam_config&, const case_features&) { return support::yes(); },
          [](const adam_config&, const impl_options&, dtype) -> std::unique_ptr<optimizer> { return nullptr; }, {.peer = peer}};
}

benchmark::BenchmarkReporter::Run run_at(const std::string& name, double params_per_s) {
  benchmark::BenchmarkReporter::Run r;
  r.run_name.function_name = name;
  r.run_type = benchmark::BenchmarkReporter::Run::RT_Iteration;
  r.iterations = 1;
  r.real_accumulated_time = 1e-3;
  r.time_unit = benchmark::kMicrosecond;
  r.counters["params_per_second"] = benchmark::Counter(params_per_s);
  return r;
}
}  // namespace

TEST_CASE("speed: the peers are the registry's traits, not names") {
  // "libtorch" here is nobody's peer and the fastest; the LibTorch reference and DeepSpeed's peer
  // go by other names. Names decide nothing: the registrations' traits do.
  registry reg;
  reg.add(entry("mine", speed_peer::none));
  reg.add(entry("libtorch", speed_peer::none));
  reg.add(entry("other-torch", speed_peer::libtorch_other));
  reg.add(entry("my-ds", speed_peer::deepspeed));
  reg.add(entry("my-torch", speed_peer::libtorch));
  speed_suite suite;
  suite.source = "embedded:test";
  suite.impls = {"mine", "libtorch", "other-torch", "my-ds", "my-torch"};
  suite.flat_log2 = {10};
  const speed_grid g = build_speed_grid(suite, reg, speed_options{});
  std::vector<std::string> order;
  for (auto& b : g.specs) order.push_back(b.impl_name());
  CHECK(order == std::vector<std::string>{"probe", "my-torch", "other-torch", "my-ds", "mine", "libtorch"});
  const bench_spec& mine = g.specs[4];
  REQUIRE(mine.libtorch >= 0);
  CHECK(g.specs[mine.libtorch].impl_name() == "my-torch");
  REQUIRE(mine.deepspeed >= 0);
  CHECK(g.specs[mine.deepspeed].impl_name() == "my-ds");
  CHECK(mine.peers == std::vector<int>{1, 2});
  CHECK(g.specs[1].libtorch == -1);  // the reference is not compared with itself

  const std::vector<double> rate{1e12, 100, 200, 50, 400, 1000};  // grid order
  std::vector<benchmark::BenchmarkReporter::Run> runs;
  for (std::size_t i = 0; i < g.specs.size(); ++i) runs.push_back(run_at(g.specs[i].name, rate[i]));
  const speed_summary s = summarise(g, std::vector<std::int64_t>(g.specs.size(), -1), runs);
  CHECK(s.rows[4].best_peer == "other-torch");  // "vs best LibTorch": the faster of the two peers
  CHECK(s.rows[4].vs_best.median == Approx(2.0));
  CHECK(s.rows[4].vs_deepspeed.median == Approx(8.0));
  CHECK(s.rows[5].best_peer == "other-torch");  // "libtorch" registered as no peer is compared like any other
  CHECK(s.rows[2].best_peer.empty());           // a peer gets no "vs best LibTorch" of its own
}
