#!/usr/bin/env bash
# Instructions maqd-rt executes per image on 64-bit Arm, per kernel ISA,
# counted under QEMU's user-mode emulator (no Arm machine needed; these are
# instruction counts, not times: an emulator's speed says nothing about a
# real core's). Each ISA runs the model on the image once and twice; the
# difference is one image's instructions without the loading, in total and
# for the functions that execute the most.
#   bash bench/arm/count_instructions.sh MODEL.maqd [IMAGE.pgm|fashion-mnist] [ISA...]
# The image defaults to the first Fashion-MNIST test image (Debian's
# dataset-fashion-mnist); ISAs to scalar neon neondot (MAQD_ISA; QEMU's
# default CPU has the dot product). Needs the AArch64 cross build of the
# runtime (scripts/test.sh makes build-runtime-aarch64-linux-gnu;
# MAQD_ARM_BUILD names another) and qemu-user (scripts/setup.sh --cross).
set -euo pipefail
(( $# >= 1 )) || { sed -n '2,13p' "$0" >&2; exit 2; }
model=$1 image=${2:-fashion-mnist}
shift $(( $# >= 2 ? 2 : 1 ))
isas=("$@")
(( ${#isas[@]} )) || isas=(scalar neon neondot)
here=$(cd "$(dirname "$0")" && pwd)
build=${MAQD_ARM_BUILD:-$here/../../build-runtime-aarch64-linux-gnu}
runtime=$build/bin/maqd-rt
[[ -x $runtime ]] || { echo "count_instructions.sh: no $runtime; build the AArch64 runtime first" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
counter=$work/tb_count
g++ -O2 -o "$counter" "$here/tb_count.cpp"
image_name=$image
if [[ $image == fashion-mnist ]]; then
  image=$work/fashion-mnist-test-0.pgm
  image_name="the first Fashion-MNIST test image"
  python3 -c 'import gzip, sys
pixels = gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz").read()[16:16 + 784]
open(sys.argv[1], "wb").write(b"P5\n28 28\n255\n" + pixels)' "$image"
fi

count() {  # count ISA FUNCTIONS_FILE IMAGES...: instructions of loading the model and running the images
  MAQD_ISA=$1 qemu-aarch64 -d in_asm,exec,nochain -D /dev/stderr -L /usr/aarch64-linux-gnu \
    "$runtime" "$model" --threads 1 "${@:3}" 2>&1 >/dev/null | "$counter" "$2"
}

echo "maqd-rt on AArch64 under $(qemu-aarch64 --version | head -1)"
echo "model $model, $image_name, one thread; instructions executed (not time)"
scalar=
for isa in "${isas[@]}"; do
  one=$(count "$isa" "$work/one" "$image")
  two=$(count "$isa" "$work/two" "$image" "$image")
  per=$((two - one))
  [[ $isa == scalar ]] && scalar=$per
  ratio=
  [[ -n $scalar && $isa != scalar ]] && ratio=$(awk -v a="$scalar" -v b="$per" 'BEGIN { printf ", %.2fx fewer than scalar", a / b }')
  echo
  echo "MAQD_ISA=$isa: $per per image$ratio (load + 1 image: $one)"
  # Per function: the second image's share (two runs' difference), largest first.
  awk -F'\t' 'NR == FNR { one[$2] = $1; next } { d = $1 - one[$2]; if (d > 0) print d "\t" $2 }' \
      "$work/one" "$work/two" | sort -rn | head -8 | while IFS=$'\t' read -r n name; do
    short=$(c++filt "$name" | sed -E 's/maqd_rt::kernels::|\(anonymous namespace\)::|maqd_rt::|std:://g; s/^void //; s/\(NeonMode\)0/kSmlal/g; s/\(NeonMode\)1/kSdot/g' | cut -c1-90)
    awk -v n="$n" -v p="$per" -v s="$short" 'BEGIN { printf "  %12d  %5.1f %%  %s\n", n, 100 * n / p, s }'
  done
done
