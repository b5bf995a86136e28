// Every [[converge.case]] field lands in its own member: each is set to a value no default has,
// so a key read into the wrong member (or not at all) fails here.
#include "converge/converge.h"

#include <catch2/catch.hpp>

using namespace adambench;

TEST_CASE("converge: every case field is read into its own member", "[converge][suite]") {
  const char* text = R"(
[converge]
[[converge.case]]
name = "all"
workload = "quadratic"
options = { dim = 7, kind = "k" }
data_dir = "/d"
text = "/t"
algo = "adamw"
lr = 0.02
betas = [0.8, 0.95]
eps = 1e-6
weight_decay = 0.03
amsgrad = true
batch_sizes = [8, 16]
lr_scaling = "sqrt"
base_batch = 32
schedule = "plateau"
step_size = 11
gamma = 0.5
t_max = 77
eta_min = 0.001
warmup = 3
start_factor = 0.25
factor = 0.4
patience = 4
threshold = 0.002
cooldown = 2
min_lr = 0.0001
steps = 90
epochs = 2.5
eval_every = 9
evals = 6
target = 0.7
target_metric = "val_acc"
explode_factor = 50
max_drift = 0.125
grad_scale = 0.001
sgd_lr = 0.3
sgd_momentum = 0.5
expect = "target"
impls = ["eigen"]
seeds = [4, 5]
)";
  const converge_suite s = parse_converge_suite(text, "t.toml");
  REQUIRE(s.cases.size() == 1);
  const converge_case& c = s.cases[0];
  CHECK(c.name == "all");
  CHECK(c.workload.name == "quadratic");
  CHECK(c.workload.num.at("dim") == 7);
  CHECK(c.workload.str.at("kind") == "k");
  CHECK(c.workload.data_dir == "/d");
  CHECK(c.workload.text_file == "/t");
  CHECK(c.config.kind == algo::adamw);
  CHECK(c.config.lr == 0.02);
  CHECK(c.config.beta1 == 0.8);
  CHECK(c.config.beta2 == 0.95);
  CHECK(c.config.eps == 1e-6);
  CHECK(c.config.weight_decay == 0.03);
  CHECK(c.config.amsgrad);
  CHECK(c.batch_sizes == std::vector<std::int64_t>{8, 16});
  CHECK(c.scaling == lr_scaling::sqrt);
  CHECK(c.base_batch == 32);
  CHECK(c.schedule.kind == schedule_kind::plateau);
  CHECK(c.schedule.step_size == 11);
  CHECK(c.schedule.gamma == 0.5);
  CHECK(c.schedule.t_max == 77);
  CHECK_FALSE(c.t_max_is_run_length);
  CHECK(c.schedule.eta_min == 0.001);
  CHECK(c.schedule.warmup == 3);
  CHECK(c.schedule.start_factor == 0.25);
  CHECK(c.schedule.factor == 0.4);
  CHECK(c.schedule.patience == 4);
  CHECK(c.schedule.threshold == 0.002);
  CHECK(c.schedule.cooldown == 2);
  CHECK(c.schedule.min_lr == 0.0001);
  CHECK(c.steps == 90);
  CHECK(c.epochs == 2.5);
  CHECK(c.eval_every == 9);
  CHECK(c.evals == 6);
  CHECK(c.target == 0.7);
  CHECK(c.target_is_accuracy);
  CHECK(c.explode_factor == 50);
  CHECK(c.max_drift == 0.125);
  CHECK(c.grad_scale == 0.001);
  CHECK(c.sgd_lr == 0.3);
  CHECK(c.sgd_momentum == 0.5);
  CHECK(c.expect == expectation::target);
  CHECK(c.impls == std::vector<std::string>{"eigen"});
  CHECK(c.seeds == std::vector<std::uint64_t>{4, 5});
}

TEST_CASE("converge: enumerated and bounded case fields name the field and the allowed values", "[converge][suite]") {
  const auto parse_with = [](const std::string& line) {
    parse_converge_suite("[converge]\n[[converge.case]]\nname = \"c\"\nworkload = \"quadratic\"\n" + line + "\n", "x.toml");
  };
  CHECK_THROWS_WITH(parse_with("lr_scaling = \"cube\""), "x.toml: case c: lr_scaling: 'cube' must be none, linear or sqrt");
  CHECK_THROWS_WITH(parse_with("expect = \"win\""), "x.toml: case c: expect: 'win' must be none, target or diverge");
  CHECK_THROWS_WITH(parse_with("target_metric = \"acc\""), "x.toml: case c: target_metric: 'acc' must be val_loss or val_acc");
  CHECK_THROWS_WITH(parse_with("epochs = 0"), "x.toml: case c: epochs: 0 must be > 0");
  CHECK_THROWS_WITH(parse_with("explode_factor = 1"), "x.toml: case c: explode_factor: 1 must be > 1");
  CHECK_THROWS_WITH(parse_with("max_drift = -0.5"), "x.toml: case c: max_drift: -0.5 must be >= 0");
  CHECK_THROWS_WITH(parse_with("grad_scale = 0"), "x.toml: case c: grad_scale: 0 must be > 0");
  CHECK_THROWS_WITH(parse_with("options = { a = true }"), "x.toml: case c: options.a: expected a number or a string");
  CHECK_THROWS_WITH(parse_with("betas = [0.9]"), "x.toml: case c: betas: expected [beta1, beta2]");
  CHECK_THROWS_WITH(parse_with("batch_sizes = []"), "x.toml: case c: batch_sizes: expected a non-empty array of integers");
}
