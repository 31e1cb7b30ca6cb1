#!/usr/bin/env bash
# libmaqd installed as a user's own project consumes it: `cmake --install` of
# this build's components "runtime" and "library" into a fresh prefix, which
# is then moved (nothing installed may name where it was put, nor maqd's
# source or build tree), and examples/libmaqd configured, built and run
# against the moved copy alone, through find_package(maqd). The example
# trains, exports and runs a network; its figures must show it learned and
# that the runtime agrees with LibTorch.
# Usage: library_test.sh CMAKE BUILD_DIR SOURCE_DIR LIBDIR CXX_COMPILER GENERATOR VERSION OTHER_MINOR_VERSION
set -euo pipefail
cmake=$1 build=$2 source=$3 libdir=$4 cxx=$5 generator=$6 version=$7 other_version=$8
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for component in runtime library; do
  "$cmake" --install "$build" --prefix "$tmp/first" --component "$component" > "$tmp/install-$component.log"
done
for file in include/maqd/nn/network.h include/maqd/train/trainer.h include/maqd/export/export.h \
            include/maqd_rt/engine.hpp "$libdir/libmaqd.a" "$libdir/libmaqd_onnx.a" \
            "$libdir/cmake/maqd/maqd-config.cmake" "$libdir/cmake/maqd/maqd-config-version.cmake" \
            "$libdir/cmake/maqd/maqd-targets.cmake"; do
  [[ -f $tmp/first/$file ]] || fail "$file was not installed"
done
# The library's private headers (src/) and the tool stay out.
[[ -z $(find "$tmp/first/include" -path '*/src/*' -print -quit) ]] || fail "private headers installed"
[[ ! -e $tmp/first/bin/maqd ]] || fail "the maqd tool in the library component"
# The package files name paths relative to themselves only.
for place in "$tmp/first" "$build" "$source"; do
  if grep -rlF -- "$place" "$tmp/first/$libdir/cmake"; then fail "the package files above name $place"; fi
done
mkdir -p "$tmp/moved"
mv "$tmp/first" "$tmp/moved/prefix"
prefix=$tmp/moved/prefix

configure() {  # configure BUILD_FOLDER VERSION
  "$cmake" -S "$source/examples/libmaqd" -B "$1" -G "$generator" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix" -DMAQD_VERSION="$2"
}
# Another minor version is refused: 0.x releases may change the API.
if configure "$tmp/refused" "$other_version" > "$tmp/refused.log" 2>&1; then
  fail "find_package(maqd $other_version) accepted maqd $version"
fi
grep -q "maqd" "$tmp/refused.log" || fail "the refusal does not name maqd: $(cat "$tmp/refused.log")"

configure "$tmp/example" "$version" > "$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; fail "configure"; }
"$cmake" --build "$tmp/example" > "$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "build"; }
# Nothing of maqd's trees reached the compile and link lines: only the prefix did.
if grep -F -- "$build" "$tmp/example/CMakeCache.txt" "$tmp/example/build.ninja" "$tmp/example/compile_commands.json" 2>/dev/null; then
  fail "the example's build names maqd's build tree"
fi
(cd "$tmp" && "$tmp/example/train_quadrants" "$tmp/quadrants.maqd") > "$tmp/run.log" 2>&1 || { cat "$tmp/run.log"; fail "the example failed"; }
cat "$tmp/run.log"
[[ -s $tmp/quadrants.maqd ]] || fail "no model written"
# "test accuracy: LibTorch A %, runtime (ISA) B %": both at least 90 %
# (four classes: chance is 25 %).
read -r libtorch runtime < <(sed -n 's/^test accuracy: LibTorch \([0-9.]*\) %, runtime ([a-z0-9]*) \([0-9.]*\) %$/\1 \2/p' "$tmp/run.log")
[[ -n ${runtime:-} ]] || fail "no accuracy line"
awk -v a="$libtorch" -v b="$runtime" 'BEGIN { exit !(a >= 90 && b >= 90) }' || fail "accuracy below 90 %"
# The runtime agrees with LibTorch on (nearly) every prediction.
read -r matching total < <(sed -n 's/^runtime and LibTorch agree on \([0-9]*\) of \([0-9]*\) predictions$/\1 \2/p' "$tmp/run.log")
[[ -n ${total:-} && $total -gt 0 ]] || fail "no agreement line"
(( matching * 100 >= total * 99 )) || fail "runtime agrees on only $matching of $total"
echo "PASS"
