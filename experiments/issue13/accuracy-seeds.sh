#!/usr/bin/env bash
# Issue 13's accuracy criterion: the issue-4 recipe (VGG 1/4, Fashion-MNIST,
# 5 epochs, with augmentation) for MaQD (15, 8) over several seeds, trained by
# the code before the integer-code convolutions (commit e30ff37) and by the
# current code, alternately, so that a difference can be set against the
# seed-to-seed spread. Resumable: finished runs are skipped, interrupted ones
# resumed. Usage: bash experiments/issue13/accuracy-seeds.sh [SEEDS...]
# MAQD_NOW_BIN names the current code's maqd (default build/bin/maqd; a
# copy keeps the runs independent of rebuilds while they train), and
# MAQD_NOW_ARGS what it gets beyond the recipe: by default
# `--lbn-shift-init zero`, the LBN start of the code before issue 16,
# which is not part of this comparison. Seeds 1 to 8 ran a binary frozen
# before issue 16 (runs/bin/maqd-now, which predates the flag; run it with
# MAQD_NOW_ARGS=).
set -euo pipefail
cd "$(dirname "$0")/../.."
before=e30ff37
before_tree=${MAQD_BEFORE_TREE:-../maqd-$before}
seeds=("$@")
(( ${#seeds[@]} )) || seeds=(1 2 3 0)

if [[ ! -x $before_tree/build/bin/maqd ]]; then
  [[ -d $before_tree ]] || git worktree add --detach "$before_tree" "$before"
  (cd "$before_tree" && bash scripts/build.sh --target maqd_cli)
fi
now_bin=${MAQD_NOW_BIN:-build/bin/maqd}
read -r -a now_args <<< "${MAQD_NOW_ARGS---lbn-shift-init zero}"
[[ -x $now_bin ]] || bash scripts/build.sh --target maqd_cli

train() {  # train BINARY OUT SEED [EXTRA ARGS...]
  local args=(--arch vgg --width 0.25 --epochs 5 --seed "$3" --threads 2 --mw 15 --ma 8 --out "$2" "${@:4}")
  if [[ -f $2/summary.json ]]; then echo "done: $2"; return; fi
  if [[ -f $2/checkpoint.pt ]]; then args+=(--resume); fi
  echo "train: $2 ($1)"
  "$1" train "${args[@]}"
}

for seed in "${seeds[@]}"; do
  train "$before_tree/build/bin/maqd" "runs/i13-seeds-before-s$seed" "$seed"
  train "$now_bin" "runs/i13-seeds-now-s$seed" "$seed" "${now_args[@]}"
done
