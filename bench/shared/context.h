#pragma once
/// What every result file says about where it came from, and the run's interrupt flag.
#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace adambench {

/// machine, build (compiler, commit, versions incl. LibTorch), threads, time, and run_id when set.
nlohmann::json run_context(int threads);

/// The run this result belongs to: ADAMBENCH_RUN_ID (read here only), the same for every shard of
/// one sharded run, so `adambench merge --run-id` can refuse pieces of another run. Empty when
/// unset; throws input_error unless it is 1 to 100 of [A-Za-z0-9._:+-].
std::string run_id();

/// Set by SIGINT/SIGTERM (installed by the CLI): runners stop after the current case, write what
/// they have with "interrupted": true and the place they stopped, and exit 130.
extern std::atomic<bool> interrupted;
void install_interrupt_handler();

/// A run whose every selected case was skipped checked nothing: says so in one stderr line with
/// the skip reasons (e.g. "no CUDA device") and returns 3, or 0 when `--allow-empty` was given.
int nothing_checked(const std::string& runner, const std::vector<std::string>& reasons, bool allow_empty);

/// A `--shard I/N` slice with no case in it (N larger than the cases): says so in one stderr line
/// and returns 0. The runner still writes its piece, marked "empty_slice", so the merge counts the
/// shard as present; the merge, not the piece, says whether anything was checked.
int empty_slice(const std::string& runner, std::pair<int, int> shard);

/// `--out DIR`, checked before a run that may take hours: creates it, writes and removes a probe
/// file; throws io_error (exit 4: the environment's fault, not the input's) when it cannot.
void check_out_dir(const std::filesystem::path& dir);

}  // namespace adambench
