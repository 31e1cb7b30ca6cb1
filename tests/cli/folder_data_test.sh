#!/usr/bin/env bash
# A data set of your own images (`--data folder`): three Fashion-MNIST
# classes written as PGM files in DIR/train/CLASS/ and DIR/test/CLASS/,
# trained, exported and classified. The class names must come from the
# folders (checkpoint, model file, maqd info, maqd-rt), the network must
# learn (so the pixels and labels reached it intact), and maqd-rt's named
# answers must be right exactly as often as `maqd run` counts on the same
# test folder. Then one folder of class folders split by --test-split, and
# images of two sizes scaled by --resize.
# Usage: folder_data_test.sh path/to/maqd
set -uo pipefail
source "$(dirname "$0")/common.sh"
data=/usr/share/datasets/fashion-mnist

python3 - "$data" "$dir/images" <<'PY' || fail "could not write the images"
import gzip, os, sys
data, out = sys.argv[1], sys.argv[2]
names = {1: "trouser", 7: "sneaker", 8: "bag"}
for split, prefix, per_class in (("train", "train", 600), ("test", "t10k", 100)):
    images = gzip.open(f"{data}/{prefix}-images-idx3-ubyte.gz").read()[16:]
    labels = gzip.open(f"{data}/{prefix}-labels-idx1-ubyte.gz").read()[8:]
    written = {label: 0 for label in names}
    for i, label in enumerate(labels):
        if label in names and written[label] < per_class:
            folder = f"{out}/{split}/{names[label]}"
            os.makedirs(folder, exist_ok=True)
            with open(f"{folder}/{i:05d}.pgm", "wb") as f:
                f.write(b"P5\n28 28\n255\n" + images[i * 784:(i + 1) * 784])
            written[label] += 1
PY

"$maqd" train --data folder --data-dir "$dir/images" --arch "(16C3)x2-AP-(32C3)x2-AP-10C1-GAP" --mw 3 --ma 4 \
  --epochs 2 --batch-size 50 --threads 2 --out "$dir/run" >"$dir/log" 2>&1 || fail "training failed"
grep -q "^data: folder/train 1800 training, folder/test 300 test images; 3 classes: bag, sneaker, trouser$" "$dir/log" ||
  fail "the data line does not count 1800 and 300 images in 3 named classes: $(grep '^data:' "$dir/log")"
accuracy=$(sed -nE 's/^done: .* test accuracy ([0-9.]+)%.*/\1/p' "$dir/log")
awk -v a="$accuracy" 'BEGIN { exit !(a >= 80) }' || fail "test accuracy '$accuracy' % after 2 epochs; three easy classes should pass 80 %"

"$maqd" export "$dir/run" -o "$dir/model.maqd" >>"$dir/log" 2>&1 || fail "export failed"
"$maqd" info "$dir/model.maqd" | grep -q "^  class_names  *bag, sneaker, trouser$" ||
  fail "the model file does not name the classes after the folders: $("$maqd" info "$dir/model.maqd" | grep -i class)"
"$maqd" info "$dir/model.maqd" | grep -q "^  arch  *(16C3)x2-AP-(32C3)x2-AP-3C1-GAP$" ||
  fail "the model's arch does not end in its 3 outputs: $("$maqd" info "$dir/model.maqd" | grep arch)"
# A model under another name is still a model (info reads its magic).
cp "$dir/model.maqd" "$dir/model.bin"
"$maqd" info "$dir/model.bin" | grep -q "^  class_names  *bag, sneaker, trouser$" ||
  fail "maqd info does not read a model file named model.bin: $("$maqd" info "$dir/model.bin" 2>&1 | head -2)"
"$maqd" info "$dir/run" | grep -q "^input 1×28×28, 3 classes (bag, sneaker, trouser)$" ||
  fail "maqd info RUN does not name the classes: $("$maqd" info "$dir/run" | sed -n 2p)"
"$maqd" eval "$dir/run" >"$dir/eval" 2>>"$dir/log" || fail "maqd eval failed"
grep -q "on folder/test (300 images)" "$dir/eval" || fail "maqd eval did not read the test folder: $(head -1 "$dir/eval")"

