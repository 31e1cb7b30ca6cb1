#!/usr/bin/env bash
# Bad values on the command line: each ends the tool with a non-zero exit
# and one line, "maqd: error: ...", that names the flag or field and what
# is allowed, before anything is loaded or written.
# Usage: bad_arguments_test.sh path/to/maqd
set -uo pipefail
source "$(dirname "$0")/common.sh"
failures=0

# expect_error PATTERN ARGS...: maqd ARGS fails with one error line matching PATTERN.
expect_error() {
  local pattern=$1
  shift
  "$maqd" "$@" >"$dir/out" 2>"$dir/err"
  local rc=$? lines
  lines=$(wc -l <"$dir/err")
  if [[ $rc -eq 0 || $lines -ne 1 ]] || ! grep -q "^maqd: error: .*$pattern" "$dir/err"; then
    echo "FAIL: maqd $* (exit $rc, $lines lines on stderr, expected one matching '$pattern'):"
    cat "$dir/err"
    failures=$((failures + 1))
  fi
}

expect_error "run: --limit is -5; expected 0 (all) or a positive count" run "$dir/none.maqd" --limit -5
expect_error "run: --batch: is '0'; expected a whole number from 1 to" run "$dir/none.maqd" --batch 0
expect_error "run: --image classifies image files; --compare is for a test-set run" \
  run "$dir/none.maqd" --image "$dir/x.pgm" --compare "$dir/none"
expect_error "run: --image classifies image files; --json is for a test-set run" \
  run "$dir/none.maqd" --image "$dir/x.pgm" --json
expect_error "run: --top is for --image; a test-set run prints its accuracy" run "$dir/none.maqd" --top 2
expect_error "run: --compare and --onnx are two runs; give one of them" \
  run "$dir/none.maqd" --compare "$dir/none" --onnx "$dir/none.onnx"
expect_error "run: --reference is the precision of --compare's evaluation; expected it with --compare" \
  run "$dir/none.maqd" --reference float64
expect_error "eval: --test-limit is -1; expected 0 (all) or a positive count" eval "$dir/none" --test-limit -1
expect_error "eval: --batch-size is 0; expected ≥ 1" eval "$dir/none" --batch-size 0
expect_error "train_limit/test_limit are -1/0; expected 0 (all) or a positive count" \
  train --train-limit -1 --out "$dir/run"
expect_error "master_port is 0; allowed: 1 to 65535" \
  train --world-size 2 --rank 0 --master-port 0 --out "$dir/run"
expect_error "maqd train: --master-port is for a run of several processes; expected it with --nproc N or --world-size N" \
  train --master-port 5 --out "$dir/run"
expect_error "maqd train: --sync-norm is for a run of several processes" train --sync-norm false --out "$dir/run"
# With --world-size (a script's N may be 1) they pass on to the config check.
expect_error "train config: field epochs is 0" train --world-size 1 --rank 0 --sync-norm false --epochs 0 --out "$dir/run"
expect_error "--nproc 2 with --world-size 2; expected one of them" \
  train --nproc 2 --world-size 2 --out "$dir/run"
expect_error "none.toml: File could not be opened for reading; expected a readable TOML file (--config)" \
  train --config "$dir/none.toml" --out "$dir/run"
expect_error "$dir: is a folder; expected a readable TOML file (--config)" train --config "$dir" --out "$dir/run"
# Whole numbers: a sign or too many digits is refused, not wrapped, and the
# range is said in digits a reader can check.
expect_error "train: --seed: is '-1'; expected a whole number from 0 to 18446744073709551615" \
  train --seed -1 --out "$dir/run"
expect_error "train: --seed: is '18446744073709551616'; expected a whole number" \
  train --seed 18446744073709551616 --out "$dir/run"
printf 'seed = -1\n' >"$dir/seed.toml"
expect_error "seed.toml: key 'seed' = -1: --seed: is '-1'; expected a whole number" \
  train --config "$dir/seed.toml" --out "$dir/run"
expect_error "train: --trace-steps: is '-1'; expected a whole number from 0 to 9223372036854775807" \
  train --trace-steps -1 --out "$dir/run"
