// `adambench data-order`: the minibatches of a training run as adambench draws them (docs/tuning.md).
#include "cli/command.h"
#include "converge/converge_train.h"
#include "core/results.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace adambench {
namespace {

command_run data_order_options_of(CLI::App& c, int&) {
  struct state {
    std::int64_t train = 0, batch = 0, steps = 0;
    std::uint64_t seed = 0;
    std::string out;
  };
  auto t = std::make_shared<state>();
  c.add_option("--train", t->train, "training samples (x_train's first dimension)")->required()->check(int_at_least(1));
  c.add_option("--batch", t->batch, "batch size")->required()->check(int_at_least(1));
  c.add_option("--steps", t->steps, "optimizer steps")->required()->check(int_at_least(1));
  c.add_option("--seed", t->seed, "the run's seed")->required();
  c.add_option("--out", t->out, "text file (default: standard output)");
  return [t](const command_env&) {
    batch_sampler sampler(t->train, t->batch, t->seed);
    std::string text;
    for (std::int64_t s = 0; s < t->steps; ++s) text += fmt::format("{}\n", fmt::join(sampler.next(), " "));
    if (t->out.empty()) fmt::print("{}", text);
    else write_file_atomic(t->out, text);
    return 0;
  };
}

ADAMBENCH_REGISTER_COMMAND("data-order", "the sample indices of every minibatch of a training run (one line per step), as adambench draws them",
                           130, data_order_options_of);

}  // namespace
}  // namespace adambench
