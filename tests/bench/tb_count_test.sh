#!/usr/bin/env bash
# bench/arm/tb_count.cpp, the counter behind the Arm instruction counts in
# docs/results.md (bench/arm/count_instructions.sh), on a program whose
# count is known: an AArch64 loop of 1000 (subs, b.ne) after one mov, a bl,
# and an exit of three instructions, run under qemu-aarch64 as the script
# runs maqd-rt: 2002 instructions in _start, 3 in finish. Then a log whose
# executed block was never listed must fail rather than count short.
#   tb_count_test.sh CXX SOURCE_DIR
set -euo pipefail
cxx=$1 source=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in aarch64-linux-gnu-gcc qemu-aarch64; do
  command -v "$tool" >/dev/null || fail "$tool not found; scripts/setup.sh --cross installs it"
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$cxx" -O2 -o "$work/tb_count" "$source/bench/arm/tb_count.cpp"
cat >"$work/loop.S" <<'ASM'
        .text
        .global _start
        .type _start, %function
_start:
        mov     x0, #1000
1:      subs    x0, x0, #1
        b.ne    1b
        bl      finish
        .size _start, .-_start
        .type finish, %function
finish:
        mov     x0, #0
        mov     x8, #93
        svc     #0
        .size finish, .-finish
ASM
aarch64-linux-gnu-gcc -nostdlib -static -o "$work/loop" "$work/loop.S"
total=$(qemu-aarch64 -d in_asm,exec,nochain -D /dev/stderr "$work/loop" 2>&1 >/dev/null |
  "$work/tb_count" "$work/functions") || fail "tb_count failed on the loop's log"
[ "$total" = 2005 ] || fail "counted $total instructions; the loop executes 2005"
printf '2002\t_start\n3\tfinish\n' | cmp -s - "$work/functions" ||
  fail "per function: $(tr '\t\n' ' ;' <"$work/functions"); expected 2002 _start; 3 finish"

printf 'IN: f\n0x00001000:  d503201f  nop\n\nTrace 0: 0x1 [0/0000000000001000/0/0] f\nTrace 0: 0x1 [0/0000000000002000/0/0] g\n' |
  "$work/tb_count" >"$work/out" 2>"$work/err" && fail "a block executed but never listed was not an error"
grep -q "1 executed blocks were never listed" "$work/err" || fail "unlisted block: $(cat "$work/err")"
echo "OK: tb_count counts the loop's 2005 instructions exactly, by function"
