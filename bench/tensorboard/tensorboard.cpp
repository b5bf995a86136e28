#include "tensorboard/tensorboard.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/crc.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fmt/format.h>
#include <set>

#include "adambench/errors.h"
#include "proto/tensorboard_event.pb.h"  // generated from proto/ by protoc

namespace adambench {

namespace {

double wall_time_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

std::string serialize(const google::protobuf::MessageLite& m) {
  std::string out;
  if (!m.SerializeToString(&out)) throw io_error("tensorboard: could not serialize an event");
  return out;
}

// Distinguishes event files one process opens within the same second.
std::atomic<unsigned> file_counter{0};

constexpr const char* plugin_name = "hparams";

google::protobuf::Value to_proto_value(const hparam_value& v) {
  google::protobuf::Value out;
  if (const auto* d = std::get_if<double>(&v)) out.set_number_value(*d);
  else if (const auto* s = std::get_if<std::string>(&v)) out.set_string_value(*s);
  else out.set_bool_value(std::get<bool>(v));
  return out;
}

// One Event whose summary carries the hparams plugin data under tag (no value: like TensorBoard's
// own hparams summaries, the content lives in the metadata).
std::string hparams_event(const std::string& tag, const tb::HParamsPluginData& data, double wall_time) {
  tb::Event ev;
  ev.set_wall_time(wall_time);
  ev.set_step(0);
  auto* v = ev.mutable_summary()->add_value();
  v->set_tag(tag);
  auto* pd = v->mutable_metadata()->mutable_plugin_data();
  pd->set_plugin_name(plugin_name);
  pd->set_content(serialize(data));
  return serialize(ev);
}

}  // namespace

std::uint32_t crc32c(std::string_view bytes) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

std::uint32_t masked_crc32c(std::string_view bytes) {
  const std::uint32_t c = crc32c(bytes);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

std::string tfrecord_frame(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  put_le(out, data.size(), 8);
  put_le(out, masked_crc32c(std::string_view(out.data(), 8)), 4);
  out.append(data);
  put_le(out, masked_crc32c(data), 4);
  return out;
}

tb_writer::tb_writer(const std::filesystem::path& dir, const std::string& run) {
  const auto run_dir = run.empty() ? dir : dir / run;
  std::error_code ec;
  std::filesystem::create_directories(run_dir, ec);
  if (ec) throw io_error(fmt::format("tensorboard: cannot create {}: {}", run_dir.string(), ec.message()));
  const auto secs = static_cast<long long>(wall_time_now());
  path_ = run_dir / fmt::format("events.out.tfevents.{:010d}.{}.{}.{}", secs, host_name(),
                                static_cast<long>(getpid()), file_counter++);
  // O_EXCL: never append to someone else's file.
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw io_error(fmt::format("tensorboard: cannot create {}: {}", path_.string(), std::strerror(errno)));
  ::close(fd);
  tb::Event ev;
  ev.set_wall_time(wall_time_now());
  ev.set_file_version("brain.Event:2");
  raw_event(serialize(ev));
  flush();
}

tb_writer::~tb_writer() {
  try {
    flush();
  } catch (...) {
    // A destructor must not throw; callers that care call flush() themselves and see the error.
  }
}

void tb_writer::raw_event(const std::string& serialized_event) { pending_ += tfrecord_frame(serialized_event); }

void tb_writer::scalars(std::int64_t step, const std::vector<std::pair<std::string, double>>& values) {
  tb::Event ev;
  ev.set_wall_time(wall_time_now());
  ev.set_step(step);
  auto* summary = ev.mutable_summary();
  for (const auto& [tag, value] : values) {
    auto* v = summary->add_value();
    v->set_tag(tag);
    v->set_simple_value(static_cast<float>(value));
  }
  raw_event(serialize(ev));
}

void tb_writer::scalar(const std::string& tag, std::int64_t step, double value) { scalars(step, {{tag, value}}); }

void tb_writer::hparams(const std::map<std::string, hparam_value>& values, const std::map<std::string, double>& metrics,
                        bool failed) {
  const double start = wall_time_now();
  tb::HParamsPluginData start_data;
  start_data.set_version(0);
  auto* info = start_data.mutable_session_start_info();
  info->set_start_time_secs(start);
  for (const auto& [name, v] : values) (*info->mutable_hparams())[name] = to_proto_value(v);
  raw_event(hparams_event("_hparams_/session_start_info", start_data, start));

  std::vector<std::pair<std::string, double>> metric_values(metrics.begin(), metrics.end());
  if (!metric_values.empty()) scalars(0, metric_values);

  tb::HParamsPluginData end_data;
  end_data.set_version(0);
  auto* end = end_data.mutable_session_end_info();
  end->set_status(failed ? tb::STATUS_FAILURE : tb::STATUS_SUCCESS);
  end->set_end_time_secs(wall_time_now());
  raw_event(hparams_event("_hparams_/session_end_info", end_data, wall_time_now()));
}

void tb_writer::flush() {
  if (pending_.empty()) return;
  // O_APPEND and whole records per write: a reader never sees a record that is only half there
  // unless the process is killed inside write(2), and TensorBoard skips a truncated last record.
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) throw io_error(fmt::format("tensorboard: cannot open {}: {}", path_.string(), std::strerror(errno)));
  std::size_t done = 0;
  while (done < pending_.size()) {
    const ssize_t n = ::write(fd, pending_.data() + done, pending_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      throw io_error(fmt::format("tensorboard: cannot write {}: {}", path_.string(), why));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) throw io_error(fmt::format("tensorboard: cannot close {}: {}", path_.string(), std::strerror(errno)));
  pending_.clear();
}

void write_hparams(const std::filesystem::path& dir, const std::string& run, const std::map<std::string, hparam_value>& hparams,
                   const std::map<std::string, double>& metrics, bool failed) {
  tb_writer w(dir, run);
  w.hparams(hparams, metrics, failed);
  w.flush();
}

void write_hparams_experiment(const std::filesystem::path& dir,
                              const std::map<std::string, std::vector<hparam_value>>& hparam_domains,
                              const std::vector<std::string>& metric_tags) {
  tb::HParamsPluginData data;
  data.set_version(0);
  auto* exp = data.mutable_experiment();
  exp->set_time_created_secs(wall_time_now());
  for (const auto& [name, domain] : hparam_domains) {
    auto* h = exp->add_hparam_infos();
    h->set_name(name);
    // One type per hparam: TensorBoard's discrete domains hold values of a single type.
    std::set<std::size_t> kinds;
    for (const auto& v : domain) kinds.insert(v.index());
    if (kinds.size() == 1) {
      const auto kind = *kinds.begin();
      h->set_type(kind == 0 ? tb::DATA_TYPE_FLOAT64 : kind == 1 ? tb::DATA_TYPE_STRING : tb::DATA_TYPE_BOOL);
      auto* list = h->mutable_domain_discrete();
      std::vector<hparam_value> seen;
      for (const auto& v : domain) {
        if (std::find(seen.begin(), seen.end(), v) != seen.end()) continue;  // TensorBoard wants distinct values
        seen.push_back(v);
        *list->add_values() = to_proto_value(v);
      }
    }
  }
  for (const auto& tag : metric_tags) exp->add_metric_infos()->mutable_name()->set_tag(tag);
  tb_writer w(dir, "");
  w.raw_event(hparams_event("_hparams_/experiment", data, wall_time_now()));
  w.flush();
}

}  // namespace adambench
