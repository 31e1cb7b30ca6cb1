#!/usr/bin/env bash
# Does the thread count change what training computes? Trains the same
# short (15, 8) VGG-1/4 run (seed 5, 600 Fashion-MNIST images, 6 steps) at
# fixed thread counts (by default 1 twice, then 2, 3 and 4) and prints how many parameters
# and buffers of each checkpoint differ from the first one's, and by how
# much. Needs build/bin/maqd (MAQD_BIN) and a python3 with torch (PYTHON;
# Debian's python3-torch: scripts/setup.sh --bench).
#
#   bash experiments/threads/compare.sh OUTDIR [THREADS...]   (default: 1 1 2 3 4)
set -euo pipefail
out=${1:?usage: compare.sh OUTDIR [THREADS...]}
shift
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1 1 2 3 4)
maqd=${MAQD_BIN:-build/bin/maqd}
mkdir -p "$out"
echo "$(date -u +%FT%TZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-) ($(nproc) cores); $maqd"
runs=()
for i in "${!counts[@]}"; do
  run="$out/threads${counts[$i]}-run$i"
  rm -rf "$run"
  MAQD_FIXED_THREADS=1 "$maqd" train --arch vgg --width 0.25 --mw 15 --ma 8 --epochs 1 \
    --threads "${counts[$i]}" --train-limit 600 --test-limit 200 --seed 5 --out "$run" > "$run.log" 2>&1
  runs+=("$run")
done
"${PYTHON:-python3}" - "${runs[@]}" <<'PY'
import sys
import torch

def tensors(run):
    module = torch.jit.load(f"{run}/checkpoint.pt")
    return dict(list(module.named_parameters()) + list(module.named_buffers()))

first = tensors(sys.argv[1])
for run in sys.argv[2:]:
    other = tensors(run)
    assert other.keys() == first.keys(), f"{run}: other tensors than {sys.argv[1]}"
    differing = total = 0
    largest = 0.0
    for name, value in first.items():
        d = (value.double() - other[name].double()).abs()
        total += d.numel()
        differing += int((d > 0).sum())
        largest = max(largest, float(d.max()))
    print(f"{run} against {sys.argv[1]}: {differing} of {total} values differ, largest by {largest:.3g}")
PY
