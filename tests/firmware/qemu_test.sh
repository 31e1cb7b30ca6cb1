#!/usr/bin/env bash
# The Cortex-M4 firmware (firmware/cortex-m4) under QEMU prints the host
# runtime's logits bit for bit, for a (3, 2) and a (15, 8) model: each is
# trained briefly (CNN9 at width 1/8 on 1000 Fashion-MNIST images; the
# check is exactness, not accuracy), exported as .maqd and as a C array,
# built into the firmware with the first 8 test images, with the core's DSP
# kernels and pinned to its scalar ones, and run on an emulated MPS2 AN386
# board; a hang ends the test after a bounded time. First, the DSP kernels
# against the scalar ones on random shapes (tests/firmware/dsp_kernels_test.cpp).
#
#   qemu_test.sh MAQD HOST_LOGITS SOURCE_DIR
set -euo pipefail
maqd=$1 host_logits=$2 source=$3
data=/usr/share/datasets/fashion-mnist
for tool in qemu-system-arm arm-none-eabi-gcc python3; do
  command -v "$tool" >/dev/null || {
    echo "FAIL: $tool not found; scripts/setup.sh --firmware installs the firmware toolchain and QEMU" >&2
    exit 1
  }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Runs a firmware under QEMU into a file; fails the test on a hang or an error.
run_qemu() {  # run_qemu NAME ELF OUTPUT
  local status=0
  timeout 120 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none -chardev stdio,id=semihost \
    -semihosting-config enable=on,target=native,chardev=semihost -kernel "$2" >"$3" 2>&1 || status=$?
  if ((status == 124)); then
    echo "FAIL: $1: the firmware gave no result within 120 s under QEMU (hung?); its output:" >&2
    cat "$3" >&2
    exit 1
  fi
  if ((status != 0)); then
    echo "FAIL: $1: the firmware exited with status $status; its output:" >&2
    cat "$3" >&2
    exit 1
  fi
}

ARENA_BYTES=1024 bash "$source/firmware/cortex-m4/build.sh" "$work/dsp-test" \
  "$source/tests/firmware/dsp_kernels_test.cpp" >"$work/dsp-test.build.log" 2>&1 || {
  cat "$work/dsp-test.build.log" >&2
  exit 1
}
run_qemu dsp_kernels_test "$work/dsp-test/firmware.elf" "$work/dsp-test.txt"
grep '^PASS' "$work/dsp-test.txt" || { cat "$work/dsp-test.txt" >&2; exit 1; }

python3 "$source/tests/firmware/test_images.py" "$data/t10k-images-idx3-ubyte.gz" 8 "$work/images.c" \
  "$work/images.bin"

for levels in "3 2" "15 8"; do
  read -r mw ma <<<"$levels"
  name=cnn9-mw$mw-ma$ma
  "$maqd" train --arch cnn9 --width 0.125 --mw "$mw" --ma "$ma" --epochs 1 --train-limit 1000 \
    --test-limit 100 --threads 2 --out "$work/$name" >"$work/$name.train.log" 2>&1 || {
    cat "$work/$name.train.log" >&2
    exit 1
  }
  "$maqd" export "$work/$name" -o "$work/$name.maqd" >/dev/null
  "$maqd" export "$work/$name" --format c-array --c-symbol maqd_model -o "$work/$name.c" >/dev/null
  "$host_logits" "$work/$name.maqd" "$work/images.bin" >"$work/$name.host.txt"
  for kernels in dsp scalar; do
    flags=""
    [[ $kernels == scalar ]] && flags=-DMAQD_RT_CORE_SCALAR=1
    fw=$work/$name-$kernels
    ARENA_BYTES=$((96 * 1024)) EXTRA_FLAGS=$flags bash "$source/firmware/cortex-m4/build.sh" "$fw" \
      "$source/firmware/cortex-m4/main.c" "$work/$name.c" "$work/images.c" >"$fw.build.log" 2>&1 || {
      cat "$fw.build.log" >&2
      exit 1
    }
    run_qemu "$name ($kernels kernels)" "$fw/firmware.elf" "$fw.qemu.txt"
    if ! diff <(grep '^image ' "$fw.qemu.txt") "$work/$name.host.txt" >"$fw.diff"; then
      echo "FAIL: $name ($kernels kernels): the firmware's logits differ from the host runtime's (< firmware, > host):" >&2
      cat "$fw.diff" >&2
      exit 1
    fi
    lines=$(grep -c '^image ' "$fw.qemu.txt")
    if ((lines != 8)); then
      echo "FAIL: $name ($kernels kernels): $lines result lines; expected 8" >&2
      exit 1
    fi
    echo "$name ($kernels kernels): 8 images, logits bit for bit equal to the host runtime's; $(tail -n 1 "$fw.qemu.txt")"
    tail -n 1 "$fw.build.log"
  done
done
echo "PASS"
