#!/usr/bin/env bash
# Configures and builds maqd in ./build (Release, Ninja, ccache when present).
# Extra arguments go to the configure step, e.g. -DCMAKE_PREFIX_PATH=/opt/libtorch.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${MAQD_JOBS:-2}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j"$jobs"
