#!/usr/bin/env bash
# Checks the machine code of every ISA variant of the fused training kernels
# (objdump of libmaqd.a), not only the variant this CPU runs: each variant's
# loop must use vectors of its ISA's width, and the float32 variants must
# call nothing (an out-of-line call inside a loop means a helper was not
# inlined and runs baseline code). Issue 13 found the AVX2 variant scalar
# while the AVX-512 one was vectorized; this test would have failed then.
#   usage: codegen_test.sh path/to/libmaqd.a
set -euo pipefail
archive=$1
objdump=${OBJDUMP:-objdump}
command -v "$objdump" >/dev/null || { echo "codegen_test: $objdump not found (binutils)"; exit 1; }

asm=$(mktemp)
trap 'rm -f "$asm"' EXIT
"$objdump" -d --no-show-raw-insn -C "$archive" >"$asm"

# One line per variant function: name, then its instructions' text.
functions=$(awk '
  /^[0-9a-f]+ <.*>:$/ {
    if (name != "") print name "\t" body
    name = ""; body = ""
    if ($0 ~ /maqd::kernels::\(anonymous namespace\)::[a-z0-9_]+_(avx512|avx2|baseline)\(/) {
      match($0, /::[a-z0-9_]+_(avx512|avx2|baseline)\(/)
      name = substr($0, RSTART + 2, RLENGTH - 3)
    }
    next
  }
  name != "" { body = body " " $0 }
  END { if (name != "") print name "\t" body }
' "$asm")

failures=0
checked=0
while IFS=$'\t' read -r name body; do
  [[ -z $name ]] && continue
  checked=$((checked + 1))
  case $name in
    *_avx512)   want='%zmm';  forbid='' ;;
    *_avx2)     want='%ymm';  forbid='%zmm' ;;
    *_baseline) want='%xmm';  forbid='%[yz]mm' ;;
  esac
  # A packed arithmetic instruction on a register of the wanted width, e.g.
  # vmulps %zmm1,%zmm2,%zmm3 or mulps %xmm1,%xmm2.
  if ! grep -Eq "(add|sub|mul|div|fmadd[0-9]*|max|min)p[sd][^;]*${want}" <<<"$body"; then
    echo "FAIL $name: no packed arithmetic on ${want} registers (loop not vectorized)"
    failures=$((failures + 1))
  fi
  if [[ -n $forbid ]] && grep -Eq "$forbid" <<<"$body"; then
    echo "FAIL $name: uses registers wider than its ISA ($forbid)"
    failures=$((failures + 1))
  fi
  if [[ $name == *f32_* ]] && grep -Eq '\scall\s' <<<"$body"; then
    echo "FAIL $name: calls out of line: $(grep -Eo 'call[^<]*<[^>]*>' <<<"$body" | head -3 | tr '\n' ' ')"
    failures=$((failures + 1))
  fi
done <<<"$functions"

# 3 variants × (round_clip, clipped_ste, sigmoid_surrogate, moments,
# affine_act, backward_first, backward_second, avg_pool_forward,
# avg_pool_backward) × (f32, f64), and code_conv's input_codes and
# weight_codes (f32 only).
if ((checked < 60)); then
  echo "FAIL: found $checked kernel variants in $archive, expected at least 60"
  exit 1
fi
echo "codegen_test: checked $checked kernel variants, $failures failures"
((failures == 0))
