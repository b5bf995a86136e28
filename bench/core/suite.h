#pragma once
/// Suite files (TOML): declarative cases. A field given as an array expands into one case per
/// value (the cartesian product over all such fields), so one table can say
///   algo = ["adam", "adamw"]   amsgrad = [false, true]
/// and mean four cases. docs/suites.md describes every field. Each runner reads its own table
/// (agree/agree_suite.h, speed/speed_suite.h, converge/converge.h, sweep/sweep.h) with the typed
/// getters of core/suite_fields.h; this header finds the file or the shipped suite.
#include <string>

namespace adambench {

/// Text of a suite shipped inside the binary (suites/NAME.toml at build time), or empty.
std::string embedded_suite(const std::string& name);
/// Loads a file path, or "NAME" of an embedded suite when no such file exists.
std::string load_suite_text(const std::string& path_or_name, std::string& source);

}  // namespace adambench
