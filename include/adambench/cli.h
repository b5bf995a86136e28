#pragma once
/// The `adambench` command line; main() passes the registry so a test build can add mutants.
#include "adambench/optimizer.h"

namespace adambench {

/// Exit codes: 0 ok, 1 a check failed, 2 bad input, 3 nothing checked or unsupported case,
/// 4 I/O or environment failure, 130 interrupted.
int cli_main(int argc, char** argv, const registry& reg);

}  // namespace adambench
