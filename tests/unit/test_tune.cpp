// The tune runner's pieces without a model: the plan (parsing, errors, each stage's study with its
// base filled in), run keys (the same run in two stages is one run), --budget cuts, the weight-decay
// match, the kept runs and manifest read back (and refused when damaged); sweep list mode and
// suite-relative paths.
#include "adambench/config.h"
#include "core/results.h"
#include "core/suite.h"
#include "converge/converge_fields.h"
#include "tune/tune.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <unistd.h>

using namespace adambench;
namespace fs = std::filesystem;

namespace {

tune_plan shipped_plan() {
  std::string source;
  const std::string text = load_suite_text("tune", source);
  return parse_tune_plan(text, source);
}

tune_inputs stand_in() { return {"/m/model.pt", "/m/data.npz", "", std::string(64, 'a'), std::string(64, 'b'), 1024, 256, 5000}; }

tune_settings settings_of(const tune_plan& p) {
  tune_settings s{p.impls, p.seeds, 64, 16, 10, {}, {}, {}, std::nullopt, 1};
  for (auto& st : p.stages) s.stages.push_back(st.name);
  return s;
}

const tune_stage& stage(const tune_plan& p, const std::string& name) {
  for (auto& st : p.stages)
    if (st.name == name) return st;
  FAIL("no stage " << name);
  throw;
}

std::vector<double> values(const sweep_study& s, const std::string& factor) {
  std::vector<double> out;
  for (auto& f : s.factors)
    if (f.name == factor)
      for (auto& v : f.values) out.push_back(std::get<double>(v.v));
  return out;
}

tune_timing timing() { return {"eigen", 64, 6, 0.01, 0.004, 0.02, 0.01}; }

}  // namespace

TEST_CASE("tune: the shipped plan parses, stages in order, the first never cut", "[tune]") {
  const tune_plan p = shipped_plan();
  std::vector<std::string> names;
  for (auto& st : p.stages) names.push_back(st.name);
  CHECK(names == std::vector<std::string>{"lr", "lr_refine", "schedule", "weight_decay", "betas", "batch_size", "eps", "sgd"});
  CHECK(p.stages[0].priority == 0);
  CHECK(p.stages[0].pick == "lr");
  CHECK(p.seeds.size() == 3);
  CHECK(stage(p, "sgd").baseline);
  CHECK(stage(p, "batch_size").same_epochs);
}

TEST_CASE("tune: each stage's study has the model, the picks, the refined grid and the matched decay", "[tune]") {
  const tune_plan p = shipped_plan();
  const tune_settings s = settings_of(p);
  const tune_inputs in = stand_in();
  const tune_picks picks{{"lr", 0.01}};
  const sweep_study refine = tune_stage_study(p, stage(p, "lr_refine"), s, in, picks, 0.01);
  CHECK(refine.base.workload.name == "torchscript");
  CHECK(refine.base.workload.str.at("model") == "/m/model.pt");
  const auto lrs = values(refine, "lr");
  REQUIRE(lrs.size() == 5);
  CHECK(lrs[0] == Approx(0.01 * 0.316));
  CHECK(lrs[2] == Approx(0.01));
  CHECK(lrs[4] == Approx(0.01 * 3.16));
  // Later stages start from the picked lr; the decay stage's AdamW point gets l2 / grad_rms.
  const sweep_study decay = tune_stage_study(p, stage(p, "weight_decay"), s, in, picks, 0.01);
  CHECK(decay.base.config.lr == 0.01);
  REQUIRE(decay.listed.size() == 2);
  double adamw_wd = NAN;
  for (auto& [k, v] : decay.listed[1])
    if (k == "weight_decay") adamw_wd = std::get<double>(v.v);
  CHECK(adamw_wd == Approx(1e-4 / 0.01));
  CHECK(matched_adamw_decay(1e-4, 0.01) == Approx(0.01));
  CHECK(matched_adamw_decay(1e-4, 0.0) == 1e-4);  // no gradient to match: the L2 coefficient itself
  // Run fractions: StepLR's step size and the warmup are fractions of the run.
  const sweep_study sched = tune_stage_study(p, stage(p, "schedule"), s, in, picks, 0.01);
  CHECK(sched.base.schedule.step_size == std::llround(0.34 * 16));
  CHECK(sched.base.schedule.warmup == 2);
}

