// Writes a known set of TensorBoard event files for tests/e2e/tensorboard_test.sh to read back:
//   tb-fixture DIR           two runs of scalars, two hparams sessions, the experiment summary
//   tb-fixture DIR --killed  flushes 3 steps, buffers 2 more, then dies by SIGKILL before flushing
#include <csignal>
#include <cmath>
#include <cstdio>
#include <string>

#include "adambench/errors.h"
#include "tensorboard/tensorboard.h"

using namespace adambench;

namespace {

// Values the reader test recomputes: loss = 1/(step+1) per run scale, lr halves every 2 steps.
double loss_at(int step, double scale) { return scale / (step + 1); }
double lr_at(int step) { return 1e-3 * std::pow(0.5, step / 2); }

void write_run(const std::string& dir, const std::string& run, double scale, int steps) {
  tb_writer w(dir, run);
  for (int s = 0; s < steps; ++s) {
    w.scalars(s * 10, {{"train/loss", loss_at(s, scale)}, {"val/loss", 1.5 * loss_at(s, scale)}});
    w.scalar("lr", s * 10, lr_at(s));
  }
  w.flush();
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::fprintf(stderr, "usage: tb-fixture DIR [--killed]\n");
    return 2;
  }
  const std::string dir = argv[1];
  if (argc > 2 && std::string(argv[2]) == "--killed") {
    tb_writer w(dir, "killed");
    for (int s = 0; s < 3; ++s) w.scalar("train/loss", s, loss_at(s, 1.0));
    w.flush();
    for (int s = 3; s < 5; ++s) w.scalar("train/loss", s, loss_at(s, 1.0));
    std::raise(SIGKILL);  // no destructor, no flush: what a killed run leaves
  }
  write_run(dir, "eigen/lr=0.001", 1.0, 5);
  write_run(dir, "libtorch/lr=0.001", 2.0, 5);
  write_hparams(dir, "sweep/p0", {{"lr", 1e-3}, {"impl", std::string("eigen")}, {"amsgrad", false}},
                {{"final/val_loss", 0.25}, {"final/train_loss", 0.125}});
  write_hparams(dir, "sweep/p1", {{"lr", 1e-1}, {"impl", std::string("libtorch")}, {"amsgrad", true}},
                {{"final/val_loss", 7.5}, {"final/train_loss", 3.0}}, /*failed=*/true);
  write_hparams_experiment(dir,
                           {{"lr", {1e-3, 1e-1, 1e-3}},
                            {"impl", {std::string("eigen"), std::string("libtorch")}},
                            {"amsgrad", {false, true}}},
                           {"final/val_loss", "final/train_loss"});
  return 0;
} catch (const io_error& e) {
  std::fprintf(stderr, "tb-fixture: %s\n", e.what());
  return 4;
}
