#!/usr/bin/env bash
# The package as another repository uses it: install this build into a temporary prefix, build
# examples/external-impl/ against it (find_package(adambench), one file, adambench::main), run its
# agreement suite: a correct implementation passes (exit 0), the planted bug fails (exit 1).
BUILD=$1 EXPECT=$2 SRC=$3
source "$(dirname "$0")/lib.sh"
ex=$SRC/examples/external-impl
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)

assert "install into a prefix" cmake --install "$BUILD" --prefix "$tmp/prefix"
assert "public header installed" test -f "$tmp/prefix/include/adambench/adambench.h"
assert "package config installed" test -f "$tmp/prefix/lib/cmake/adambench/adambenchConfig.cmake"
assert "no LibTorch in the public headers" bash -c "! grep -rlE 'torch/|ATen/|c10/' '$tmp/prefix/include/adambench'"
assert "the installed headers are include/adambench/ of the tree, nothing else" \
  diff <(cd "$SRC/include" && find . -type f | sort) <(cd "$tmp/prefix/include" && find . -type f | sort)
# Public headers name only each other (adambench/NAME.h) and the standard library (<name>, no
# folder): a bare "core/..." or "workloads/..." resolves in the tree but not for another project.
foreign_includes() {  # prints the #include lines under $1 that name anything else; fails if any
  local bad
  bad=$(grep -rnE '^\s*#\s*include' "$1" | grep -vE '#\s*include\s*("adambench/[a-z_]+\.h"|<adambench/[a-z_]+\.h>|<[a-z_0-9]+>)')
  [ -z "$bad" ] || { echo "$bad"; return 1; }
}
assert "installed headers include only adambench/... and standard headers" foreign_includes "$tmp/prefix/include"
for h in "$tmp"/prefix/include/adambench/*.h; do
  assert "adambench/$(basename "$h") compiles alone from the prefix" \
    c++ -std=c++20 -fsyntax-only -I"$tmp/prefix/include" -x c++ -include "$h" /dev/null
done
# The external implementation compiles with the installed headers alone: no LibTorch, Eigen or CUDA path.
assert "a CPU implementation compiles without LibTorch headers" c++ -std=c++20 -fsyntax-only \
  -I"$tmp/prefix/include" "$ex/my_adam.cpp"

for variant in correct planted; do
  bug=OFF; [ $variant = planted ] && bug=ON
  assert "configure ($variant)" cmake -S "$ex" -B "$tmp/b-$variant" "${gen[@]}" "${launcher[@]}" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$tmp/prefix" -DMY_ADAM_PLANTED_BUG=$bug
  assert "build ($variant)" cmake --build "$tmp/b-$variant" -j 2
done
bin=$tmp/b-correct/my-bench
check "the external implementation is registered next to the built-ins" 0 --stdout "^my-adam .*external" -- "$bin" list
check "built-in implementations are there too" 0 --stdout "^eigen " -- "$bin" list
check "correct implementation passes its suite" 0 --stdout "agree: [1-9][0-9]* passed, 0 failed" -- \
  "$bin" agree --quiet "$ex/suite.toml"
check "planted bug (eps inside the sqrt) fails it" 1 --stdout "agree: [0-9]+ passed, [1-9][0-9]* failed" -- \
  "$tmp/b-planted/my-bench" agree --quiet "$ex/suite.toml"
finish
