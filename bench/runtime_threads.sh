#!/usr/bin/env bash
# Batch-1 latency of maqd-rt at 1 and 2 threads on two free cores, on one
# core (taskset -c 0: more threads than cores) and at 4 threads on two
# cores, for each maqd-rt binary given (e.g. before and after a change to
# the thread pool), alternating, in one run.
# usage: bench/runtime_threads.sh MODEL.maqd MAQD_RT [MAQD_RT...] [--rounds N]
set -euo pipefail
model=$1
shift
rounds=3
binaries=()
while [[ $# -gt 0 ]]; do
  if [[ $1 == --rounds ]]; then rounds=$2; shift 2; else binaries+=("$1"); shift; fi
done
[[ ${#binaries[@]} -gt 0 ]] || { echo "usage: $0 MODEL.maqd MAQD_RT [MAQD_RT...] [--rounds N]" >&2; exit 2; }
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores; model $model"
for binary in "${binaries[@]}"; do echo "$binary: $(MAQD_ISA= "$binary" --version 2>&1 | head -1)"; done
median() { "$@" 2>&1 | tail -1 | sed -n 's/.*median \([0-9.]*\),.*/\1/p'; }
for round in $(seq "$rounds"); do
  for binary in "${binaries[@]}"; do
    printf 'round %d %-28s 1 thread %s ms, 2 threads %s ms, 2 threads on 1 core %s ms, 4 threads %s ms\n' \
      "$round" "$binary" \
      "$(median "$binary" "$model" --threads 1 --bench 1)" \
      "$(median "$binary" "$model" --threads 2 --bench 1)" \
      "$(median taskset -c 0 "$binary" "$model" --threads 2 --bench 1)" \
      "$(median "$binary" "$model" --threads 4 --bench 1)"
  done
done
