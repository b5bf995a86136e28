#pragma once
/// What the gate's commands share (compare.cpp, ab.cpp, calibrate.cpp): the threshold options, the
/// children `ab` and `calibrate` run, and the way a verdict is printed.
#include "gate/compare.h"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <vector>

namespace adambench {

/// The thresholds and the noise file as given on the command line.
struct gate_thresholds {
  gate_options opt;
  std::string noise_file;
  CLI::Option* min_effect = nullptr;  ///< given: it is counted speed's minimum effect too

  /// Declares --min-effect and --alpha on `cmd`.
  void add(CLI::App& cmd);
  /// Declares --noise on `cmd`.
  void add_noise(CLI::App& cmd);
  /// The options with --noise read: the `adambench_noise` object of a calibration or its baseline.
  gate_options options() const;
};

/// Runs `bin args... --out dir`; returns its exit status (126/127 when it cannot start).
int run_child(const std::string& bin, std::vector<std::string> args, const std::filesystem::path& out);
/// Throws input_error unless `b` is an executable file.
void check_binary(const std::string& b);
/// A child that did not finish with a verdict (0 or 1) is an environment failure: throws io_error.
void check_child(int rc, const std::string& bin, const char* what, int index);
/// The single result file a run wrote into `dir` (speed.json, agree.json, converge.json, count.json).
std::filesystem::path result_in(const std::filesystem::path& dir);
/// Prints the report, writes the Markdown summary when `md` is given; returns the gate's exit code.
int finish(const gate_report& rep, const std::string& md, const std::string& a, const std::string& b);

}  // namespace adambench
