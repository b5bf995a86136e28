#pragma once
/// The two error types every layer throws and the CLI maps to exit codes (2 and 4).
#include <stdexcept>

namespace adambench {

/// Thrown for any user-facing bad input; the CLI prints what() on one line and exits 2.
struct input_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Thrown when the environment fails (a file cannot be written, a child process fails); the CLI
/// prints what() on one line and exits 4.
struct io_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace adambench
