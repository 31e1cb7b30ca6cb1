#!/usr/bin/env bash
# Installs every Debian package that maqd's build, tests and main job need.
# Safe to run any number of times: apt-get skips what is already installed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev                 # LibTorch 1.13 (CPU) for the training library
  libdnnl-dev                  # oneDNN headers: MaQD forward convs on integer codes
  libgtest-dev libgmock-dev    # tests
  libbenchmark-dev             # benchmarks
  libcli11-dev nlohmann-json3-dev libtomlplusplus-dev libfmt-dev zlib1g-dev
  libpng-dev libjpeg-dev       # PNG and JPEG images of folder data sets and maqd run
  dataset-fashion-mnist        # the main job's data set
  gnuplot-nox                  # maqd plot
  clang-14 libclang-rt-14-dev  # the runtime's second compiler and libFuzzer (fuzz/)
  libonnx-dev libprotobuf-dev  # maqd export --format onnx|onnx-int8
  libgloo-dev                  # data-parallel training over c10d (train/distributed.cpp)
  nodejs                       # onnxruntime-node (tools/onnxruntime): ONNX tests, maqd bench
  python3                      # tools/check-kernel-loops.py (CTest runtime_kernel_loops)
)
# npm installs onnxruntime-node below; a Node.js from elsewhere (e.g.
# NodeSource) brings its own npm, which Debian's npm package conflicts with.
command -v npm >/dev/null || packages+=(npm)

# `setup.sh --bench` adds what the benchmarks need beyond the build: the
# PyTorch that bench_training's peer script runs on, and perf for profiles.
# `setup.sh --firmware` adds the Cortex-M cross toolchain and QEMU that the
# firmware test (tests/firmware) needs; the test command passes it, the main
# job does not need it. `setup.sh --cross` adds the 64-bit and 32-bit ARM
# Linux cross compilers, QEMU's user-mode emulator and GoogleTest's sources,
# with which the test command builds the runtime and its tests for ARM and
# runs them.
for option in "$@"; do
  case $option in
    --bench) packages+=(python3-torch linux-perf) ;;
    --firmware)
      packages+=(gcc-arm-none-eabi picolibc-arm-none-eabi libstdc++-arm-none-eabi-picolibc qemu-system-arm) ;;
    --cross) packages+=(g++-aarch64-linux-gnu g++-arm-linux-gnueabihf qemu-user googletest) ;;
    *) echo "setup.sh: unknown option '$option'; expected --bench, --firmware or --cross" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  echo "setup: installing ${missing[*]}"
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi

# onnxruntime for the ONNX tests and `maqd bench`: the npm package, pinned by
# tools/onnxruntime/package-lock.json. Its CPU library ships in the package;
# ONNXRUNTIME_NODE_INSTALL=skip stops its install script fetching the CUDA
# provider from NuGet (not reachable from CI, not needed on a CPU).
ort_dir="$(cd "$(dirname "$0")/../tools/onnxruntime" && pwd)"
if [[ ! -d $ort_dir/node_modules/onnxruntime-node ]]; then
  echo "setup: installing onnxruntime-node into tools/onnxruntime"
  (cd "$ort_dir" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error)
fi
