#!/usr/bin/env bash
# The CLI's Ctrl-C path end to end: `maqd train` on a SIGINT saves a
# checkpoint, says how to continue and exits with 130; `--resume` refuses
# to change the run's options and then finishes the run. Needs Debian's
# Fashion-MNIST (scripts/setup.sh installs it).
# Usage: train_interrupt_test.sh path/to/maqd
set -uo pipefail
source "$(dirname "$0")/common.sh"

args=(--arch "(8C3)-AP-10C1-GAP" --train-limit 20000 --test-limit 200 --batch-size 10
      --epochs 1 --threads 1 --out "$dir/run")
"$maqd" train "${args[@]}" >"$dir/log" 2>&1 &
pid=$!
# Interrupt once training has started (the progress line follows "data:").
for _ in $(seq 1 300); do
  grep -q "^data:" "$dir/log" && break
  sleep 0.1
done
sleep 1
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] || fail "exit code $rc after SIGINT, expected 130"
grep -q "interrupted: checkpoint saved" "$dir/log" || fail "no 'interrupted' message"
grep -q "^maqd train: stopping after this step, with a checkpoint (Ctrl-C again stops at once, without one)$" "$dir/log" ||
  fail "the Ctrl-C was not acknowledged when it came"
[ -f "$dir/run/checkpoint.pt" ] || fail "no checkpoint after SIGINT"
[ ! -f "$dir/run/summary.json" ] || fail "summary.json written by an interrupted run"

# A resumed run keeps its options: a new value for one is refused, with the
# checkpoint untouched; the same values again (a script repeating its
# command) are accepted.
sum=$(md5sum <"$dir/run/checkpoint.pt")
"$maqd" train --resume --out "$dir/run" --mw 3 --batch-size 10 >"$dir/log" 2>&1 && fail "--resume accepted --mw 3"
grep -q "maqd: error: maqd train --resume: --mw 3 (the run's: 0)" "$dir/log" || fail "the refusal does not name --mw and the run's value"
grep -q -- "--batch-size" "$dir/log" && fail "the refusal names --batch-size, whose value is unchanged"
printf 'ma = 4\n' >"$dir/resume.toml"
"$maqd" train --resume --out "$dir/run" --config "$dir/resume.toml" >"$dir/log" 2>&1 && fail "--resume accepted ma = 4 from --config"
grep -q -- "--ma 4 (the run's: 0)" "$dir/log" || fail "the refusal does not name the --config file's ma"
[ "$(md5sum <"$dir/run/checkpoint.pt")" = "$sum" ] || fail "a refused resume changed the checkpoint"

"$maqd" train --resume --out "$dir/run" --arch "(8C3)-AP-10C1-GAP" --batch-size 10 --threads 1 \
  >"$dir/log" 2>&1 || fail "resume failed"
grep -q "resuming" "$dir/log" || fail "resume did not report where it continued"
[ -f "$dir/run/summary.json" ] || fail "no summary.json after the resumed run"
[ "$(wc -l <"$dir/run/metrics.jsonl")" -eq 1 ] || fail "metrics.jsonl should hold one epoch"
echo "PASS"
