// adambench-mutants: the CLI with the Eigen implementation's planted bugs registered as extra
// implementations "eigen~NAME". Test-only: the user-facing `adambench` never links this file.
// ADAMBENCH_PLANT=NAME registers eigen~NAME under the name "eigen" instead of the real one, so a
// gate compares the planted build's rows with the real build's (tests/e2e/count_test.sh, docs/speed.md).
#include "adambench/cli.h"
#include "impls/eigen/eigen_adam_kernel.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {
using adambench::eigen_impl::mutant;

template <mutant M>
void add(adambench::registry& r, const char* name, const char* what) {
  r.add({std::string("eigen~") + name, what,
         [](const adambench::adam_config&, const adambench::case_features&) { return adambench::support::yes(); },
         [](const adambench::adam_config& c, const adambench::impl_options& o, adambench::dtype d) {
           return adambench::eigen_impl::make<M>(c, o, d);
         }});
}
// ADAMBENCH_PLANT=NAME: the registry with eigen~NAME answering to "eigen" (and no real eigen).
adambench::registry planted(const adambench::registry& r) {
  const char* plant = std::getenv("ADAMBENCH_PLANT");
  if (!plant || !*plant) return r;
  const std::string mutant_name = std::string("eigen~") + plant;
  if (!r.find(mutant_name)) {
    std::fprintf(stderr, "adambench-mutants: ADAMBENCH_PLANT=%s: no implementation %s\n", plant, mutant_name.c_str());
    std::exit(2);
  }
  adambench::registry out;
  for (const auto& e : r.all())
    if (e.name != "eigen") out.add(e);
  adambench::impl_entry e = *r.find(mutant_name);
  e.name = "eigen";
  e.description = "PLANTED (test-only): " + e.description;
  out.add(std::move(e));
  out.sort_reference_first();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  adambench::registry r = adambench::default_registry();  // every real implementation, then the mutants
  add<mutant::eps_scaled>(r, "eps_scaled", "eps scaled by sqrt(bias_correction2) (pre PR 22628)");
  add<mutant::no_bias_correction>(r, "no_bias_correction", "bias correction missing");
  add<mutant::amsgrad_not_stored>(r, "amsgrad_not_stored", "amsgrad max not stored (issue 78807)");
  add<mutant::adamw_decay_lr_bc1>(r, "adamw_decay_lr_bc1", "AdamW decay scaled by lr/bias_correction1");
  add<mutant::decay_swapped>(r, "decay_swapped", "L2 and decoupled decay swapped");
  add<mutant::empty_stops>(r, "empty_stops", "an empty tensor stops later updates (issue 100701)");
  add<mutant::bf16_step>(r, "bf16_step", "step counter in bfloat16 (torchao PR 4915)");
  add<mutant::maximize_ignored>(r, "maximize_ignored", "maximize ignored");
  add<mutant::simd_tail>(r, "simd_tail", "SIMD tail not updated");
  add<mutant::off_by_one_step>(r, "off_by_one_step", "bias correction from step + 1");
  // Not agreement bugs: the convergence gate's two directions (tests/e2e/gate_test.sh).
  add<mutant::rounding>(r, "rounding", "m = beta1*m + (1-beta1)*g: rounding differs, training does not");
  add<mutant::trains_worse>(r, "trains_worse", "effective lr scaled by 0.8: more steps to the target");
  // Speed-only plants, same results: the counted gate's (docs/speed.md, "Counted speed").
  add<mutant::scalar_loop>(r, "scalar_loop", "the SIMD loop lost: the scalar tail for everything");
  add<mutant::extra_v_pass>(r, "extra_v_pass", "an extra read pass over v every step");
  add<mutant::double_math>(r, "double_math", "float math done in double");
  add<mutant::temp_buffer>(r, "temp_buffer", "a temporary buffer allocated and filled each step");
  return adambench::cli_main(argc, argv, planted(r));
}
