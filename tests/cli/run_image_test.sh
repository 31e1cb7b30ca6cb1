#!/usr/bin/env bash
# `maqd run MODEL --image ...` and maqd-rt on Netpbm files as image tools write them:
# the first 100 Fashion-MNIST test images, each as a plain binary PGM, as
# one with comment lines in its header (GIMP and ImageMagick write them) and
# as a 16-bit PGM (maxval 65535, which scales back to the same bytes), and
# as a PNG for maqd run. All must give the same classes, and as many right as `maqd run --limit
# 100` counts on the same images: the integer engine sees the same pixels.
# Usage: run_image_test.sh path/to/maqd
set -uo pipefail
source "$(dirname "$0")/common.sh"
data=/usr/share/datasets/fashion-mnist
count=100

"$maqd" train --arch "(16C3)x2-AP-(32C3)x2-AP-10C1-GAP" --mw 3 --ma 4 --epochs 1 --train-limit 6000 \
  --test-limit 200 --batch-size 50 --threads 2 --out "$dir/run" >"$dir/log" 2>&1 || fail "training failed"
"$maqd" export "$dir/run" -o "$dir/model.maqd" >>"$dir/log" 2>&1 || fail "export failed"

zcat "$data/t10k-images-idx3-ubyte.gz" | tail -c +17 | head -c $((count * 784)) >"$dir/images.bin"
mapfile -t labels < <(zcat "$data/t10k-labels-idx1-ubyte.gz" | tail -c +9 | head -c $count | od -An -tu1 -v | tr -s ' ' '\n' | sed '/^$/d')
[ "${#labels[@]}" = $count ] || fail "read ${#labels[@]} labels, expected $count"
plain=() commented=() wide=()
for ((i = 0; i < count; ++i)); do
  dd if="$dir/images.bin" of="$dir/pixels" bs=784 skip=$i count=1 status=none
  { printf 'P5\n28 28\n255\n'; cat "$dir/pixels"; } >"$dir/$i.pgm"
  { printf 'P5\n# Created by GIMP\n28 # width\n28\n# maxval follows\n255\n'; cat "$dir/pixels"; } >"$dir/$i-comment.pgm"
  { printf 'P5 28 28 65535\n'
    perl -e 'binmode STDIN; binmode STDOUT; local $/; print pack("n*", map { $_ * 257 } unpack("C*", <STDIN>))' \
      <"$dir/pixels"; } >"$dir/$i-16bit.pgm"
  plain+=("$dir/$i.pgm") commented+=("$dir/$i-comment.pgm") wide+=("$dir/$i-16bit.pgm")
done