: >"$dir/afile"
expect_error "afile: is a file; expected a folder for the run (a new one, or a run's to resume) as --out" \
  train --out "$dir/afile"
expect_error "field alpha is 0; expected a positive number" train --ma 2 --alpha 0 --out "$dir/run"
printf 'mw = 3.5\n' >"$dir/mw.toml"
expect_error "mw.toml: key 'mw' is 3.5; expected a whole number" train --config "$dir/mw.toml" --out "$dir/run"
printf '[base]\nepochs = 1\n' >"$dir/sweep.toml"
expect_error "sweep.toml: run run: --epochs is 'abc'; expected a whole number" \
  sweep "$dir/sweep.toml" --set epochs=abc --dry-run
expect_error "sweep: --jobs: is '0'; expected a whole number from 1 to 2147483647" sweep "$dir/sweep.toml" --jobs 0
expect_error "info: --training-memory: is '0'; expected a whole number from 1 to" \
  info "$dir/none" --training-memory 0
expect_error "info: --training-memory: is '100000000000000'; expected a whole number from 1 to 1000000" \
  info "$dir/none" --training-memory 100000000000000
for seconds in 0 -1 nan inf; do
  expect_error "bench: --seconds: is '$seconds'; expected seconds above 0, at most 3600" bench "$dir/none.maqd" --seconds "$seconds"
done
# A command line that does not parse says so in the same one line, exit 2.
expect_error "train: The following argument was not expected: --nosuch (see maqd train --help)" \
  train --nosuch --out "$dir/run"
expect_error "export: --output is required (see maqd export --help)" export "$dir/none"
# The checkpoint is never the output, however it is named (the file is
# refused before it is read, so an empty one will do).
mkdir -p "$dir/run-x" && : >"$dir/run-x/checkpoint.pt"
for output in "$dir/run-x/checkpoint.pt" "$dir/run-x/../run-x/checkpoint.pt"; do
  expect_error "export: --output '$output' is the checkpoint being exported; expected another file" \
    export "$dir/run-x" -o "$output"
done
expect_error "export: --output '$dir/run-x/checkpoint.pt' is the checkpoint being exported" \
  export "$dir/run-x/checkpoint.pt" -o "$dir/run-x/checkpoint.pt" --format onnx
expect_error "export: --format maqd writes a .maqd file; --output is '$dir/x.onnx'" \
  export "$dir/none" -o "$dir/x.onnx" --format maqd
expect_error "export: --format onnx-int8 writes a .onnx file; --output is '$dir/x.c'" \
  export "$dir/none" -o "$dir/x.c" --format onnx-int8
expect_error "export: --c-symbol names the array of --format c-array; the format is maqd (from --output's" \
  export "$dir/none" -o "$dir/x.maqd" --c-symbol model
"$maqd" train --epochs abc --out "$dir/run" >/dev/null 2>&1
rc=$?
[[ $rc -eq 2 ]] || { echo "FAIL: a value that does not parse exits $rc; expected 2"; failures=$((failures + 1)); }
# No command at all is a usage error too (it printed the help and exited 0).
expect_error "sweep: --jobs 4 × --nproc 1 with --threads 2; expected --threads of at least --jobs × --nproc" \
  sweep "$dir/sweep.toml" --jobs 4 --threads 2
expect_error "no command given; expected one of train, eval, info, export, run, bench, sweep, plot, selfcheck (see maqd --help)"
expect_error "unknown command 'describe'; expected one of train, eval, info, export, run, bench, sweep, plot, selfcheck (see maqd --help)" \
  describe "$dir/none.maqd"
"$maqd" >/dev/null 2>&1
rc=$?
[[ $rc -eq 2 ]] || { echo "FAIL: maqd without a command exits $rc; expected 2"; failures=$((failures + 1)); }
[[ ! -e $dir/run ]] || { echo "FAIL: a refused run wrote $dir/run"; failures=$((failures + 1)); }
(( failures == 0 )) || exit 1
echo "PASS"
