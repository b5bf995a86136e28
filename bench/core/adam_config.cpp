#include "adambench/config.h"

#include <cmath>
#include <fmt/format.h>

namespace adambench {

namespace {
// Same ranges as torch.optim.Adam.__init__ ("Invalid learning rate: ..."), plus NaN rejection,
// which PyTorch lets through (NaN compares false with every bound).
void check_range(const char* name, double v, bool upper_open_one) {
  if (std::isnan(v)) throw input_error(fmt::format("invalid {} nan: must be a number", name));
  if (upper_open_one) {
    if (!(v >= 0.0 && v < 1.0))
      throw input_error(fmt::format("invalid {} {}: must be in [0, 1)", name, v));
  } else if (!(v >= 0.0) || std::isinf(v)) {
    throw input_error(fmt::format("invalid {} {}: must be finite and >= 0", name, v));
  }
}
}  // namespace

void adam_config::validate() const {
  check_range("lr", lr, false);
  check_range("beta1", beta1, true);
  check_range("beta2", beta2, true);
  check_range("eps", eps, false);
  check_range("weight_decay", weight_decay, false);
}

std::string adam_config::describe() const {
  std::string s = fmt::format("{} lr={:g} betas=({:g},{:g}) eps={:g} wd={:g}", to_string(kind), lr,
                              beta1, beta2, eps, weight_decay);
  if (amsgrad) s += " amsgrad";
  if (maximize) s += " maximize";
  return s;
}

const char* to_string(algo a) { return a == algo::adam ? "adam" : "adamw"; }

algo parse_algo(const std::string& s) {
  if (s == "adam") return algo::adam;
  if (s == "adamw") return algo::adamw;
  throw input_error(fmt::format("invalid algo '{}': must be adam or adamw", s));
}

}  // namespace adambench
