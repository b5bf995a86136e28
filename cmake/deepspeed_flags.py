"""Prints what DeepSpeed's own CPU Adam builder would compile on this host, for cmake/deepspeed_cpu.cmake.

Usage: python3 deepspeed_flags.py SDIST_DIR
Loads op_builder/cpu/cpu_adam.py from the unpacked `deepspeed` sdist and asks its CPUAdamBuilder
(the builder DeepSpeed's CPU and CUDA accelerators both use for cpu_adam) for cxx_args(): -O3,
cpu_arch() (-march=native on x86), -fopenmp and simd_width() (-D__AVX512__, -D__AVX256__, ...),
which read the host's CPU flags through py-cpuinfo (Debian's python3-cpuinfo) or lscpu.
Prints three lines: the flags, the sources and the include folders, each '|'-separated.
"""
import contextlib
import sys

# The builder imports torch only to compile (TORCH_MAJOR for CUDA ops); CMake compiles here, so
# torch is hidden rather than imported: the builder prints its warning and goes on.
sys.modules["torch"] = None
sys.path.insert(0, sys.argv[1])
with contextlib.redirect_stdout(sys.stderr):  # the builder's warnings are prints
    from op_builder.cpu.cpu_adam import CPUAdamBuilder
    builder = CPUAdamBuilder()
    flags = builder.strip_empty_entries(builder.cxx_args())
    sources = builder.strip_empty_entries(builder.sources())
    includes = builder.strip_empty_entries(builder.include_paths())
print("|".join(flags))
print("|".join(sources))
print("|".join(includes))
