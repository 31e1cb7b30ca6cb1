#!/usr/bin/env bash
# Without a terminal (a log, CI) `maqd train` prints progress lines within
# the epoch: one per 10 % of it (or every 30 s), before the epoch's line.
# Needs Debian's Fashion-MNIST. Usage: progress_test.sh path/to/maqd
set -uo pipefail
source "$(dirname "$0")/common.sh"

# 2000 images in batches of 20: 100 steps, so a line at least every 10.
# --epochs twice: the later value wins (scripts/main.sh puts the user's
# arguments after its own).
"$maqd" train --arch "(8C3)-AP-10C1-GAP" --train-limit 2000 --test-limit 200 --batch-size 20 \
  --epochs 3 --epochs 1 --threads 1 --out "$dir/run" </dev/null >"$dir/log" 2>&1 || fail "training failed"
grep -q '"epochs": 1,' "$dir/run/config.json" || fail "a repeated --epochs did not take the last value"
lines=$(sed -n '/^epoch 1:/q;p' "$dir/log" | grep -c '^epoch 1/1 step [0-9]*/100 ')
[ "$lines" -ge 9 ] || fail "$lines progress lines before the epoch's line; expected at least 9"
grep -q '^epoch 1/1 step 100/100 (100%) loss [0-9.]* [0-9]* img/s, run ends in ' "$dir/log" ||
  fail "no final progress line in the expected form"
echo "PASS ($lines progress lines)"