# maqd run counts right answers on the test folder; maqd-rt names each image.
counted=$("$maqd" run "$dir/model.maqd" --data-dir "$dir/images" 2>>"$dir/log" |
  sed -nE 's/.*\(300 images\): accuracy ([0-9.]+)%.*/\1/p')
[ -n "$counted" ] || fail "maqd run printed no accuracy for the 300 test images"
# --compare checks the codes against LibTorch on the runtime's --threads and
# --batch as given (300 is no multiple of 7).
"$maqd" run "$dir/model.maqd" --data-dir "$dir/images" --compare "$dir/run" --threads 2 --batch 7 --json \
  >"$dir/compare.json" 2>>"$dir/log" || fail "maqd run --compare failed: $(tail -1 "$dir/log")"
python3 - "$dir/compare.json" <<'PY' || fail "maqd run --compare: $(cat "$dir/compare.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert (r["images"], r["threads"], r["batch"]) == (300, 2, 7), r
assert r["layers"] and all(l["total"] > 0 and l["matching"] >= 0.99 * l["total"] for l in r["layers"]), r
assert r["matching_predictions"] >= 297, r
PY
"$(dirname "$maqd")/maqd-rt" "$dir/model.maqd" "$dir"/images/test/*/*.pgm >"$dir/named" 2>>"$dir/log" || fail "maqd-rt failed"
[ "$(wc -l <"$dir/named")" = 300 ] || fail "maqd-rt printed $(wc -l <"$dir/named") lines for 300 images"
right=$(sed -nE 's|.*/test/([a-z]+)/[0-9]+\.pgm: class [0-9] \(([a-z]+)\)$|\1 \2|p' "$dir/named" | awk '$1 == $2' | wc -l)
by_names=$(awk -v r="$right" 'BEGIN { printf "%.2f", 100 * r / 300 }')
[ "$by_names" = "$counted" ] || fail "maqd-rt's names are right on $by_names % of the images, maqd run counts $counted %"
# Other test images alone (no train/ beside them, some classes only) are
# labelled by the classes the network learnt: all of them are right exactly
# where maqd-rt names their folder.
mkdir -p "$dir/new/test" && cp -r "$dir/images/test/trouser" "$dir/images/test/bag" "$dir/new/test/" ||
  fail "could not copy the images"
"$(dirname "$maqd")/maqd-rt" "$dir/model.maqd" "$dir"/new/test/*/*.pgm >"$dir/new-named" 2>>"$dir/log" || fail "maqd-rt failed"
new_right=$(sed -nE 's|.*/test/([a-z]+)/[0-9]+\.pgm: class [0-9] \(([a-z]+)\)$|\1 \2|p' "$dir/new-named" | awk '$1 == $2' | wc -l)
new_by_names=$(awk -v r="$new_right" 'BEGIN { printf "%.2f", 100 * r / 200 }')
new_counted=$("$maqd" run "$dir/model.maqd" --data-dir "$dir/new" 2>>"$dir/log" |
  sed -nE 's/.*\(200 images\): accuracy ([0-9.]+)%.*/\1/p')
[ "$new_counted" = "$new_by_names" ] || fail "on test images alone maqd run counts '$new_counted' %, maqd-rt's names $new_by_names %"
"$maqd" eval "$dir/run" --data-dir "$dir/new" >"$dir/new-eval" 2>>"$dir/log" || fail "maqd eval on test images alone failed"
# LibTorch's float evaluation may round a code at a boundary the other way
# than the integer runtime: within two of the 200 images.
evaluated=$(sed -nE 's/^accuracy ([0-9.]+)%.*/\1/p' "$dir/new-eval")
awk -v a="$evaluated" -v b="$new_counted" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1.0) }' ||
  fail "maqd eval on test images alone: '$evaluated' %, maqd run: $new_counted %"

