#include "shared/context.h"

#include "adambench/errors.h"
#include "core/results.h"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <string_view>
#include <torch/version.h>  // a macro header: no LibTorch compile cost
#include <unistd.h>

namespace adambench {

std::atomic<bool> interrupted{false};

namespace {
void on_signal(int) { interrupted.store(true); }
}  // namespace

void install_interrupt_handler() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

nlohmann::json run_context(int threads) {
  nlohmann::json c;
  c["created"] = utc_now();
  c["machine"] = machine_info();
  auto b = build_info();
  b["libtorch"] = TORCH_VERSION;
  c["build"] = b;
  c["threads"] = threads;
  if (const std::string id = run_id(); !id.empty()) c["run_id"] = id;
  return c;
}

std::string run_id() {
  const char* e = std::getenv("ADAMBENCH_RUN_ID");
  const std::string id = e ? e : "";
  const bool ok = id.size() <= 100 && std::all_of(id.begin(), id.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || std::string_view("._:+-").find(ch) != std::string_view::npos;
  });
  if (!ok) throw input_error(fmt::format("ADAMBENCH_RUN_ID '{}': expected at most 100 of A-Z a-z 0-9 . _ : + -", id.substr(0, 120)));
  return id;
}

int nothing_checked(const std::string& runner, const std::vector<std::string>& reasons, bool allow_empty) {
  std::vector<std::string> uniq;
  for (auto& r : reasons)
    if (std::find(uniq.begin(), uniq.end(), r) == uniq.end()) uniq.push_back(r);
  std::string why;
  for (std::size_t i = 0; i < uniq.size() && i < 3; ++i) why += (i ? "; " : "") + uniq[i];
  if (uniq.size() > 3) why += fmt::format("; and {} more", uniq.size() - 3);
  if (uniq.empty()) why = "no case selected";
  fmt::print(stderr, "{}: nothing checked: every selected case was skipped ({}){}\n", runner, why,
             allow_empty ? "; --allow-empty: exit 0" : "; exit 3 (--allow-empty accepts this)");
  return allow_empty ? 0 : 3;
}

int empty_slice(const std::string& runner, std::pair<int, int> shard) {
  fmt::print(stderr, "{}: shard {}/{} selected no case (fewer cases than shards): its piece says \"empty_slice\"; exit 0\n", runner,
             shard.first, shard.second);
  return 0;
}

void check_out_dir(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw io_error(fmt::format("--out {}: cannot create the folder: {}", dir.string(), ec.message()));
  const fs::path probe = dir / fmt::format(".adambench-write-test.{}", ::getpid());
  {
    std::ofstream f(probe);
    if (!(f << "x") || !f.flush()) {
      fs::remove(probe, ec);
      throw io_error(fmt::format("--out {}: folder is not writable", dir.string()));
    }
  }
  fs::remove(probe, ec);
}

}  // namespace adambench
