#include "agree/agree_suite.h"
#include "core/suite.h"

#include <catch2/catch.hpp>

using namespace adambench;

TEST_CASE("suite: array fields expand into the cartesian product, named by their values") {
  auto s = parse_agree_suite(R"(
[agree]
impls = ["eigen"]
[[agree.case]]
name = "x"
algo = ["adam", "adamw"]
betas = [[0.9, 0.98], [0.8, 0.99], [0.0, 0.999]]
shapes = [[], [7], [0]]
check_steps = [1, 10]
)", "t.toml");
  REQUIRE(s.cases.size() == 6);
  CHECK(s.cases[0].name == "x/algo=adam/betas=(0.9,0.98)");
  CHECK(s.cases[5].config.kind == algo::adamw);
  CHECK(s.cases[5].config.beta1 == 0.0);
  CHECK(s.cases[0].shapes == std::vector<shape_t>{{}, {7}, {0}});
  CHECK(s.cases[0].check_steps == std::vector<std::int64_t>{1, 10});
}

TEST_CASE("suite: bad values are input errors naming the file, case and field") {
  CHECK_THROWS_WITH(parse_agree_suite("[agree]\n[[agree.case]]\nname='c'\nbetas=[1.5, 0.9]\n", "s.toml"),
                    "s.toml: case c: invalid beta1 1.5: must be in [0, 1)");
  CHECK_THROWS_WITH(parse_agree_suite("[agree]\n[[agree.case]]\nname='c'\nlrr=1\n", "s.toml"),
                    "s.toml: case c: lrr: unknown field");
  CHECK_THROWS_WITH(parse_agree_suite("[agree]\n[[agree.case]]\nname='c'\ngrad='weird'\n", "s.toml"),
                    Catch::Contains("invalid grad 'weird'"));
  CHECK_THROWS_WITH(parse_agree_suite("[agree]\n[[agree.case]]\ncheck_steps=[10, 1]\n", "s.toml"),
                    Catch::Contains("must be increasing"));
  CHECK_THROWS_WITH(parse_agree_suite("[agree\n", "s.toml"), Catch::StartsWith("s.toml:1:"));
  CHECK_THROWS_WITH(parse_agree_suite("[other]\n", "s.toml"), "s.toml: no [agree] table");
}

TEST_CASE("suite: the shipped suites parse") {
  for (const char* n : {"default", "smoke", "ci", "full"}) {
    std::string text = embedded_suite(n);
    REQUIRE(!text.empty());
    CHECK(!parse_agree_suite(text, n).cases.empty());
  }
}
