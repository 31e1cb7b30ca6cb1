#!/usr/bin/env bash
# Configures and builds maqd in ./build (Release, Ninja, ccache when present).
# `--target NAME` first builds only that target and what it needs (the main
# job builds just the maqd tool, maqd_cli); other arguments go to the
# configure step, e.g. -DCMAKE_PREFIX_PATH=/opt/libtorch.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${MAQD_JOBS:-2}
target=()
if [[ ${1:-} == --target ]]; then
  target=(--target "$2")
  shift 2
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j"$jobs" "${target[@]}"
