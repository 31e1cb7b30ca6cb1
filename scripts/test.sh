#!/usr/bin/env bash
# The test command of the README and of CI: installs what is missing, builds
# everything, runs the whole suite, then builds and tests the runtime alone
# (MAQD_RUNTIME_ONLY=ON) to prove it needs no LibTorch. That second build
# uses clang, so the runtime also compiles with a second compiler and the
# libFuzzer target of the model-file reader runs for a few seconds. The
# firmware test cross-compiles the runtime's core for a Cortex-M4 and runs it
# under QEMU (setup.sh --firmware installs the toolchain). Last, the runtime
# and its tests are cross-built for 64-bit and 32-bit ARM Linux
# (cmake/linux-cross.cmake) and run under QEMU: its scalar kernels on CPUs
# that are not x86, and its file checks with a 32-bit size_t.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${MAQD_JOBS:-2}
bash scripts/setup.sh --firmware --cross
bash scripts/build.sh
ctest --test-dir build -j"$jobs" --output-on-failure --timeout 300
runtime_compilers=()
if command -v clang++-14 >/dev/null; then
  runtime_compilers=(-DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14)
fi
cmake -S . -B build-runtime-only -G Ninja -DCMAKE_BUILD_TYPE=Release -DMAQD_RUNTIME_ONLY=ON \
  "${runtime_compilers[@]}"
cmake --build build-runtime-only -j"$jobs"
ctest --test-dir build-runtime-only -j"$jobs" --output-on-failure
for triple in aarch64-linux-gnu arm-linux-gnueabihf; do
  cmake -S . -B "build-runtime-$triple" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMAQD_RUNTIME_ONLY=ON \
    -DCMAKE_TOOLCHAIN_FILE=cmake/linux-cross.cmake -DMAQD_CROSS_TRIPLE="$triple" \
    -DMAQD_GTEST_SOURCE_DIR=/usr/src/googletest
  cmake --build "build-runtime-$triple" -j"$jobs"
  ctest --test-dir "build-runtime-$triple" -j"$jobs" --output-on-failure
done