# Fashion-MNIST has images of the same size, but its labels stand for ten
# other classes: evaluating the three-class network on it is refused.
"$maqd" eval "$dir/run" --data fashion-mnist >"$dir/refused" 2>&1 && fail "maqd eval on another data set's classes ran"
grep -q "^maqd: error: fashion-mnist/test: labels 10 classes (T-shirt/top, Trouser, .*); the checkpoint was trained on 3 classes (bag, sneaker, trouser): expected a data set of the same classes" "$dir/refused" ||
  fail "maqd eval on another data set's classes: $(tail -1 "$dir/refused")"
"$maqd" run "$dir/model.maqd" --data fashion-mnist >"$dir/refused" 2>&1 && fail "maqd run on another data set's classes ran"
grep -q "the model was trained on 3 classes (bag, sneaker, trouser)" "$dir/refused" ||
  fail "maqd run on another data set's classes: $(tail -1 "$dir/refused")"

# --test-split in eval and run follows train's rule: a fraction, for folder sets.
"$maqd" eval "$dir/run" --test-split 2 >"$dir/refused" 2>&1 && fail "maqd eval took --test-split 2"
rule="expected 0, or a fraction between 0 and 1 with the folder data set"
grep -qx "maqd: error: --test-split: is 2 with data set folder; $rule" "$dir/refused" ||
  fail "maqd eval --test-split 2: $(tail -1 "$dir/refused")"
"$maqd" run "$dir/model.maqd" --data fashion-mnist --test-split 0.5 >"$dir/refused" 2>&1 &&
  fail "maqd run took --test-split with Fashion-MNIST"
grep -qx "maqd: error: --test-split: is 0.5 with data set fashion-mnist; $rule" "$dir/refused" || fail "maqd run --test-split with Fashion-MNIST: $(tail -1 "$dir/refused")"

# Resuming from a folder whose classes differ (a class renamed: the same
# count, but "pants" sorts before "sneaker", so labels would shift) is refused.
cp -r "$dir/images" "$dir/renamed" && mv "$dir/renamed/train/trouser" "$dir/renamed/train/pants" &&
  mv "$dir/renamed/test/trouser" "$dir/renamed/test/pants" || fail "could not copy the images"
"$maqd" train --resume --out "$dir/run" --data-dir "$dir/renamed" >"$dir/resumed" 2>&1 && fail "resumed on other classes"
grep -q "^maqd: error: $dir/renamed: holds 3 classes (bag, pants, sneaker) of 1×28×28 images; the run in $dir/run started on 3 classes (bag, sneaker, trouser)" "$dir/resumed" ||
  fail "resuming on other classes: $(tail -1 "$dir/resumed")"

# One folder of class folders, no train/ and test/: --test-split holds out
# every 8th image of each class (700 a class: 87 test, 613 training), and
# eval and run read back exactly that test part.
for class in bag sneaker trouser; do
  mkdir -p "$dir/flat/$class" && cp "$dir/images/train/$class"/*.pgm "$dir/flat/$class/" &&
    for f in "$dir/images/test/$class"/*.pgm; do cp "$f" "$dir/flat/$class/t$(basename "$f")"; done ||
    fail "could not copy the images"
done
"$maqd" train --data folder --data-dir "$dir/flat" --test-split 0.125 --arch "(16C3)x2-AP-10C1-GAP" --mw 3 --ma 4 \
  --epochs 1 --batch-size 50 --threads 2 --out "$dir/split-run" >"$dir/split-log" 2>&1 || fail "training with --test-split failed"
grep -q "^data: folder/train 1839 training, folder/test 261 test images; 3 classes: bag, sneaker, trouser$" "$dir/split-log" ||
  fail "--test-split 0.125 of 3 × 700 images: $(grep '^data:' "$dir/split-log"); expected 1839 and 261"
split_trained=$(sed -nE 's/^done: .* test accuracy ([0-9.]+)%.*/\1/p' "$dir/split-log")
"$maqd" eval "$dir/split-run" >"$dir/split-eval" 2>>"$dir/log" || fail "maqd eval of the split run failed"
grep -q "on folder/test (261 images)" "$dir/split-eval" || fail "maqd eval did not read the split's test part: $(head -1 "$dir/split-eval")"
split_evaluated=$(sed -nE 's/^accuracy ([0-9.]+)%.*/\1/p' "$dir/split-eval")
[ "$split_evaluated" = "$split_trained" ] ||
  fail "maqd eval gives $split_evaluated % on the test part, training's last test pass $split_trained %"