# The same pixels as 8-bit grey PNGs, written with Python's zlib.
python3 - "$dir" $count <<'PYTHON' || fail "could not write the PNG files"
import struct, sys, zlib
folder, count = sys.argv[1], int(sys.argv[2])
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
pixels = open(folder + "/images.bin", "rb").read()
for i in range(count):
    image = pixels[i * 784:(i + 1) * 784]
    rows = b"".join(b"\0" + image[r * 28:(r + 1) * 28] for r in range(28))
    with open("%s/%d.png" % (folder, i), "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0)) +
                  chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
PYTHON
png=()
for ((i = 0; i < count; ++i)); do png+=("$dir/$i.png"); done

classes() {  # the class printed for each file, in order
  "$maqd" run "$dir/model.maqd" --image "$@" 2>>"$dir/log" | sed -E 's/.*: class ([0-9]+) \(.+\)$/\1/' ||
    fail "maqd run --image failed"
}
mapfile -t by_plain < <(classes "${plain[@]}")
mapfile -t by_comment < <(classes "${commented[@]}")
mapfile -t by_wide < <(classes "${wide[@]}")
mapfile -t by_png < <(classes "${png[@]}")
[ "${#by_plain[@]}" = $count ] || fail "got ${#by_plain[@]} classes for $count images"
[[ ${by_plain[0]} =~ ^[0-9]$ ]] || fail "expected 'FILE: class N (NAME)', got '${by_plain[0]}'"
# Fashion-MNIST's own names follow the number.
"$maqd" run "$dir/model.maqd" --image "${plain[0]}" | grep -Eq ': class [0-9] \((T-shirt/top|Trouser|Pullover|Dress|Coat|Sandal|Shirt|Sneaker|Bag|Ankle boot)\)$' ||
  fail "no Fashion-MNIST class name after the number"
[ "${by_plain[*]}" = "${by_comment[*]}" ] || fail "commented headers gave other classes"
[ "${by_plain[*]}" = "${by_wide[*]}" ] || fail "16-bit images gave other classes"
[ "${by_plain[*]}" = "${by_png[*]}" ] || fail "PNG images gave other classes"

# The names are in the model file; maqd info lists them on one line.
"$maqd" info "$dir/model.maqd" | grep -q "^  class_names  *T-shirt/top, Trouser, .*, Bag, Ankle boot$" ||
  fail "maqd info does not list the class names on one line"
# The checkpoint's layer table lines up: every row as wide, in characters,
# as its header (its shapes' × are two bytes each).
"$maqd" info "$dir/run" | python3 -c '
import sys
lines = sys.stdin.read().splitlines()
start = next(i for i, l in enumerate(lines) if l.startswith("layer "))
end = lines.index("", start)
widths = {len(l) for l in lines[start:end]}
sys.exit(0 if end - start > 3 and len(widths) == 1 else "rows of widths %s" % sorted(widths))' ||
  fail "maqd info on the run: the layer table does not line up"
# maqd-rt, the runtime's own program beside maqd, says the same of each image.
"$maqd" run "$dir/model.maqd" --image "${plain[@]}" >"$dir/by-maqd" 2>>"$dir/log"
"$(dirname "$maqd")/maqd-rt" "$dir/model.maqd" --threads 2 "${plain[@]}" >"$dir/by-maqd-rt" 2>>"$dir/log" ||
  fail "maqd-rt failed"
cmp -s "$dir/by-maqd" "$dir/by-maqd-rt" || fail "maqd-rt and maqd run --image disagree: $(diff "$dir/by-maqd" "$dir/by-maqd-rt" | head -3)"
# --top 3: the same three classes and probabilities from both, the first
# the class printed without it, the probabilities falling and under 1.
"$maqd" run "$dir/model.maqd" --image "${plain[@]}" --top 3 >"$dir/top-maqd" 2>>"$dir/log" ||
  fail "maqd run --top failed"
"$(dirname "$maqd")/maqd-rt" "$dir/model.maqd" --top 3 "${plain[@]}" >"$dir/top-maqd-rt" 2>>"$dir/log" ||
  fail "maqd-rt --top failed"
cmp -s "$dir/top-maqd" "$dir/top-maqd-rt" ||
  fail "maqd-rt and maqd run --top disagree: $(diff "$dir/top-maqd" "$dir/top-maqd-rt" | head -3)"
paste -d '\t' "$dir/by-maqd" "$dir/top-maqd" | awk -F '\t' '
  { first = $2; sub(/ [0-9.]+, .*/, "", first)
    if (first != $1) { print "first of --top 3 is not the class: " $0; exit 1 }
    n = split($2, parts, /\) /); last = 1
    for (i = 2; i <= n; ++i) {
      p = parts[i] + 0
      if (p > last || p < 0) { print "probabilities not falling from 1: " $0; exit 1 }
      last = p
    }
    if (n != 4) { print "expected 3 classes: " $0; exit 1 } }' >"$dir/top-check" || fail "$(cat "$dir/top-check")"
# export picks the format from the output's ending: a .c file is C data
# (with the name --c-symbol gives), not .maqd bytes.
"$maqd" export "$dir/run" -o "$dir/model.c" --c-symbol fashion_model >>"$dir/log" 2>&1 ||
  fail "export -o model.c failed"
grep -q "^const size_t fashion_model_size = " "$dir/model.c" || fail "export -o model.c did not write the C array"
# Both programs describe a model file alike (maqd_rt/describe.hpp; maqd info
# shows the runtime on 1 and 2 threads).
"$maqd" info "$dir/model.maqd" >"$dir/info-maqd" 2>>"$dir/log" || fail "maqd info failed"
"$(dirname "$maqd")/maqd-rt" "$dir/model.maqd" --threads 2 --info >"$dir/info-maqd-rt" 2>>"$dir/log" ||
  fail "maqd-rt --info failed"
cmp -s "$dir/info-maqd" "$dir/info-maqd-rt" || fail "maqd info and maqd-rt --info differ: $(diff "$dir/info-maqd" "$dir/info-maqd-rt" | head -3)"

right=0
for ((i = 0; i < count; ++i)); do [ "${by_plain[i]}" = "${labels[i]}" ] && right=$((right + 1)); done
accuracy=$("$maqd" run "$dir/model.maqd" --limit $count --json 2>>"$dir/log" | sed -E 's/.*"accuracy":([0-9.]+).*/\1/')
expected=$(awk -v a="$accuracy" -v n=$count 'BEGIN { printf "%d", a * n + 0.5 }')
[ "$right" = "$expected" ] || fail "--image got $right of $count right, maqd run --limit $count $expected"
# A model near chance (10 of 100) would make the comparison weak.
[ "$right" -ge 30 ] || fail "only $right of $count right: the model did not learn"
echo "PASS: $right of $count right, the same from plain, commented and 16-bit PGMs and from PNGs as from maqd run"
