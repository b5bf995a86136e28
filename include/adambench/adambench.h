#pragma once
/// adambench's public header: everything an implementation or a workload of another project needs,
/// and nothing of LibTorch. Register next to your code, link adambench::main, get the whole CLI:
///   #include <adambench/adambench.h>
///   ADAMBENCH_REGISTER_IMPL("my-adam", "what it is", supports_fn, make_fn);
/// See docs/extending.md and examples/external-impl/.
#include "core/adam_config.h"
#include "core/lowp.h"
#include "core/optimizer.h"
#include "core/tensor.h"
#include "workloads/workload.h"
