#pragma once
/// JSON Schemas of the result kinds (schemas/KIND.schema.json, embedded at build time).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace adambench {

/// Whether this build carries a schema for result kind `kind` ("agree", "speed", "sweep", ...).
bool has_schema(const std::string& kind);
/// Every kind with an embedded schema, sorted.
std::vector<std::string> schema_kinds();
/// The first place `doc` breaks the schema of `kind`, as "JSON path: what is wrong"
/// (e.g. "$.results[3].checks[0].params.failed: expected integer"); nothing when it conforms.
std::optional<std::string> schema_mismatch(const std::string& kind, const nlohmann::json& doc);

}  // namespace adambench