"$maqd" eval "$dir/split-run" --data-dir "$dir/flat" 2>>"$dir/log" | grep -q "on folder/test (261 images)" ||
  fail "maqd eval --data-dir of a folder without test/ did not split it as the run did"
"$maqd" export "$dir/split-run" -o "$dir/split.maqd" >>"$dir/log" 2>&1 || fail "export of the split run failed"
# maqd bench builds its float contenders from --checkpoint: another network's is refused.
"$maqd" bench "$dir/model.maqd" --checkpoint "$dir/split-run" --without-onnxruntime >"$dir/refused" 2>&1 &&
  fail "maqd bench ran a model against another network's checkpoint"
grep -qx "maqd: error: bench: --checkpoint $dir/split-run is not the network of $dir/model.maqd: op 8 is gap_linear 1×1×3 there, conv 14×14×32 in the model; expected the checkpoint the model was exported from" \
  "$dir/refused" || fail "maqd bench with another checkpoint: $(tail -1 "$dir/refused")"
"$maqd" info "$dir/split.maqd" | grep -q "^  test_split  *0.125$" || fail "the model file does not record the test split"
"$maqd" run "$dir/split.maqd" --data-dir "$dir/flat" 2>>"$dir/log" | grep -q "(261 images): accuracy" ||
  fail "maqd run on the model's folder did not read the 261 test images of its split"
"$maqd" run "$dir/split.maqd" --data-dir "$dir/flat" --test-split 0.25 2>>"$dir/log" | grep -q "(525 images): accuracy" ||
  fail "maqd run --test-split 0.25 did not read 3 × 175 test images"
"$maqd" run "$dir/split.maqd" --data-dir "$dir/new" 2>>"$dir/log" | grep -q "(200 images): accuracy" ||
  fail "maqd run of the split model on new test images (a test/ folder) did not read its 200 images"
"$maqd" train --data folder --data-dir "$dir/images" --test-split 0.1 --out "$dir/no-run" >"$dir/refused" 2>&1 &&
  fail "--test-split beside a train/ folder was accepted"
grep -q "^maqd: error: $dir/images/train: a train/ folder beside --test-split" "$dir/refused" ||
  fail "--test-split beside train/: $(tail -1 "$dir/refused")"
"$maqd" train --test-split 0.1 --out "$dir/no-run" >"$dir/refused" 2>&1 && fail "--test-split with Fashion-MNIST was accepted"
grep -q "field test_split is 0.1 with data set fashion-mnist" "$dir/refused" || fail "--test-split with Fashion-MNIST: $(tail -1 "$dir/refused")"

# Images of two sizes with --resize: every other training image and every
# test image doubled to 56×56 (each pixel 2×2), all scaled to 28×28 as they
# are read; export records the size, and eval, run --data-dir and run
# --image scale theirs alike. A model trained without --resize refuses a
# 56×56 image. (The images are square, so :crop scales them as the plain
# size would; a wide image below checks what :crop keeps.)
python3 - "$dir/images" "$dir/sized" <<'PY' || fail "could not write the doubled images"
import os, sys
source, out = sys.argv[1], sys.argv[2]
for split in ("train", "test"):
    for name in sorted(os.listdir(f"{source}/{split}")):
        os.makedirs(f"{out}/{split}/{name}", exist_ok=True)
        for i, file in enumerate(sorted(os.listdir(f"{source}/{split}/{name}"))):
            pixels = open(f"{source}/{split}/{name}/{file}", "rb").read()[-784:]
            with open(f"{out}/{split}/{name}/{file}", "wb") as f:
                if split == "train" and i % 2 == 0:
                    f.write(b"P5\n28 28\n255\n" + pixels)
                else:
                    rows = [bytes(p for p in pixels[r * 28:(r + 1) * 28] for _ in (0, 1)) for r in range(28)]
                    f.write(b"P5\n56 56\n255\n" + b"".join(row + row for row in rows))
