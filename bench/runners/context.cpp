#include "runners/context.h"

#include "core/results.h"

#include <csignal>
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

}  // namespace adambench
