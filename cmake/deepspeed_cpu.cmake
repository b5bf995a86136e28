# DeepSpeed's CPU Adam (the `deepspeed-cpu` peer, bench/impls/deepspeed/), compiled from the PyPI
# `deepspeed` sdist's own C++ sources, which scripts/setup.sh unpacks into the current-LibTorch
# virtual environment (ADAMBENCH_TORCH=pypi). Nothing of DeepSpeed is in this repository.
#
# In: ADAMBENCH_DEEPSPEED_SRC, the unpacked sdist (empty: not fetched).
# Out: target adambench_deepspeed_cpu (csrc/adam/cpu_adam_impl.cpp with DeepSpeed's flags),
#      ADAMBENCH_DEEPSPEED_FLAGS, _INCLUDES and _VERSION when the sources are there and usable; otherwise
#      ADAMBENCH_DEEPSPEED_SKIP, the reason every deepspeed-cpu case is a recorded skip. A missing
#      or unusable sdist never fails the build: the default Debian build/ has none.
set(ADAMBENCH_DEEPSPEED_SRC "" CACHE PATH "An unpacked PyPI deepspeed sdist: build DeepSpeed's CPU Adam as `deepspeed-cpu` (docs/speed.md)")
set(ADAMBENCH_DEEPSPEED_SKIP "")
set(_ds "${ADAMBENCH_DEEPSPEED_SRC}")
if(NOT _ds)
  set(ADAMBENCH_DEEPSPEED_SKIP "built without DeepSpeed's sources: ADAMBENCH_TORCH=pypi scripts/setup.sh fetches the PyPI deepspeed sdist for build-torch/ (docs/speed.md)")
elseif(NOT ADAMBENCH_TORCH_CPU_PREFIX)
  # DeepSpeed follows current torch (it picks -std=c++20 from torch 2.12 on); 1.13 is not a target.
  set(ADAMBENCH_DEEPSPEED_SKIP "DeepSpeed's sources are built against the current LibTorch only (build-torch/), not ${Torch_VERSION}")
else()
  foreach(_f version.txt csrc/adam/cpu_adam_impl.cpp csrc/includes/cpu_adam.h op_builder/cpu/cpu_adam.py)
    if(NOT EXISTS "${_ds}/${_f}")
      set(ADAMBENCH_DEEPSPEED_SKIP "ADAMBENCH_DEEPSPEED_SRC=${_ds} has no ${_f} (expected an unpacked deepspeed sdist)")
      break()
    endif()
  endforeach()
endif()

if(NOT ADAMBENCH_DEEPSPEED_SKIP)
  # The flags DeepSpeed's own builder picks for this host (CPUAdamBuilder.cxx_args()).
  execute_process(COMMAND /usr/bin/python3 "${PROJECT_SOURCE_DIR}/cmake/deepspeed_flags.py" "${_ds}"
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT _rc EQUAL 0)
    string(REGEX MATCH "[^\n]+\n*$" _last "${_err}")  # a traceback's last line names the error
    string(STRIP "${_last}" _last)
    set(ADAMBENCH_DEEPSPEED_SKIP "DeepSpeed's CPUAdamBuilder (op_builder/cpu/cpu_adam.py in ${_ds}) could not be asked for its flags: ${_last}")
  else()
    string(REGEX MATCHALL "[^\n]+" _lines "${_out}")
    list(GET _lines 0 _flags)
    list(GET _lines 1 _sources)
    string(REPLACE "|" ";" ADAMBENCH_DEEPSPEED_FLAGS "${_flags}")
    string(REPLACE "|" ";" _sources "${_sources}")
    if(NOT "csrc/adam/cpu_adam_impl.cpp" IN_LIST _sources)
      set(ADAMBENCH_DEEPSPEED_SKIP "DeepSpeed's CPUAdamBuilder no longer builds csrc/adam/cpu_adam_impl.cpp (its sources: ${_sources}): adambench's wrapper needs updating")
    endif()
  endif()
endif()

if(NOT ADAMBENCH_DEEPSPEED_SKIP)
  file(STRINGS "${_ds}/version.txt" ADAMBENCH_DEEPSPEED_VERSION LIMIT_COUNT 1)
  # torch/extension.h is torch/all.h plus the Python binding (torch/python.h, Python.h). Only the
  # module definition, csrc/adam/cpu_adam.cpp (PYBIND11_MODULE: adam_update -> ds_adam_step), needs
  # the Python half, and adambench calls ds_adam_step directly: so that file is not compiled, and
  # DeepSpeed's `#include <torch/extension.h>` finds a header that includes torch/all.h only.
  set(_shim "${CMAKE_BINARY_DIR}/deepspeed-include")
  file(CONFIGURE OUTPUT "${_shim}/torch/extension.h" CONTENT
       "#pragma once\n// Written by cmake/deepspeed_cpu.cmake: torch/extension.h without its Python binding.\n#include <torch/all.h>\n")
  # Private include folders (DeepSpeed's csrc/includes has generic names: context.h, Timer.h).
  set(ADAMBENCH_DEEPSPEED_INCLUDES "${_shim};${_ds}/csrc/includes")
  add_library(adambench_deepspeed_cpu STATIC "${_ds}/csrc/adam/cpu_adam_impl.cpp")
  target_include_directories(adambench_deepspeed_cpu PRIVATE ${ADAMBENCH_DEEPSPEED_INCLUDES})
  # PRIVATE: DeepSpeed's flags for its own file; bench/impls/deepspeed/ adds the same to the one
  # file that includes cpu_adam.h (its SIMD types depend on them). -w: DeepSpeed's own warnings.
  target_compile_options(adambench_deepspeed_cpu PRIVATE ${ADAMBENCH_DEEPSPEED_FLAGS} -w)
  target_link_libraries(adambench_deepspeed_cpu PUBLIC ${TORCH_LIBRARIES} OpenMP::OpenMP_CXX)
  message(STATUS "deepspeed-cpu: DeepSpeed ${ADAMBENCH_DEEPSPEED_VERSION} from ${_ds}, DeepSpeed's flags: ${ADAMBENCH_DEEPSPEED_FLAGS}")
else()
  message(STATUS "deepspeed-cpu: a recorded skip: ${ADAMBENCH_DEEPSPEED_SKIP}")
endif()
