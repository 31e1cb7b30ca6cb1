#!/usr/bin/env bash
# Issue 18's speed check: maqd-rt before the core/hosted split (commit
# 80c45c6) and now, in alternating invocations of `maqd bench` on VGG 1/4
# (3, 2) and (15, 8), batch 1 and 100, 1 and 2 threads; prints maqd-rt's
# line of each (images/s, median [min-max] of its rounds).
#
#   bash experiments/issue18/bench_split.sh BEFORE_MAQD AFTER_MAQD [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
before=$1 after=$2 alternations=${3:-2}
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); MAQD_ISA=${MAQD_ISA:-unset}"
for model in mw3-ma2 mw15-ma8; do
  run=runs/i16-vgg-025-$model
  file=runs/i16-models/i16-vgg-025-$model.maqd
  for ((a = 1; a <= alternations; ++a)); do
    for side in before after; do
      bin=$before
      [[ $side == after ]] && bin=$after
      echo "== $model, $side ($bin), alternation $a"
      "$bin" bench "$file" --checkpoint "$run" --without-onnxruntime --rounds 3 2>&1 |
        grep -E "^threads|maqd-rt"
    done
  done
done
