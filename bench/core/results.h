#pragma once
/// Result files: written whole or not at all (temporary file, then rename), with a context header.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace adambench {

/// Version of every JSON result this harness writes; bump on an incompatible change.
inline constexpr int result_schema_version = 1;

/// Writes `text` to `path` through a temporary file in the same folder and a rename, so a reader
/// sees the old file or the new one, never half of one. Creates the folder. Throws on failure.
void write_file_atomic(const std::filesystem::path& path, const std::string& text);
void write_json_atomic(const std::filesystem::path& path, const nlohmann::json& j);

/// Machine facts: host name, CPU model, logical cores, memory, OS.
nlohmann::json machine_info();
/// Compiler, harness version, git commit, Eigen and fmt versions. LibTorch's version is added by
/// run_context (shared/context.cpp): core has no LibTorch.
nlohmann::json build_info();
/// The commit the harness was built from ("unknown" outside a git checkout).
const char* git_commit();
/// UTC time as ISO 8601.
std::string utc_now();
/// SHA-256 of `bytes`, as 64 lowercase hex digits (content hashes: history records, tune inputs).
std::string sha256_hex(const std::string& bytes);

}  // namespace adambench
