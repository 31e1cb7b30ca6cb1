#!/usr/bin/env bash
# Issue 18: trained models on a Cortex-M4 under QEMU (MPS2 AN386), linked
# for a part with 1 MiB of flash and 256 KiB of RAM: the firmware's flash
# (text + data) and RAM (the arena it used plus its measured stack peak)
# beside the model's conv weights as stored, as int8 and as float32, and its
# logits on 8 Fashion-MNIST test images compared bit for bit with the host
# runtime's. Also the host runtime's accuracy on the whole test set, and
# the core's DSP kernels against its scalar ones in emulated instructions.
#
#   bash experiments/issue18/firmware_sizes.sh [RUN_DIR...]
#
# RUN_DIR: a `maqd train` folder (default: the issue-16 VGG 1/4 runs at
# (3, 2) and (15, 8)). Needs build/bin/maqd, build/tests/host_logits and
# `scripts/setup.sh --firmware`.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=("$@")
((${#runs[@]})) || runs=(runs/i16-vgg-025-mw3-ma2 runs/i16-vgg-025-mw15-ma8)
maqd=build/bin/maqd
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 tests/firmware/test_images.py /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz 8 \
  "$work/images.c" "$work/images.bin"
echo "CPU of the build host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "target: Cortex-M4F (ARMv7E-M, FPv4-SP), linked for 1 MiB flash at 0x0 and 256 KiB RAM at 0x20000000, -O2"
for run in "${runs[@]}"; do
  name=$(basename "$run")
  echo
  echo "== $name"
  "$maqd" export "$run" -o "$work/$name.maqd" | tail -n 1
  "$maqd" export "$run" --format c-array --c-symbol maqd_model -o "$work/$name.c" | tail -n 1
  "$maqd" info "$work/$name.maqd" | grep -E "^conv weights|^core arena"
  arena=$("$maqd" info "$work/$name.maqd" | sed -n "s/^core arena.*microcontroller): \([0-9]*\) bytes.*/\1/p")
  # The figure includes the C API's context (on this host's pointer size); 1 KiB spare.
  ARENA_BYTES=$((arena + 1024)) bash firmware/cortex-m4/build.sh "$work/$name-fw" firmware/cortex-m4/main.c \
    "$work/$name.c" "$work/images.c" | tail -n 2
  build/tests/host_logits "$work/$name.maqd" "$work/images.bin" >"$work/$name.host.txt"
  start=$(date +%s.%N)
  timeout 600 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none -chardev stdio,id=semihost \
    -semihosting-config enable=on,target=native,chardev=semihost -kernel "$work/$name-fw/firmware.elf" >"$work/$name.qemu.txt" 2>&1
  end=$(date +%s.%N)
  cat "$work/$name.qemu.txt"
  if diff <(grep '^image ' "$work/$name.qemu.txt") "$work/$name.host.txt" >/dev/null; then
    echo "logits: bit for bit equal to the host runtime's on all 8 images"
  else
    echo "logits: DIFFER from the host runtime's"
  fi
  echo "QEMU wall time for prepare + 8 images: $(awk "BEGIN { printf \"%.1f\", $end - $start }") s (emulated, not the part's speed)"
  "$maqd" run "$work/$name.maqd" | grep -iE "accuracy|images"
  # The DSP kernels against the scalar ones: SysTick ticks per image under
  # QEMU's -icount (emulated instructions / 40; deterministic, not cycles).
  for kernels in dsp scalar; do
    flags=-DMAQD_FW_SYSTICK
    [[ $kernels == scalar ]] && flags+=" -DMAQD_RT_CORE_SCALAR=1"
    ARENA_BYTES=$((arena + 1024)) EXTRA_FLAGS=$flags bash firmware/cortex-m4/build.sh "$work/$name-$kernels" \
      firmware/cortex-m4/main.c "$work/$name.c" "$work/images.c" >/dev/null
    timeout 600 qemu-system-arm -M mps2-an386 -icount shift=0 -nographic -monitor none -serial none \
      -chardev stdio,id=semihost -semihosting-config enable=on,target=native,chardev=semihost \
      -kernel "$work/$name-$kernels/firmware.elf" >"$work/$name-$kernels.txt" 2>&1
    echo "$kernels kernels, SysTick ticks per image under -icount shift=0:" \
      "$(grep -oE 'ticks [0-9]+' "$work/$name-$kernels.txt" | cut -d' ' -f2 | tr '\n' ' ')"
  done
done
