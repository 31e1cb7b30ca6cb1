#!/usr/bin/env bash
# The runtime-agreement table of docs/results.md ("Integer runtime, Agreement
# with LibTorch"), rerun with every command's output kept: VGG 1/4 and
# PreActResNet-18 1/4 on Fashion-MNIST at (3, 2), (3, 4), (15, 8), (255, 8),
# trained here (VGG: 2 epochs, all 60 000 images; PreActResNet: 2 epochs on
# 10 000 images, no augmentation), exported, and run by maqd-rt on the whole
# test set against LibTorch in float32 and, for (255, 8), float64.
# (The VGG (3, 4) model is runs/mj-3-4-e2 where it exists: the same recipe.)
# Resumable: trained runs and written files are kept.
# Usage: bash experiments/issue16/agreement.sh [OUT]   (default docs/results/issue16/agreement)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-docs/results/issue16/agreement}
maqd=${MAQD_BIN:-build/bin/maqd}
mkdir -p "$out" runs/i16-models
for arch in vgg preact-resnet; do
  for levels in 3-2 3-4 15-8 255-8; do
    mw=${levels%-*}; ma=${levels#*-}
    name=i16-$arch-025-mw$mw-ma$ma
    run=runs/$name
    # The VGG (3, 4) run of the README's main job has this recipe already.
    [[ $arch == vgg && $levels == 3-4 && -f runs/mj-3-4-e2/summary.json ]] && run=runs/mj-3-4-e2
    args=(--arch "$arch" --width 0.25 --epochs 2 --augment false --mw "$mw" --ma "$ma" --threads 2 --out "$run")
    [[ $arch == preact-resnet ]] && args+=(--train-limit 10000)
    if [[ ! -f $run/summary.json ]]; then
      # A resumed run appends to the log of the part already trained.
      if [[ -f $run/checkpoint.pt ]]; then
        "$maqd" train "${args[@]}" --resume >> "$out/$name-train.txt" 2>&1
      else
        "$maqd" train "${args[@]}" > "$out/$name-train.txt" 2>&1
      fi
    fi
    model=runs/i16-models/$name.maqd
    "$maqd" export "$run" -o "$model" > "$out/$name-export.txt" 2>&1
    references=(float32)
    [[ $mw == 255 ]] && references+=(float64)
    for ref in "${references[@]}"; do
      file=$out/$name-compare-$ref.txt
      [[ -s $file ]] && continue
      { echo "# $maqd run $model --compare $run --reference $ref"
        "$maqd" run "$model" --compare "$run" --reference "$ref"; } > "$file.part" 2>&1
      mv "$file.part" "$file"
    done
  done
done
