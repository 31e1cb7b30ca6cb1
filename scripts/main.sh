#!/usr/bin/env bash
# The main job of the README: installs what is missing, builds maqd, checks
# the operators, trains a small MaQD VGG (M_w = 3, M_a = 4, width 1/4) on part
# of Fashion-MNIST for two epochs (a few minutes on 2 cores), evaluates and
# describes it, exports it to an integer model file and runs that with the
# integer runtime. Pass extra `maqd train` flags to change the run, e.g.
# `bash scripts/main.sh --train-limit 0 --test-limit 0 --epochs 5` for the
# full data set.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh --target maqd_cli   # the tests and benchmarks build in scripts/test.sh
build/bin/maqd --version
build/bin/maqd selfcheck
out=runs/main-job
rm -rf "$out"
build/bin/maqd train --arch vgg --width 0.25 --mw 3 --ma 4 --epochs 2 \
  --train-limit 10000 --test-limit 2000 --threads 2 --out "$out" "$@"
build/bin/maqd eval "$out"
build/bin/maqd info "$out"
build/bin/maqd export "$out" -o "$out/model.maqd"
build/bin/maqd run "$out/model.maqd" --limit 2000 --threads 2
