#include "runners/context.h"

#include "core/results.h"

#include <algorithm>
#include <csignal>
#include <fmt/format.h>
#include <torch/version.h>  // a macro header: no LibTorch compile cost

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
  return c;
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

}  // namespace adambench
