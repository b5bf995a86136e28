#include "adambench/config.h"

#include <catch2/catch.hpp>
#include <cmath>

using namespace adambench;

TEST_CASE("adam_config defaults are PyTorch's and valid") {
  adam_config c;
  CHECK(c.lr == 1e-3);
  CHECK(c.beta1 == 0.9);
  CHECK(c.beta2 == 0.999);
  CHECK(c.eps == 1e-8);
  CHECK(c.weight_decay == 0.0);
  CHECK_NOTHROW(c.validate());
}

TEST_CASE("adam_config rejects each bad value with a message naming it") {
  const double nan = std::nan("");
  CHECK_THROWS_WITH(adam_config{}.with_lr(-1).validate(), "invalid lr -1: must be finite and >= 0");
  CHECK_THROWS_WITH(adam_config{}.with_betas(1.2, 0.999).validate(), "invalid beta1 1.2: must be in [0, 1)");
  CHECK_THROWS_WITH(adam_config{}.with_betas(0.9, 1.0).validate(), "invalid beta2 1: must be in [0, 1)");
  CHECK_THROWS_WITH(adam_config{}.with_betas(-0.1, 0.9).validate(), "invalid beta1 -0.1: must be in [0, 1)");
  CHECK_THROWS_WITH(adam_config{}.with_eps(-1e-8).validate(), "invalid eps -1e-08: must be finite and >= 0");
  CHECK_THROWS_WITH(adam_config{}.with_weight_decay(-0.1).validate(), "invalid weight_decay -0.1: must be finite and >= 0");
  CHECK_THROWS_WITH(adam_config{}.with_lr(nan).validate(), "invalid lr nan: must be a number");
  CHECK_THROWS_WITH(adam_config{}.with_betas(0.9, nan).validate(), "invalid beta2 nan: must be a number");
  CHECK_THROWS_WITH(adam_config{}.with_lr(INFINITY).validate(), "invalid lr inf: must be finite and >= 0");
  CHECK_THROWS_AS(adam_config{}.with_eps(nan).validated(), input_error);
}

TEST_CASE("adam_config edge values PyTorch accepts are accepted") {
  CHECK_NOTHROW(adam_config{}.with_lr(0).with_betas(0, 0).with_eps(0).validate());
}

TEST_CASE("parse_algo and describe") {
  CHECK(parse_algo("adamw") == algo::adamw);
  CHECK_THROWS_WITH(parse_algo("sgd"), "invalid algo 'sgd': must be adam or adamw");
  CHECK(adam_config{}.with_algo(algo::adamw).with_amsgrad(true).describe() ==
        "adamw lr=0.001 betas=(0.9,0.999) eps=1e-08 wd=0 amsgrad");
}
