#pragma once
/// The [agree] part of a suite file (docs/suites.md): the agreement runner's cases. A field given
/// as an array expands into one case per value (core/suite_fields.h).
#include "adambench/config.h"
#include "adambench/tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace adambench {

/// How the agreement runner makes gradients.
enum class grad_kind { normal, wide, zero, tiny, huge, nan, inf };
const char* to_string(grad_kind g);
grad_kind parse_grad_kind(const std::string& s);

/// One expanded agreement case.
struct agree_case {
  std::string name;
  adam_config config;
  std::vector<shape_t> shapes;
  grad_kind grad = grad_kind::normal;
  double grad_scale = 1.0;
  double param_scale = 1.0;
  bool random_state = false;      ///< start from random m, v, max_v
  std::int64_t start_step = 0;    ///< step counter before the first step
  std::vector<std::int64_t> check_steps{1};
  double lr_decay = 1.0;          ///< lr is multiplied by this after every step (exercises set_lr)
};

struct agree_suite {
  std::string source;  ///< file name or "embedded:NAME"
  std::vector<std::string> impls;
  std::vector<dtype> dtypes{dtype::float32, dtype::float64};
  std::vector<std::uint64_t> seeds{0};
  std::vector<agree_case> cases;
};

/// Parses the [agree] part of a suite; throws input_error naming the file, case and field.
agree_suite parse_agree_suite(const std::string& text, const std::string& source);
}  // namespace adambench