PY
"$maqd" train --data folder --data-dir "$dir/sized" --resize 28x28:crop --arch "(16C3)x2-AP-10C1-GAP" --mw 3 --ma 4 \
  --epochs 1 --batch-size 50 --threads 2 --out "$dir/sized-run" >"$dir/sized-log" 2>&1 || fail "training with --resize failed"
grep -q "^data: folder/train 1800 training, folder/test 300 test images; 3 classes: bag, sneaker, trouser$" "$dir/sized-log" ||
  fail "--resize: $(grep '^data:' "$dir/sized-log")"
sized_trained=$(sed -nE 's/^done: .* test accuracy ([0-9.]+)%.*/\1/p' "$dir/sized-log")
# This small network is far from its best after 1 epoch, on the original
# 28×28 images as much as on these; chance is 33 %.
awk -v a="$sized_trained" 'BEGIN { exit !(a >= 50) }' || fail "test accuracy '$sized_trained' % after 1 epoch on scaled images"
sized_evaluated=$("$maqd" eval "$dir/sized-run" 2>>"$dir/log" | sed -nE 's/^accuracy ([0-9.]+)%.*/\1/p')
[ "$sized_evaluated" = "$sized_trained" ] ||
  fail "maqd eval gives '$sized_evaluated' % on the scaled test images, training's last test pass $sized_trained %"
"$maqd" export "$dir/sized-run" -o "$dir/sized.maqd" >>"$dir/log" 2>&1 || fail "export of the --resize run failed"
"$maqd" info "$dir/sized.maqd" | grep -q "^  resize  *28x28:crop$" || fail "the model file does not record the resize"
sized_counted=$("$maqd" run "$dir/sized.maqd" --data-dir "$dir/sized" 2>>"$dir/log" |
  sed -nE 's/.*\(300 images\): accuracy ([0-9.]+)%.*/\1/p')