TEST_CASE("tune: one run in two stages has one key, and any setting that matters changes it", "[tune]") {
  const tune_plan p = shipped_plan();
  const tune_settings s = settings_of(p);
  const tune_inputs in = stand_in();
  const tune_picks picks{{"lr", 1e-3}};
  auto base_key = [&](const std::string& st) {
    for (auto& pt : sweep_points(sweep_suite{"", {}, {0}, {tune_stage_study(p, stage(p, st), s, in, picks, 0.01)}}))
      if (pt.is_base) return tune_run_key(pt.c, pt.c.batch_sizes[0], 0, "eigen", in, 1);
    return std::string();
  };
  // The schedule stage's and the batch-size stage's (epochs, sqrt scaling) bases are the lr stage's 1e-3 point.
  const std::string k = base_key("lr");
  CHECK(base_key("schedule") == k);
  CHECK(base_key("batch_size") == k);
  CHECK(base_key("betas") == k);
  converge_case c = tune_stage_study(p, stage(p, "lr"), s, in, picks, 0.01).base;
  CHECK(tune_run_key(c, 64, 1, "eigen", in, 1) != k);
  CHECK(tune_run_key(c, 64, 0, "libtorch", in, 1) != k);
  CHECK(tune_run_key(c, 32, 0, "eigen", in, 1) != k);
  CHECK(tune_run_key(c, 64, 0, "eigen", in, 2) != k);
  tune_inputs other = in;
  other.data_sha256 = std::string(64, 'c');
  CHECK(tune_run_key(c, 64, 0, "eigen", other, 1) != k);
  c.config.lr = std::nextafter(1e-3, 1.0);
  CHECK(tune_run_key(c, 64, 0, "eigen", in, 1) != k);
}

TEST_CASE("tune: --budget cuts the short grids, then steps, then stages, and too small is bad input", "[tune]") {
  const tune_plan p = shipped_plan();
  tune_settings s = settings_of(p);
  s.steps = 200;
  const tune_inputs in = stand_in();
  const double full = estimate_tune(p, s, in, timing(), {}).seconds;
  REQUIRE(full > 0);
  const tune_settings all = fit_budget(p, s, in, timing(), full * 1.01);
  CHECK(all.cuts.empty());
  const tune_settings cut = fit_budget(p, s, in, timing(), full * 0.7);
  REQUIRE_FALSE(cut.cuts.empty());
  CHECK(cut.cuts[0].find("stage batch_size:") == 0);  // the short grids, the last stage's first
  CHECK(cut.stages.size() == p.stages.size());
  CHECK(estimate_tune(p, cut, in, timing(), {}).seconds <= full * 0.7);
  const tune_settings tiny = fit_budget(p, s, in, timing(), full * 0.05);
  CHECK(tiny.steps == p.min_steps);
  CHECK(tiny.stages.size() < p.stages.size());
  CHECK(tiny.stages.front() == "lr");
  CHECK_THROWS_AS(fit_budget(p, s, in, timing(), 1e-3), input_error);
  // Runs a store already holds cost nothing.
  CHECK(estimate_tune(p, s, in, timing(), [](const std::string&) { return true; }).seconds == 0);
}

