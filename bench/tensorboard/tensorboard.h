#pragma once
/// TensorBoard event files (TFRecord-framed Event protobufs), written without TensorFlow.
/// Example: tb_writer w(dir, "eigen/seed0"); w.scalar("train/loss", step, loss); w.flush();
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace adambench {

/// CRC32C (Castagnoli) of bytes, as TFRecord frames use it (Boost.CRC).
std::uint32_t crc32c(std::string_view bytes);
/// TFRecord's masked CRC: rotate right by 15 and add 0xa282ead8 (so a CRC of CRCs stays strong).
std::uint32_t masked_crc32c(std::string_view bytes);
/// One TFRecord: uint64 length, masked CRC of the length, data, masked CRC of the data (little-endian).
std::string tfrecord_frame(std::string_view data);

/// Appends Event records to one event file named like TensorBoard's
/// (DIR/RUN/events.out.tfevents.SECONDS.HOST.PID.N). Records are buffered and appended whole by
/// flush() (and the destructor), so an interrupted run leaves only whole records behind.
/// Throws io_error when the directory or file cannot be written.
class tb_writer {
 public:
  /// Opens a new event file under dir/run (run may be "" or contain '/'), writing file_version first.
  tb_writer(const std::filesystem::path& dir, const std::string& run = "");
  ~tb_writer();
  tb_writer(const tb_writer&) = delete;
  tb_writer& operator=(const tb_writer&) = delete;

  /// Records a scalar (TensorBoard's simple_value, a float) at a step, stamped with the wall time now.
  void scalar(const std::string& tag, std::int64_t step, double value);
  /// Records several scalars at one step in one Event.
  void scalars(std::int64_t step, const std::vector<std::pair<std::string, double>>& values);
  /// Appends the serialized Event bytes as one record (for summaries scalar() does not cover).
  void raw_event(const std::string& serialized_event);
  /// Records an hparams session in this run: session start (hparams), the metrics as scalars at
  /// step 0, and session end with status success, or failure when failed (e.g. diverged).
  void hparams(const std::map<std::string, std::variant<double, std::string, bool>>& values,
               const std::map<std::string, double>& metrics, bool failed = false);
  /// Appends every buffered record to the file and flushes it to the OS.
  void flush();
  /// The event file's path.
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::string pending_;
};

/// A hyper-parameter value as TensorBoard's hparams plugin takes it: number, string or bool.
using hparam_value = std::variant<double, std::string, bool>;

/// Writes one hparams session for run dir/run in a new event file (see tb_writer::hparams).
void write_hparams(const std::filesystem::path& dir, const std::string& run,
                   const std::map<std::string, hparam_value>& hparams,
                   const std::map<std::string, double>& metrics, bool failed = false);

/// Writes the experiment summary (hparam names with their observed values, metric tags) in dir
/// itself, so TensorBoard's HPARAMS tab lists every hparam and metric of a sweep.
void write_hparams_experiment(const std::filesystem::path& dir,
                              const std::map<std::string, std::vector<hparam_value>>& hparam_domains,
                              const std::vector<std::string>& metric_tags);

}  // namespace adambench
