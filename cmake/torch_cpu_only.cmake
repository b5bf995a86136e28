# LibTorch from a PyPI `torch` wheel, CPU part only (scripts/setup.sh with ADAMBENCH_TORCH=pypi).
#
# The Linux wheel is a CUDA build: its TorchConfig.cmake includes Caffe2's cuda.cmake, which looks
# for a CUDA toolkit of the wheel's own CUDA version and fails against any other (nvcc 13 here) or
# none. Its CPU half needs none of that: libtorch_cpu.so and libc10.so carry every CPU kernel
# (including _fused_adam_'s CPU kernel) and load without the CUDA runtime. So this file defines the
# same variables find_package(Torch) would (TORCH_LIBRARIES, TORCH_INCLUDE_DIRS, TORCH_CXX_FLAGS)
# from the wheel's folder, linking torch_cpu and c10 only.
#
# In: ADAMBENCH_TORCH_CPU_PREFIX, the wheel's `torch` package folder (…/site-packages/torch).
set(_tp "${ADAMBENCH_TORCH_CPU_PREFIX}")
foreach(_f include/ATen/ATen.h include/torch/csrc/api/include/torch/version.h lib/libtorch_cpu.so lib/libc10.so)
  if(NOT EXISTS "${_tp}/${_f}")
    message(FATAL_ERROR "ADAMBENCH_TORCH_CPU_PREFIX=${_tp}: no ${_f} (expected the torch package folder of a wheel)")
  endif()
endforeach()
# The wheel's include folder also ships its own fmt (a newer major version than Debian's libfmt,
# which the rest of adambench links): its headers would shadow Debian's. So the build sees the
# wheel's include folder through a folder of links to every entry but fmt.
set(_ti "${CMAKE_BINARY_DIR}/torch-include")
file(REMOVE_RECURSE "${_ti}")
file(MAKE_DIRECTORY "${_ti}")
file(GLOB _entries RELATIVE "${_tp}/include" "${_tp}/include/*")
foreach(_e ${_entries})
  if(NOT _e STREQUAL "fmt")
    file(CREATE_LINK "${_tp}/include/${_e}" "${_ti}/${_e}" SYMBOLIC)
  endif()
endforeach()
add_library(adambench_torch_cpu INTERFACE IMPORTED)
set(TORCH_INCLUDE_DIRS "${_ti}" "${_tp}/include/torch/csrc/api/include")
set_target_properties(adambench_torch_cpu PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${TORCH_INCLUDE_DIRS}"
  INTERFACE_LINK_LIBRARIES "${_tp}/lib/libtorch_cpu.so;${_tp}/lib/libc10.so")
# The wheel's libraries find each other through their own RUNPATH ($ORIGIN); the executable
# finds them through its build RUNPATH, which CMake sets from the full library paths above.
set(TORCH_LIBRARIES adambench_torch_cpu)
# The C++ ABI the wheel was built with: the same test TorchConfig.cmake makes, from libc10's symbols.
file(STRINGS "${_tp}/lib/libc10.so" _cxx11 REGEX "__cxx11" LIMIT_COUNT 1)
if(_cxx11)
  set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=1")
else()
  set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=0")
endif()
message(STATUS "LibTorch (CPU only) from ${_tp}; ${TORCH_CXX_FLAGS}")
