#!/usr/bin/env bash
# Why ternary-weight VGG 1/8 sat at chance (issue 16), measured: the
# README-sized reproduction (3 000 training images, 3 epochs, M_w = 3,
# M_a = 8, which sat at chance for two epochs on every seed tried) for seeds
# 0-3 with LBN's shifts started at zero (the old recipe) and centred (the
# new default), each tracing its first 90 steps (--trace-steps: per-layer
# weight-gradient norms, R_w, R_a). Then the trace summary.
# Usage: bash experiments/issue16/stuck-diagnosis.sh [OUT]   (default docs/results/issue16/stuck)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-docs/results/issue16/stuck}
maqd=${MAQD_BIN:-build/bin/maqd}
mkdir -p "$out"
for init in zero centered; do
  for seed in 0 1 2 3; do
    run=$out/repro-$init-s$seed
    [[ -f $run/summary.json ]] && continue
    rm -rf "$run"
    "$maqd" train --arch vgg --width 0.125 --mw 3 --ma 8 --augment false --epochs 3 \
      --train-limit 3000 --seed "$seed" --threads 1 --trace-steps 90 --lbn-shift-init "$init" \
      --out "$run" > /dev/null
    rm -f "$run/checkpoint.pt"
  done
done
python3 experiments/issue16/trace_summary.py "$out"/repro-*/ > "$out/summary.txt"
cat "$out/summary.txt"
