#pragma once
/// adambench's public header: everything an implementation or a workload of another project needs,
/// and nothing of LibTorch. Register next to your code, link adambench::main, get the whole CLI:
///   #include <adambench/adambench.h>
///   ADAMBENCH_REGISTER_IMPL("my-adam", "what it is", supports_fn, make_fn);
/// See docs/extending.md and examples/external-impl/.
#include "adambench/config.h"
#include "adambench/errors.h"
#include "adambench/lowp.h"
#include "adambench/optimizer.h"
#include "adambench/register.h"
#include "adambench/tensor.h"
#include "adambench/workload.h"