[ -n "$sized_counted" ] || fail "maqd run on the 56×56 test images printed no accuracy"
big=$(ls "$dir"/sized/test/bag/*.pgm | head -1)
"$maqd" run "$dir/sized.maqd" --image "$big" 2>>"$dir/log" | grep -Eq ": class [0-2] \((bag|sneaker|trouser)\)$" ||
  fail "maqd run --image on a 56×56 image with the --resize model"
# A model whose resize names another size than its input (no exporter
# writes one; a hand-edited file, checksum redone) is refused, not run on
# pixels of the wrong size.
python3 - "$dir/sized.maqd" "$dir/mismatched.maqd" <<'PY' || fail "could not write the mismatched model"
import struct, sys, zlib
data = bytearray(open(sys.argv[1], "rb").read())
assert data.count(b"28x28:crop") == 1
data = data.replace(b"28x28:crop", b"27x28:crop")
data[24:28] = b"\0\0\0\0"
data[24:28] = struct.pack("<I", zlib.crc32(data))
open(sys.argv[2], "wb").write(data)
PY
for given in "--image $big" "--data-dir $dir/sized"; do
  # shellcheck disable=SC2086  # two words each
  "$maqd" run "$dir/mismatched.maqd" $given >"$dir/refused" 2>&1 && fail "a model resizing to 27x28 ran ($given)"
  grep -q "the model's resize is '27x28:crop'; expected its input size, 28x28" "$dir/refused" ||
    fail "mismatched resize ($given): $(tail -1 "$dir/refused")"
done
# 28×56 images, 28×28 ones with 14 columns of light grey either side:
# :crop keeps their middle 28 columns, so each is classified as the image
# it holds (stretched, they would be squeezed to half their width).
mkdir -p "$dir/wide"
python3 - "$dir/sized/train" "$dir/wide" <<'PY' || fail "could not write the wide images"
import os, sys
source, out = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(source)):
    files = [f for f in sorted(os.listdir(f"{source}/{name}"))
             if open(f"{source}/{name}/{f}", "rb").read().startswith(b"P5\n28 28\n")][:10]
    for f in files:
        pixels = open(f"{source}/{name}/{f}", "rb").read()[-784:]
        rows = [bytes([200] * 14) + pixels[r * 28:(r + 1) * 28] + bytes([200] * 14) for r in range(28)]
        open(f"{out}/{name}-{f}", "wb").write(b"P5\n56 28\n255\n" + b"".join(rows))
        os.symlink(f"{source}/{name}/{f}", f"{out}/{name}-{f}.narrow.pgm")
PY
narrow=("$dir"/wide/*.narrow.pgm)
[ ${#narrow[@]} = 30 ] || fail "expected 30 images of 28×28 to widen, found ${#narrow[@]}"
"$maqd" run "$dir/sized.maqd" --image "${narrow[@]}" 2>>"$dir/log" | sed -E 's/^.*: //' >"$dir/narrow-classes" ||
  fail "maqd run --image on the 28×28 images"
"$maqd" run "$dir/sized.maqd" --image "${narrow[@]%.narrow.pgm}" 2>>"$dir/log" | sed -E 's/^.*: //' >"$dir/wide-classes" ||
  fail "maqd run --image on the 28×56 images"
[ "$(wc -l <"$dir/wide-classes")" = 30 ] && cmp -s "$dir/narrow-classes" "$dir/wide-classes" ||
  fail ":crop did not keep the middle of the wide images: $(diff "$dir/narrow-classes" "$dir/wide-classes" | head -3)"
# Plain HxW (stretching) end to end, briefly: recorded, and run --image
# scales a 56×56 image with it.
"$maqd" train --data folder --data-dir "$dir/sized" --resize 28x28 --arch "(16C3)x2-AP-10C1-GAP" --mw 3 --ma 4 \
  --epochs 1 --train-limit 150 --test-limit 30 --batch-size 50 --threads 2 --out "$dir/plain-run" >"$dir/plain-log" 2>&1 ||
  fail "training with --resize 28x28 failed: $(tail -1 "$dir/plain-log")"
# eval takes the run's --test-limit unless given one; 0 is all.
"$maqd" eval "$dir/plain-run" 2>>"$dir/log" | grep -q "(30 images)" || fail "maqd eval did not take the run's --test-limit 30"
all_test=$("$maqd" eval "$dir/plain-run" --test-limit 0 2>>"$dir/log" | sed -nE 's/.*\(([0-9]+) images\).*/\1/p')
[[ -n $all_test && $all_test -gt 30 ]] || fail "maqd eval --test-limit 0 evaluated ${all_test:-no} images, not all"
"$maqd" export "$dir/plain-run" -o "$dir/plain.maqd" >>"$dir/log" 2>&1 || fail "export of the plain --resize run failed"
"$maqd" info "$dir/plain.maqd" | grep -q "^  resize  *28x28$" || fail "the model file does not record the plain resize"
"$maqd" run "$dir/plain.maqd" --image "$big" 2>>"$dir/log" | grep -Eq ": class [0-2] \((bag|sneaker|trouser)\)$" ||
  fail "maqd run --image on a 56×56 image with the plain --resize model"
"$maqd" run "$dir/model.maqd" --image "$big" >"$dir/refused" 2>&1 && fail "a 28×28 model without --resize took a 56×56 image"
grep -q "image is 56×56×1; the model expects 28×28×1" "$dir/refused" || fail "56×56 image: $(tail -1 "$dir/refused")"
"$maqd" train --resize 28x28 --out "$dir/no-run" >"$dir/refused" 2>&1 && fail "--resize with Fashion-MNIST was accepted"
grep -q "field resize is '28x28' with data set fashion-mnist" "$dir/refused" || fail "--resize with Fashion-MNIST: $(tail -1 "$dir/refused")"

echo "OK: --data folder: $accuracy % after 2 epochs; maqd-rt names the folders' classes, right on $by_names % (maqd run: $counted %)"