TEST_CASE("tune: bad plans are input errors naming the file, stage and field", "[tune]") {
  auto err = [](const std::string& text) {
    try {
      parse_tune_plan(text, "p.toml");
    } catch (const input_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string head = "[tune]\nsteps = 10\n";
  const std::string lr = "[[tune.stage]]\nname = \"lr\"\nvary = { lr = [1e-3, 1e-2] }\n";
  CHECK(err(head + lr) == "no error");
  CHECK(err("[tune]\n" + lr).find("give steps or epochs") != std::string::npos);
  CHECK(err(head + lr + "warp = 1\n").find("p.toml: tune.stage lr: warp") != std::string::npos);
  CHECK(err(head + "seeds = [0, 1]\n" + lr).find("at least 3 seeds") != std::string::npos);
  CHECK(err(head + lr + "pick = \"beta1\"\n").find("pick") != std::string::npos);
  CHECK(err(head + "lr = -1\n" + lr).find("p.toml: tune: invalid lr -1") != std::string::npos);
  CHECK(err(head + "workload = \"mlp\"\n" + lr).find("--model") != std::string::npos);
  CHECK(err(head).find("no [[tune.stage]]") != std::string::npos);
  CHECK(err(head + lr + "[other]\n").find("unknown table") != std::string::npos);
  CHECK(err(head + "[[tune.stage]]\nname = \"d\"\nmode = \"list\"\npoints = [{ algo = \"adamw\", weight_decay = \"matched\" }]\n")
            .find("matched") != std::string::npos);
}

TEST_CASE("tune: kept runs and the manifest read back, and damaged ones are refused", "[tune]") {
  const fs::path dir = fs::temp_directory_path() / fmt::format("adambench-tune-unit-{}", ::getpid());
  fs::create_directories(dir);
  run_result r;
  r.impl = "eigen";
  r.lr = 1e-3, r.steps_budget = 4, r.steps_done = 4;
  r.curve = {{0, 0, 1e-3, NAN, 2.3, 0.1, 0}, {4, 0.25, 1e-3, 2.1, INFINITY, 0.2, 0.5}};
  write_json_atomic(dir / "a.run", tune_run_json("KEY", r));
  std::string key;
  const run_result back = read_tune_run(dir / "a.run", "", &key);
  CHECK(key == "KEY");
  REQUIRE(back.curve.size() == 2);
  CHECK(std::isnan(back.curve[0].train_loss));
  CHECK(std::isinf(back.curve[1].val_loss));
  CHECK(back.curve[1].val_acc == 0.2);
  CHECK_THROWS_AS(read_tune_run(dir / "a.run", "OTHER", nullptr), input_error);
  auto j = tune_run_json("KEY", r);
  j["verdict"] = "error";
  write_json_atomic(dir / "b.run", j);
  CHECK_THROWS_AS(read_tune_run(dir / "b.run", ""), input_error);
  write_file_atomic(dir / "c.run", "{\"format\": \"adambench tune run\", \"key\": ");
  CHECK_THROWS_AS(read_tune_run(dir / "c.run", ""), input_error);

  const tune_plan p = shipped_plan();
  tune_manifest m{p.source, p.text, stand_in(), timing(), settings_of(p)};
  m.settings.budget_s = 90;
  write_json_atomic(dir / "tune.manifest", tune_manifest_json(m));
  const tune_manifest mb = read_tune_manifest(dir / "tune.manifest");
  CHECK(mb.in.model_sha256 == m.in.model_sha256);
  CHECK(mb.settings.stages == m.settings.stages);
  CHECK(mb.settings.budget_s == 90);
  CHECK(mb.timing.grad_rms == m.timing.grad_rms);
  auto mj = tune_manifest_json(m);
  mj["settings"]["seeds"] = {0, 1};
  write_json_atomic(dir / "bad.manifest", mj);
  CHECK_THROWS_AS(read_tune_manifest(dir / "bad.manifest"), input_error);
  fs::remove_all(dir);
}

TEST_CASE("sweep: list mode runs the base and each listed point, and paths resolve against the suite's folder", "[sweep][tune]") {
  const char* text = R"(
[sweep]
impls = ["eigen"]
[[sweep.study]]
name = "d"
workload = "torchscript"
options = { model = "m.pt", data = "/abs/d.npz" }
text = "corpus.txt"
mode = "list"
points = [{ algo = "adam", weight_decay = 1e-4 }, { algo = "adamw", weight_decay = 0.01 }, { algo = "sgd-momentum" }]
claim = { advice = "x", a = { algo = "adamw" }, b = { algo = "adam", weight_decay = 1e-4 } }
)";
  const sweep_suite s = parse_sweep_suite(text, "/suites/here/s.toml");
  const auto pts = sweep_points(s);
  REQUIRE(pts.size() == 4);
  CHECK(pts[0].is_base);
  CHECK(pts[1].c.name == "d/weight_decay=0.0001");  // algo adam is the base's: the name says what differs
  CHECK(pts[2].c.config.kind == algo::adamw);
  CHECK(pts[2].c.config.weight_decay == 0.01);
  CHECK(pts[3].c.name == "d/algo=sgd-momentum");
  CHECK(pts[3].c.impls == std::vector<std::string>{"sgd-momentum"});
  CHECK(std::string(mode_name(s.studies[0])) == "list");
  CHECK(s.studies[0].base.workload.str.at("model") == "/suites/here/m.pt");
  CHECK(s.studies[0].base.workload.str.at("data") == "/abs/d.npz");
  CHECK(s.studies[0].base.workload.text_file == "/suites/here/corpus.txt");
  std::string t = text;
  t.replace(t.find("mode = \"list\"\n"), 14, "");
  CHECK_THROWS_AS(parse_sweep_suite(t, "s.toml"), input_error);  // points without mode = "list"
  converge_case c;
  c.workload.name = "torchscript";
  c.workload.str = {{"model", "m.pt"}};
  resolve_suite_paths(c, "embedded:tune");
  CHECK(c.workload.str.at("model") == "m.pt");
}
