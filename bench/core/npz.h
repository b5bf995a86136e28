#pragma once
/// Reading and writing what numpy.savez / numpy.load use: a zip of .npy arrays: float32, float64,
/// float16, and bfloat16 stored as uint16 bit patterns (numpy has no bfloat16).
#include "adambench/tensor.h"

#include <filesystem>
#include <map>
#include <string>

namespace adambench {

/// Arrays by name (without ".npy"). Throws input_error naming the file and the problem.
std::map<std::string, host_tensor> read_npz(const std::filesystem::path& path);
/// Each entry's raw .npy bytes by name (without ".npy"), for dtypes parse_npy does not take
/// (integer labels). Throws input_error naming the file and the problem.
std::map<std::string, std::string> read_npz_bytes(const std::filesystem::path& path);
/// Writes all arrays (stored, uncompressed) whole or not at all (temporary file, then rename).
void write_npz(const std::filesystem::path& path, const std::map<std::string, host_tensor>& arrays);

/// Parses one .npy file's bytes; `what` names it in errors.
host_tensor parse_npy(const std::string& bytes, const std::string& what);
/// Serializes one array as .npy (format 1.0, little-endian, C order).
std::string to_npy(const host_tensor& t);

}  // namespace adambench
