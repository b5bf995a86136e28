#pragma once
// The [[converge.case]] fields, for readers of other tables made of convergence cases (sweeps).
#include "core/suite_fields.h"
#include "converge/converge.h"

namespace adambench {

/// Sets one case field (docs/convergence.md lists them); throws input_error "KEY: ..." when the
/// key is unknown or the value bad.
void apply_converge_field(converge_case& c, const std::string& key, const toml::node& value);
/// Checks a complete case (config, schedule, baseline, expectation); throws input_error.
void finish_converge_case(converge_case& c);
/// Relative paths of a case read from the suite file `source` (data_dir, text, the workload's path
/// options) made relative to that file's folder; embedded suites ("embedded:NAME") are left alone.
void resolve_suite_paths(converge_case& c, const std::string& source);

}  // namespace adambench
