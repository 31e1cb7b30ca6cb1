#!/usr/bin/env bash
# Copies a sweep's finished runs' metrics (no checkpoints) into docs/results/sweeps/NAME and
# draws its tables and plots there with `maqd plot`, so that docs/results.md
# shows only what the committed files reproduce.
# Usage: scripts/publish_sweep.sh NAME   (reads sweeps/NAME, i.e. experiments/NAME.toml's output)
set -euo pipefail
name=${1:?usage: scripts/publish_sweep.sh NAME}
root=$(cd "$(dirname "$0")/.." && pwd)
from=$root/sweeps/$name
to=$root/docs/results/sweeps/$name
[ -d "$from" ] || { echo "no sweep folder $from" >&2; exit 1; }
mkdir -p "$to"
cp "$from/sweep.toml" "$to/" 2>/dev/null || true
for config in "$from"/*/config.json; do
  run=$(basename "$(dirname "$config")")
  # Finished runs only: a run still training is published when it ends.
  [ -f "$from/$run/summary.json" ] || continue
  mkdir -p "$to/$run"
  for f in config.json metrics.jsonl summary.json command.txt; do
    [ -f "$from/$run/$f" ] && cp "$from/$run/$f" "$to/$run/"
  done
done
"$root/build/bin/maqd" plot "$to"
