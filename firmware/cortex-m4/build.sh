#!/usr/bin/env bash
# Cross-compiles a Cortex-M4 firmware with maqd-rt's core for a part with
# 1 MiB of flash and 256 KiB of RAM (the link fails if the model, code,
# arena and stack do not fit), with Debian's gcc-arm-none-eabi and picolibc,
# output over semihosting.
#
#   firmware/cortex-m4/build.sh OUT_DIR SOURCE.c|.cpp...
#
# The example firmware is firmware/cortex-m4/main.c MODEL.c IMAGES.c, where
# MODEL.c is `maqd export RUN --format c-array --c-symbol maqd_model -o
# MODEL.c` and IMAGES.c defines `const unsigned char test_images[]` (images
# one after another, as the model's input) and `const int test_image_count`
# (tests/firmware/test_images.py writes one). ARENA_BYTES in the environment
# (default 160 KiB) sizes main.c's working memory; the firmware says what
# it used. EXTRA_FLAGS adds compiler flags, e.g. -DMAQD_RT_CORE_SCALAR=1 to
# pin the core to its scalar kernels instead of the DSP ones. Writes
# OUT_DIR/firmware.elf and prints its section sizes.
set -euo pipefail
if (($# < 2)); then
  echo "usage: [ARENA_BYTES=N] $0 OUT_DIR SOURCE.c|.cpp..." >&2
  exit 2
fi
out=$1
shift
arena=${ARENA_BYTES:-$((160 * 1024))}
here=$(cd "$(dirname "$0")" && pwd)
core=$here/../../runtime/core
for tool in arm-none-eabi-gcc arm-none-eabi-g++ arm-none-eabi-size; do
  command -v "$tool" >/dev/null || {
    echo "$0: $tool not found; install gcc-arm-none-eabi, picolibc-arm-none-eabi and libstdc++-arm-none-eabi-picolibc (scripts/setup.sh --firmware)" >&2
    exit 1
  }
done
mkdir -p "$out"

# Cortex-M4F (ARMv7E-M with the single-precision FPU). -ffp-contract=off:
# the output layer's float sums round as on the host (no fused multiply-add).
cpu=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16)
read -r -a extra <<<"${EXTRA_FLAGS:-}"
common=("${cpu[@]}" -O2 -ffunction-sections -fdata-sections -ffp-contract=off -Wall -Wextra
        -I"$core/include" -I"$core/src" "${extra[@]}")
objects=()
for source in "$core"/src/*.cpp; do
  object=$out/$(basename "${source%.cpp}").o
  arm-none-eabi-g++ --specs=picolibcpp.specs "${common[@]}" -std=c++17 -fno-exceptions -fno-rtti \
    -fno-threadsafe-statics -c "$source" -o "$object"
  objects+=("$object")
done
for source in "$@"; do
  object=$out/$(basename "${source%.*}").o
  case $source in
    *.cpp) arm-none-eabi-g++ --specs=picolibcpp.specs "${common[@]}" -std=c++17 -fno-exceptions -fno-rtti \
             -fno-threadsafe-statics -c "$source" -o "$object" ;;
    *) arm-none-eabi-gcc --specs=picolibc.specs "${common[@]}" -std=c11 -DARENA_BYTES="$arena" \
         -c "$source" -o "$object" ;;
  esac
  objects+=("$object")
done
# Flash at 0 and RAM at 0x20000000, as on the MPS2 AN386 board QEMU emulates.
arm-none-eabi-g++ --specs=picolibcpp.specs --oslib=semihost --crt0=semihost "${cpu[@]}" \
  -Wl,--gc-sections -Wl,--defsym=__flash=0x00000000 -Wl,--defsym=__flash_size=0x100000 \
  -Wl,--defsym=__ram=0x20000000 -Wl,--defsym=__ram_size=0x40000 -Wl,--defsym=__stack_size=0x5000 \
  -o "$out/firmware.elf" "${objects[@]}"
arm-none-eabi-size "$out/firmware.elf"
