#!/usr/bin/env bash
# The paper's protocol as sweep files (experiments/paper/*.toml): every run
# of every file resolves to a valid `maqd train` configuration, and a few
# runs of each train for one step on generated CIFAR-format files (CIFAR-10:
# 1 label byte + 3072 pixels per record; CIFAR-100: coarse and fine labels).
# Usage: paper_sweeps_test.sh path/to/maqd path/to/experiments/paper
set -uo pipefail
source "$(dirname "$0")/common.sh"
paper=$2

# records FILE COUNT LABEL_BYTES: COUNT records with labels 0..9 (and 0..19 coarse).
records() {
  local file=$1 count=$2 label_bytes=$3 i
  : >"$file"
  for i in $(seq 0 $((count - 1))); do
    if [ "$label_bytes" -eq 2 ]; then printf "\\$(printf '%03o' $((i % 20)))" >>"$file"; fi
    printf "\\$(printf '%03o' $((i % 10)))" >>"$file"
    head -c 3072 /dev/urandom >>"$file"
  done
}
mkdir -p "$dir/cifar10" "$dir/cifar100"
for b in 1 2 3 4 5; do records "$dir/cifar10/data_batch_$b.bin" 4 1; done
records "$dir/cifar10/test_batch.bin" 4 1
records "$dir/cifar100/train.bin" 20 2
records "$dir/cifar100/test.bin" 4 2

files=("$paper"/*.toml)
[ "${#files[@]}" -ge 5 ] || fail "expected the 4 tables and Fig. 3 in $paper"
for file in "${files[@]}"; do
  name=$(basename "$file" .toml)
  data=$dir/cifar10
  grep -q '^data = "cifar100"' "$file" && data=$dir/cifar100
  "$maqd" sweep "$file" --dry-run >"$dir/log" 2>&1 || fail "$name: its runs do not resolve"
  # One run per setting of the first grid dimension is enough to exercise the file.
  only=(--only ma=2)
  case $name in fig3*) only=(--only batch-size=128) ;; esac
  "$maqd" sweep "$file" --out "$dir/$name" --threads 1 "${only[@]}" \
    --set device=cpu --set data-dir="$data" --set epochs=1 --set width=0.0625 \
    --set train-limit=20 --set test-limit=4 >"$dir/log" 2>&1 || fail "$name: the sweep failed"
  runs=$(find "$dir/$name" -name summary.json | wc -l)
  [ "$runs" -ge 3 ] || fail "$name: $runs runs finished, expected at least 3"
  grep -q "cifar" "$(find "$dir/$name" -name config.json | head -1)" || fail "$name: not a CIFAR run"
done
# The CPU-scale experiments (experiments/*.toml) resolve too.
for file in "$paper"/../*.toml; do
  "$maqd" sweep "$file" --dry-run >"$dir/log" 2>&1 || fail "$(basename "$file"): its runs do not resolve"
done
echo "PASS"
