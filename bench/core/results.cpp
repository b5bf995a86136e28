#include "core/results.h"

#include "core/adam_config.h"

#include <chrono>
#include <cstdio>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fstream>
#include <sys/utsname.h>
#include <thread>
#include <unistd.h>

namespace adambench {

void write_file_atomic(const std::filesystem::path& path, const std::string& text) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  if (ec) throw io_error(fmt::format("cannot create folder {}: {}", path.parent_path().string(), ec.message()));
  fs::path tmp = path;
  tmp += fmt::format(".tmp{}", ::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw io_error(fmt::format("cannot write {}", tmp.string()));
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    f.flush();
    if (!f) {
      f.close();
      fs::remove(tmp, ec);
      throw io_error(fmt::format("cannot write {}", tmp.string()));
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw io_error(fmt::format("cannot rename {} to {}: {}", tmp.string(), path.string(), ec.message()));
  }
}

void write_json_atomic(const std::filesystem::path& path, const nlohmann::json& j) {
  write_file_atomic(path, j.dump(1) + "\n");
}

nlohmann::json machine_info() {
  nlohmann::json m;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  m["hostname"] = host;
  std::ifstream cpu("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpu, line))
    if (line.rfind("model name", 0) == 0) {
      m["cpu"] = line.substr(line.find(':') + 2);
      break;
    }
  m["logical_cores"] = std::thread::hardware_concurrency();
  std::ifstream mem("/proc/meminfo");
  while (std::getline(mem, line))
    if (line.rfind("MemTotal:", 0) == 0) {
      m["memory_kib"] = std::stoll(line.substr(9));
      break;
    }
  struct utsname u {};
  if (::uname(&u) == 0) m["os"] = fmt::format("{} {} {}", u.sysname, u.release, u.machine);
  return m;
}

nlohmann::json build_info() {
  nlohmann::json b;
  b["adambench_version"] = ADAMBENCH_VERSION;
  b["git_commit"] = git_commit();
#if defined(__clang__)
  b["compiler"] = fmt::format("clang {}", __clang_version__);
#elif defined(__GNUC__)
  b["compiler"] = fmt::format("gcc {}", __VERSION__);
#endif
  b["eigen"] = EIGEN_VERSION_STRING;
  b["fmt"] = FMT_VERSION;
  return b;
}

std::string utc_now() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(t));
}

}  // namespace adambench
