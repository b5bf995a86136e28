// `eigen`: the shipped Eigen implementation (no planted bug).
#include "impls/eigen/eigen_adam_kernel.h"
#include "adambench/optimizer.h"
#include "adambench/register.h"

namespace adambench {

ADAMBENCH_REGISTER_IMPL("eigen",
       "Eigen packets, one fused pass per step, OpenMP threads over equal shares of all tensors",
       [](const adam_config&, const case_features& f) {
         return is_16bit(f.type) ? support::no("CPU implementation: only float32/float64") : support::yes();
       },
       [](const adam_config& c, const impl_options& o, dtype d) {
         return eigen_impl::make<eigen_impl::mutant::none>(c, o, d);
       });

}  // namespace adambench
