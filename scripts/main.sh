#!/usr/bin/env bash
# The main job of the README: installs what is missing, builds the maqd tool,
# checks the operators, trains a MaQD VGG (width 1/4, M_w = 15 weight levels,
# M_a = 8 activation levels) on the whole Fashion-MNIST training set for one
# epoch (about 2 minutes on 2 cores; 86.2-86.8 % test accuracy measured), then
# evaluates and describes it, exports it to an integer model file, runs that
# with the integer runtime on the whole test set (checking every layer's
# codes against LibTorch's float evaluation) and times it against the float
# network in onnxruntime and LibTorch. Extra arguments go to `maqd train`,
# e.g. `bash scripts/main.sh --mw 3 --ma 4 --epochs 2` for ternary weights.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh --target maqd_cli   # the tests and benchmarks build in scripts/test.sh
build/bin/maqd --version
build/bin/maqd selfcheck
out=runs/main-job
rm -rf "$out"
build/bin/maqd train --arch vgg --width 0.25 --mw 15 --ma 8 --epochs 1 --augment false \
  --threads 2 --out "$out" "$@"
build/bin/maqd eval "$out"
build/bin/maqd info "$out"
build/bin/maqd export "$out" -o "$out/model.maqd"
build/bin/maqd run "$out/model.maqd" --threads 2 --compare "$out"
build/bin/maqd bench "$out/model.maqd" --checkpoint "$out" --batch 100 --threads 2 --rounds 3 --seconds 0.5
