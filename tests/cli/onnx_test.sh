#!/usr/bin/env bash
# ONNX export end to end: a short MaQD training run, `maqd export` to the
# runtime's format and to both ONNX forms, each ONNX file run in onnxruntime
# (tools/onnxruntime, installed by scripts/setup.sh) and compared with
# maqd-rt on the test images; then `maqd bench` prints every column once.
# The exact form must agree on ≥ 99.9 % of predictions; the int8 QDQ form's
# agreement is printed (it is not exact, docs/format.md says why).
# Usage: onnx_test.sh path/to/maqd
set -uo pipefail
source "$(dirname "$0")/common.sh"

# The issue-4 network shape at a small width, trained for one epoch on 6000
# images: a trained model whose codes use every level.
"$maqd" train --arch "(16C3)x2-AP-(32C3)x2-AP-10C1-GAP" --mw 3 --ma 4 --epochs 1 \
  --train-limit 6000 --test-limit 2000 --batch-size 50 --threads 2 --out "$dir/run" \
  >"$dir/log" 2>&1 || fail "training failed"
"$maqd" export "$dir/run" -o "$dir/model.maqd" >>"$dir/log" 2>&1 || fail "export failed"
# --out, as train takes it, names the file as well as -o/--output does.
"$maqd" export "$dir/run" --out "$dir/model.onnx" --format onnx >>"$dir/log" 2>&1 || fail "onnx export failed"
"$maqd" export "$dir/run" -o "$dir/model.int8.onnx" --format onnx-int8 >>"$dir/log" 2>&1 ||
  fail "onnx-int8 export failed"
# Without --format, a .onnx file gets the exact ONNX form, not .maqd bytes.
"$maqd" export "$dir/run" -o "$dir/inferred.onnx" >>"$dir/log" 2>&1 || fail "export to a .onnx file failed"
cmp -s "$dir/inferred.onnx" "$dir/model.onnx" || fail "export -o FILE.onnx without --format differs from --format onnx"

agreement() {  # prints matching_predictions/images of `maqd run --onnx FILE --json`
  "$maqd" run "$dir/model.maqd" --onnx "$1" --limit 2000 --threads 2 --json >"$dir/run.json" 2>>"$dir/log" ||
    fail "maqd run --onnx $1 failed"
  cat "$dir/run.json" >>"$dir/log"
  sed -E 's/.*"images":([0-9]+).*"matching_predictions":([0-9]+).*/\2 \1/' "$dir/run.json"
}
read -r equal images < <(agreement "$dir/model.onnx")
[ "$images" = 2000 ] || fail "expected 2000 images compared, got '$images'"
# ≥ 99.9 %: at most 2 of 2000 may differ.
[ "$equal" -ge 1998 ] || fail "exact ONNX form: $equal of $images predictions equal (< 99.9 %)"
echo "exact form: $equal of $images predictions equal maqd-rt's"
read -r equal8 images8 < <(agreement "$dir/model.int8.onnx")
[ "$images8" = 2000 ] || fail "expected 2000 images compared (int8), got '$images8'"
echo "int8 QDQ form: $equal8 of $images8 predictions equal maqd-rt's (reported, not exact)"
# A QDQ graph that disagreed wholesale would be a broken export, not rounding.
[ "$equal8" -ge 1800 ] || fail "int8 form: only $equal8 of $images8 predictions equal"

"$maqd" bench "$dir/model.maqd" --checkpoint "$dir/run" --batch 1 --threads 1 --rounds 1 \
  --seconds 0.05 >"$dir/bench" 2>>"$dir/log" || { cat "$dir/bench"; fail "maqd bench failed"; }
for column in "maqd-rt" "ort float" "ort int8" "libtorch float"; do
  grep -q "^  $column .*[0-9]" "$dir/bench" || { cat "$dir/bench"; fail "maqd bench printed no '$column' row"; }
done

# A mistyped thread count is refused at once (it used to start the threads).
start=$(date +%s)
if "$maqd" run "$dir/model.maqd" --threads 100000 >"$dir/log" 2>&1; then
  fail "--threads 100000 was accepted"
fi
grep -q -- "--threads" "$dir/log" || fail "the refusal does not name --threads"
[ $(( $(date +%s) - start )) -lt 10 ] || fail "refusing --threads 100000 took over 10 s"

# A form that does not exist is refused before anything is written.
if "$maqd" export "$dir/run" -o "$dir/bad.onnx" --format onnx-fp8 >"$dir/log" 2>&1; then
  fail "--format onnx-fp8 was accepted"
fi
[ ! -e "$dir/bad.onnx" ] || fail "a refused export wrote a file"
echo "PASS"
