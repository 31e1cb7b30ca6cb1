#!/usr/bin/env python3
"""The first N images of an IDX image file (e.g. Fashion-MNIST's test set),
as the firmware's C source (test_images, test_image_count) and as raw bytes
for the host runtime, in the model's input layout ([row][column][channel]).

  test_images.py IDX_FILE(.gz) N OUT.c OUT.bin
"""
import gzip
import struct
import sys


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    path, count, out_c, out_bin = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\0\0" or data[2] != 8:
        sys.exit(f"{path}: not an IDX file of unsigned bytes (magic {data[:4].hex()}); expected 0x0000 08 NN")
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    image_bytes = 1
    for d in shape[1:]:
        image_bytes *= d
    if not 0 < count <= shape[0]:
        sys.exit(f"{path}: has {shape[0]} images; asked for {count}")
    pixels = data[4 + 4 * dims:4 + 4 * dims + count * image_bytes]
    with open(out_bin, "wb") as f:
        f.write(pixels)
    with open(out_c, "w") as f:
        f.write(f"/* The first {count} images of {path.split('/')[-1]}, {image_bytes} bytes each. */\n")
        f.write(f"const int test_image_count = {count};\n")
        f.write(f"const unsigned char test_images[{count * image_bytes}] = {{\n")
        for i in range(0, len(pixels), 16):
            f.write("  " + ", ".join(str(b) for b in pixels[i:i + 16]) + ",\n")
        f.write("};\n")


if __name__ == "__main__":
    main()
