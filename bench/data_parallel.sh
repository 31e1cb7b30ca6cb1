#!/usr/bin/env bash
# Data-parallel training against one process, on the same cores, in one run:
# `maqd train` as 1 process × 2 threads and as 2 processes × 1 thread
# (--nproc 2), VGG ¼ on Fashion-MNIST, alternating rounds; prints each
# round's training images/s (metrics.jsonl, evaluation not counted), the
# medians with their range, and the ratio. Usage:
#   bash bench/data_parallel.sh [ROUNDS] [extra maqd train options...]
# MAQD names the maqd binary (default build/bin/maqd); TRAIN_LIMIT the
# images per epoch (default 4000). Defaults train the main job's (3, 4).
set -euo pipefail
cd "$(dirname "$0")/.."
maqd=${MAQD:-build/bin/maqd}
rounds=${1:-3}
shift || true
limit=${TRAIN_LIMIT:-4000}
[[ -x $maqd ]] || { echo "no $maqd: build it first (bash scripts/build.sh --target maqd_cli)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

base=(train --arch vgg --width 0.25 --mw 3 --ma 4 --epochs 1 --train-limit "$limit" --test-limit 200
      --batch-size 100 --seed 1 "$@")
isa=avx2; grep -q avx512bw /proc/cpuinfo && isa=avx512
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores," \
     "best ISA $isa; MAQD_ISA=${MAQD_ISA:-unset (fused kernels run the best)}"
echo "maqd ${base[*]}"
images_per_second() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["images_per_second"])' "$1/metrics.jsonl"; }
declare -a single pair
for round in $(seq 1 "$rounds"); do
  "$maqd" "${base[@]}" --threads 2 --out "$work/single-$round" >/dev/null
  single+=("$(images_per_second "$work/single-$round")")
  "$maqd" "${base[@]}" --nproc 2 --threads 2 --out "$work/pair-$round" >/dev/null
  pair+=("$(images_per_second "$work/pair-$round")")
  printf 'round %d: 1 process x 2 threads %.1f img/s, 2 processes x 1 thread %.1f img/s\n' \
         "$round" "${single[-1]}" "${pair[-1]}"
done
python3 - "${single[*]}" "${pair[*]}" <<'PY'
import statistics, sys
single = [float(v) for v in sys.argv[1].split()]
pair = [float(v) for v in sys.argv[2].split()]
def show(name, v):
    print(f"{name}: median {statistics.median(v):.1f} img/s [{min(v):.1f}-{max(v):.1f}] over {len(v)} rounds")
show("1 process x 2 threads  ", single)
show("2 processes x 1 thread ", pair)
print(f"ratio (2 processes / 1 process), medians: {statistics.median(pair) / statistics.median(single):.2f}x")
PY
