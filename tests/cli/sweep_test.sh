#!/usr/bin/env bash
# `maqd sweep` and `maqd plot` end to end (issue 6's "done when"):
#  1. a sweep stopped halfway (SIGINT, as Ctrl-C) exits 130 with finished
#     runs intact and the running one checkpointed;
#  2. running it again skips finished runs (their files untouched), resumes
#     the interrupted one and finishes;
#  3. a sweep killed outright (SIGKILL) is finished by running it again;
#  4. deleting the summary tables and running `maqd plot` gives the same
#     bytes, and the plots exist;
#  5. a bad key is one clear error.
# Needs Debian's Fashion-MNIST and gnuplot (scripts/setup.sh installs both).
# Usage: sweep_test.sh path/to/maqd
set -uo pipefail
source "$(dirname "$0")/common.sh"

cat >"$dir/tiny.toml" <<'TOML'
description = "sweep_test.sh: three tiny runs"
[base]
arch = "(8C3)-AP-10C1-GAP"
train-limit = 3000
test-limit = 200
batch-size = 20
epochs = 8
augment = false
[[grid]]
mw = 0
ma = 0
[[grid]]
mw = 3
ma = [2, 4]
TOML
out=$dir/out
first="$out/mw=0,ma=0" second="$out/mw=3,ma=2" third="$out/mw=3,ma=4"

"$maqd" sweep "$dir/tiny.toml" --out "$out" --dry-run >"$dir/log" 2>&1 || fail "dry run failed"
[ "$(grep -c '^  new ' "$dir/log")" -eq 3 ] || fail "dry run should list 3 new runs"
[ ! -d "$out" ] || fail "a dry run created $out"

# 1. Stop while the second run has a checkpoint but is not finished. Its
# first checkpoint comes after epoch 1; 8 epochs leave the 0.1 s poll a
# margin of seven (3 epochs once let a faster build finish it first).
"$maqd" sweep "$dir/tiny.toml" --out "$out" --threads 1 >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [ -f "$second/checkpoint.pt" ] && break
  sleep 0.1
done
[ -f "$second/checkpoint.pt" ] || fail "the second run never wrote a checkpoint"
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] || fail "exit code $rc after SIGINT, expected 130"
[ -f "$first/summary.json" ] || fail "the first run is not finished"
[ ! -f "$second/summary.json" ] || fail "the second run finished before the interrupt (test too slow to stop it?)"
[ ! -f "$third/config.json" ] || fail "the third run started after the interrupt"
grep -q "interrupted: 1 of 3 runs done" "$dir/log" || fail "no 'interrupted' summary line"
first_sum=$(md5sum "$first/metrics.jsonl" "$first/checkpoint.pt" "$first/summary.json")

# 2. Again: skip, resume, finish.
"$maqd" sweep "$dir/tiny.toml" --out "$out" --threads 1 >"$dir/log" 2>&1 || fail "the resumed sweep failed"
grep -q "\[mw=0,ma=0\] done already: skipped" "$dir/log" || fail "the finished run was not skipped"
grep -q "\[mw=3,ma=2\] resumed" "$dir/log" || fail "the interrupted run was not resumed"
[ "$first_sum" = "$(md5sum "$first/metrics.jsonl" "$first/checkpoint.pt" "$first/summary.json")" ] ||
  fail "the finished run's files changed"
for run in "$first" "$second" "$third"; do
  [ -f "$run/summary.json" ] || fail "$run has no summary.json"
  [ "$(wc -l <"$run/metrics.jsonl")" -eq 8 ] || fail "$run/metrics.jsonl should hold 8 epochs"
done

# 3. SIGKILL the sweep during a run: the orphaned run checkpoints and stops;
#    the next sweep waits for it if needed, then resumes it.
rm -rf "$third"
"$maqd" sweep "$dir/tiny.toml" --out "$out" --threads 1 >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [ -f "$third/checkpoint.pt" ] && break
  sleep 0.1
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
"$maqd" sweep "$dir/tiny.toml" --out "$out" --threads 1 >"$dir/log" 2>&1 || fail "the sweep after SIGKILL failed"
[ -f "$third/summary.json" ] || fail "the killed run was not finished"
[ "$(wc -l <"$third/metrics.jsonl")" -eq 8 ] || fail "the killed run's metrics.jsonl should hold 8 epochs"

# 4. Tables reproduced byte for byte; plots drawn.
cp "$out/summary.csv" "$out/summary.md" "$dir/"
rm "$out/summary.csv" "$out/summary.md"
"$maqd" plot "$out" >"$dir/log" 2>&1 || fail "maqd plot failed"
cmp "$dir/summary.csv" "$out/summary.csv" || fail "summary.csv differs after maqd plot"
cmp "$dir/summary.md" "$out/summary.md" || fail "summary.md differs after maqd plot"
grep -q "^| 3 | 4 | 1 | 8/8 |" "$out/summary.md" || fail "summary.md lacks the (3, 4) row"
for png in curves vs-ma ra-layers; do
  [ -s "$out/plots/$png.png" ] || fail "no $png.png"
done
# Runs that differ only in M_a use the same tensor memory: a flat panel
# (once "Can't plot with an empty y range").
mkdir -p "$dir/same-arch" && cp -r "$second" "$third" "$dir/same-arch/"
"$maqd" plot "$dir/same-arch" >"$dir/log" 2>&1 || fail "maqd plot of runs with equal memory failed: $(tail -1 "$dir/log")"
python3 - "$dir/same-arch/plots/vs-ma.gp" <<'PY' || fail "vs-ma.gp has no flat panel drawn at ±5 %: $(grep yrange "$dir/same-arch/plots/vs-ma.gp")"
import re, sys
ranges = [tuple(map(float, m)) for m in re.findall(r"^set yrange \[(\S+):(\S+)\]$", open(sys.argv[1]).read(), re.M)]
assert any(abs((hi - lo) - 0.1 * max(1.0, (lo + hi) / 2)) < 1e-6 for lo, hi in ranges), ranges
PY
[ -s "$dir/same-arch/plots/vs-ma.png" ] || fail "no vs-ma.png for runs with equal memory"

# 5. A key that is no option of maqd train.
printf '[base]\nepoch = 3\n' >"$dir/bad.toml"
"$maqd" sweep "$dir/bad.toml" --out "$dir/bad" >"$dir/log" 2>&1 && fail "a bad key was accepted"
grep -q "unknown key 'epoch'" "$dir/log" || fail "the error does not name the key"
echo "PASS"
