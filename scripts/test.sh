#!/usr/bin/env bash
# The test command of the README and of CI: installs what is missing, builds
# everything, runs the whole suite, then builds and tests the runtime alone
# (MAQD_RUNTIME_ONLY=ON) to prove it needs no LibTorch. That second build
# uses clang, so the runtime also compiles with a second compiler and the
# libFuzzer target of the model-file reader runs for a few seconds. The
# firmware test cross-compiles the runtime's core for a Cortex-M4 and runs it
# under QEMU (setup.sh --firmware installs the toolchain). Last, the runtime
# and its tests are cross-built for 64-bit ARM (cmake/aarch64-linux-gnu.cmake)
# and run under qemu-aarch64: its scalar kernels on a CPU that is not x86.
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
cmake -S . -B build-runtime-aarch64 -G Ninja -DCMAKE_BUILD_TYPE=Release -DMAQD_RUNTIME_ONLY=ON \
  -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DMAQD_GTEST_SOURCE_DIR=/usr/src/googletest
cmake --build build-runtime-aarch64 -j"$jobs"
ctest --test-dir build-runtime-aarch64 -j"$jobs" --output-on-failure
