#!/usr/bin/env bash
# maqd bench for the four VGG-1/4 models of docs/results.md ("Against
# onnxruntime"), on this CPU's own path and pinned to AVX2, 2 threads,
# batches 1 and 100, 5 rounds; one raw file per model and path in OUT
# (default docs/results/issue14/round2). The run folders are this
# project's (runs/...); any checkpoints of the same architecture time the
# same, so where a run folder is missing (a fresh machine) a short training
# (one epoch on 6 000 images) makes one. MODELS and ISAS choose a subset, e.g.
#   MODELS="3-2 3-4" ISAS=avx2 bash experiments/issue14/bench-vgg025.sh OUT
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-docs/results/issue14/round2}
mkdir -p "$out" /tmp/maqd-bench
for spec in 3-2:i14-vgg025-mw3-ma2 3-4:mj-3-4-e2 15-8:i13b-fmnist-vgg025-mw15-ma8 255-8:i14-vgg025-mw255-ma8; do
  name=${spec%%:*}; run=runs/${spec##*:}
  [[ " ${MODELS:-$name} " == *" $name "* ]] || continue
  if [[ ! -f $run/checkpoint.pt ]]; then
    build/bin/maqd train --arch vgg --width 0.25 --mw "${name%-*}" --ma "${name#*-}" \
      --epochs 1 --train-limit 6000 --threads 2 --out "$run" > "$out/train-$name.txt" 2>&1
  fi
  model=/tmp/maqd-bench/vgg-$name.maqd
  build/bin/maqd export "$run" -o "$model" > /dev/null
  for isa in ${ISAS:-native avx2}; do
    pin=(); [[ $isa == avx2 ]] && pin=(MAQD_ISA=avx2)
    { echo "# ${pin[*]} build/bin/maqd bench $model --checkpoint $run --threads 2 --rounds 5   (maqd export $run -o $model first)"
      env "${pin[@]}" build/bin/maqd bench "$model" --checkpoint "$run" --threads 2 --rounds 5; } > "$out/bench-vgg025-$name-$isa.txt" 2>&1
  done
done
