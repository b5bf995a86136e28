// The agreement runner split into compute_agree (a result struct) and its reporters: the struct
// records passes, planted disagreements, errors, skips and interrupts, and agree.json and the
// exit code are made from the struct alone.
#include "agree/agree_suite.h"
#include "agree/agree.h"
#include "shared/context.h"

#include <catch2/catch.hpp>
#include <stdexcept>

using namespace adambench;

namespace {

// Two cases x one dtype x two seeds, checked after steps 1 and 3.
agree_suite small_suite() {
  return parse_agree_suite(R"(
[agree]
dtypes = ["float64"]
seeds = [0, 1]
[[agree.case]]
name = "t"
algo = ["adam", "adamw"]
weight_decay = 0.01
shapes = [[5], [3, 2]]
check_steps = [1, 3]
)", "t.toml");
}

// The reference implementation with a planted bug: one parameter read back 1% off.
class off_by_one_percent : public optimizer {
 public:
  explicit off_by_one_percent(std::unique_ptr<optimizer> inner) : inner_(std::move(inner)) {}
  void bind(std::span<const tensor_view> p, std::span<const tensor_view> g) override { inner_->bind(p, g); }
  void load_state(const adam_state& s) override { inner_->load_state(s); }
  void step() override { inner_->step(); }
  void set_lr(double lr) override { inner_->set_lr(lr); }
  adam_state read_state() override {
    adam_state s = inner_->read_state();
    s.params[1][4] *= 1.01;
    return s;
  }

 private:
  std::unique_ptr<optimizer> inner_;
};

class throws_on_step : public off_by_one_percent {
 public:
  using off_by_one_percent::off_by_one_percent;
  void step() override { throw std::runtime_error("planted failure"); }
};

// `ref` with its optimizer wrapped in T (a planted bug).
template <class T>
impl_entry planted(const impl_entry& ref, const char* name, const char* what) {
  return {name, what, ref.supports, [ref](const adam_config& c, const impl_options& o, dtype d) -> std::unique_ptr<optimizer> {
            return std::make_unique<T>(ref.make(c, o, d));
          }};
}

registry test_registry() {
  const impl_entry& ref = default_registry().at("reference");
  registry r;
  r.add(ref);
  r.add(planted<off_by_one_percent>(ref, "planted", "one parameter 1% off"));
  r.add(planted<throws_on_step>(ref, "throws", "throws on the first step"));
  r.add({"never", "supports nothing", [](const adam_config&, const case_features&) { return support::no("planted skip"); }, ref.make});
  return r;
}

agree_options quiet(std::vector<std::string> impls) {
  agree_options o;
  o.impls = std::move(impls);
  o.quiet = true;
  return o;
}

}  // namespace

TEST_CASE("agree: the reference agrees with itself; every case, seed and check step is recorded") {
  const agree_result res = compute_agree(small_suite(), test_registry(), quiet({"reference"}));
  REQUIRE(res.records.size() == 4);  // 2 cases x 1 dtype x 2 seeds x 1 implementation
  CHECK(res.count("pass") == 4);
  CHECK(res.failed() == 0);
  CHECK(res.rows.size() == 2);
  for (auto& r : res.records) {
    REQUIRE(r.checks.size() == 2);
    CHECK(r.checks[0].step == 1);
    CHECK(r.checks[1].step == 3);
    CHECK(r.checks[1].got_step == 3);
    CHECK(r.checks[1].rows.size() == 3);  // params, m, v
    CHECK(r.worst_err_u == 0);
  }
  CHECK(res.records[1].seed == 1);
  CHECK(res.records[2].case_index == 1);
  CHECK(res.cells.at(res.rows[0]).at("reference").pass == 2);
  CHECK(agree_exit_code(res) == 0);
}

TEST_CASE("agree: a planted disagreement fails with its first mismatching values; an error is a failure too") {
  const agree_result res = compute_agree(small_suite(), test_registry(), quiet({"reference", "planted", "throws"}));
  REQUIRE(res.records.size() == 12);
  CHECK(res.count("pass") == 4);
  CHECK(res.count("fail") == 4);
  CHECK(res.count("error") == 4);
  CHECK(res.failed() == 8);
  const agree_record& bad = res.records[1];
  CHECK(bad.impl == "planted");
  CHECK(bad.verdict == "fail");
  CHECK_FALSE(bad.checks[0].ok);
  CHECK(bad.first_mismatch.find("after 1 steps: params") == 0);
  CHECK(bad.worst_rel > 0.005);
  CHECK(res.records[2].verdict == "error");
  CHECK(res.records[2].reason == "planted failure");
  CHECK(res.cells.at(res.rows[0]).at("planted").fail == 2);
  CHECK(res.growth.at({"planted", dtype::float64}).size() == 2);
  CHECK(agree_exit_code(res) == 1);
}

TEST_CASE("agree: a run where every case is skipped checked nothing: exit 3, or 0 with --allow-empty") {
  const agree_result res = compute_agree(small_suite(), test_registry(), quiet({"never"}));
  CHECK(res.count("skip") == 4);
  CHECK(res.skip_reasons().at("never") == std::set<std::string>{"planted skip"});
  CHECK(agree_exit_code(res) == 3);
  CHECK(agree_exit_code(res, true) == 0);
}

TEST_CASE("agree: --filter then --shard choose the cases; a filter matching nothing is bad input") {
  agree_options o = quiet({"reference"});
  o.shard = {2, 2};
  const agree_result res = compute_agree(small_suite(), test_registry(), o);
  REQUIRE(res.rows.size() == 1);
  CHECK(res.rows[0].first == "t/algo=adamw");
  o.filter = "nothing-like-this";
  CHECK_THROWS_AS(compute_agree(small_suite(), test_registry(), o), input_error);
}

TEST_CASE("agree: an interrupt stops before the next case; the exit code is 130") {
  interrupted.store(true);
  const agree_result res = compute_agree(small_suite(), test_registry(), quiet({"reference"}));
  interrupted.store(false);
  CHECK(res.records.empty());
  CHECK(res.stopped_at == "t/algo=adam float64");
  CHECK(agree_exit_code(res) == 130);
}

TEST_CASE("agree: agree.json is made from the result struct alone") {
  agree_options o = quiet({"reference", "planted", "never"});
  o.shard = {1, 2};
  o.threads = 3;
  agree_result res = compute_agree(small_suite(), test_registry(), o);
  res.stopped_at = "t/algo=adamw float64";
  const nlohmann::json j = agree_json(res);
  CHECK(j["kind"] == "agree");
  CHECK(j["suite"] == "t.toml");
  CHECK(j["context"]["threads"] == 3);
  CHECK(j["shard"] == "1/2");
  CHECK(j["interrupted"] == true);
  CHECK(j["stopped_before"] == "t/algo=adamw float64");
  CHECK(j["impls"] == nlohmann::json{"reference", "planted", "never"});
  CHECK(j["summary"]["passed"] == 2);
  CHECK(j["summary"]["failed"] == 2);
  CHECK(j["summary"]["skipped"] == 2);
  REQUIRE(j["results"].size() == 6);
  const nlohmann::json& bad = j["results"][1];
  CHECK(bad["verdict"] == "fail");
  CHECK(bad["numel"] == 11);
  CHECK(bad["tensors"] == 2);
  CHECK(bad["first_mismatch"] == res.records[1].first_mismatch);
  CHECK(bad["checks"][0]["params"]["failed"] == 1);
  CHECK(bad["checks"][1]["step_counter"]["want"] == 3);
  CHECK(j["results"][2]["reason"] == "planted skip");
  CHECK_FALSE(j["results"][0].contains("reason"));
}
