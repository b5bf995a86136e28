#pragma once
// Private to the sweep and tune runners: one [[sweep.study]] table read into a study.
#include "core/suite_fields.h"
#include "sweep/sweep.h"

namespace adambench {

/// Reads one study table (every [[converge.case]] field, vary, mode, points, claim, impls, seeds)
/// and checks that every point is a valid case; throws input_error "FIELD: ..." without the file.
sweep_study parse_sweep_study(const toml::table& t, const std::string& name);

}  // namespace adambench
