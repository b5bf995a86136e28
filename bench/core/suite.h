#pragma once
/// Suite files (TOML): declarative cases. A field given as an array expands into one case per
/// value (the cartesian product over all such fields), so one table can say
///   algo = ["adam", "adamw"]   amsgrad = [false, true]
/// and mean four cases. docs/suites.md describes every field.
#include "core/adam_config.h"
#include "core/tensor.h"

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
/// The [speed] part of a suite (docs/speed.md): what `adambench speed` registers with Google
/// Benchmark. Every listed value is one axis of the grid; the probe always runs alongside.
struct speed_suite {
  std::string source;  ///< file name or "embedded:NAME"
  std::vector<std::string> impls{"eigen", "libtorch"};
  std::vector<int> flat_log2;           ///< flat buffers of 2^k float32 parameters
  std::vector<std::string> models;      ///< shipped model names or model file paths
  std::vector<algo> algos{algo::adam};
  std::vector<bool> amsgrad{false};
  std::string threads = "all";          ///< "all": --threads only; "sweep": 1..--threads; "list"
  std::vector<int> thread_list;         ///< when threads == "list"
  double weight_decay = 0.0;
  int repetitions = 1;                  ///< >= 9 where the result gates (Mann-Whitney U)
  double min_time = 0.5;                ///< seconds per repetition
  double warmup_time = 0.1;             ///< seconds of untimed steps before the repetitions
};

/// Parses the [speed] part of a suite; throws input_error naming the file and field.
speed_suite parse_speed_suite(const std::string& text, const std::string& source);
/// Text of a suite shipped inside the binary (suites/NAME.toml at build time), or empty.
std::string embedded_suite(const std::string& name);
/// Loads a file path, or "NAME" of an embedded suite when no such file exists.
std::string load_suite_text(const std::string& path_or_name, std::string& source);

}  // namespace adambench
