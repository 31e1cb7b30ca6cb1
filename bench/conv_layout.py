#!/usr/bin/python3
"""Forward + backward time of the convolutions of VGG width 1/4 at batch 100
(Fashion-MNIST sizes), through Debian's PyTorch and its oneDNN, in three
forms: float32 NCHW (what maqd trains with), float32 channels-last, and
bfloat16 NCHW. It answers whether channels-last or bf16 would speed up the
part of maqd's step that oneDNN owns, before either is built into maqd.

  /usr/bin/python3 bench/conv_layout.py [--threads 2] [--repeat 10]

Honours ONEDNN_MAX_CPU_ISA (e.g. AVX2) like maqd does under MAQD_ISA=avx2.
Prints ms per layer and in total for each form; the forms alternate per
repeat so that load from elsewhere hits them alike.
"""
import argparse
import time

import torch

# (channels in, channels out, height = width) of VGG width 1/4's 3x3 convs on 28x28 images
LAYERS = [(1, 16, 28), (16, 16, 28), (16, 32, 28), (32, 32, 28), (32, 64, 14), (64, 64, 14),
          (64, 64, 14), (64, 64, 14), (64, 128, 7), (128, 128, 7), (128, 128, 7), (128, 128, 7),
          (128, 128, 3), (128, 128, 3), (128, 128, 3), (128, 128, 3)]


def make(form, batch, cin, cout, size):
    x = torch.randn(batch, cin, size, size)
    w = torch.randn(cout, cin, 3, 3) * 0.1
    if form == "float32 channels-last":
        x = x.contiguous(memory_format=torch.channels_last)
        w = w.contiguous(memory_format=torch.channels_last)
    elif form == "bfloat16":
        x, w = x.bfloat16(), w.bfloat16()
    return x.requires_grad_(cin > 1), w.requires_grad_(True)


def step(x, w):
    y = torch.nn.functional.conv2d(x, w, padding=1)
    y.backward(torch.ones_like(y))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--repeat", type=int, default=10)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    forms = ["float32 NCHW", "float32 channels-last", "bfloat16"]
    tensors = {f: [make(f, args.batch, *layer) for layer in LAYERS] for f in forms}
    for f in list(forms):  # warm-up: oneDNN primitive creation
        try:
            for x, w in tensors[f]:
                step(x, w)
        except RuntimeError as e:  # e.g. bf16 where the CPU (or the ISA cap) lacks it
            print(f"{f}: not run, oneDNN refused it: {e}")
            forms.remove(f)
    times = {f: [[] for _ in LAYERS] for f in forms}
    for _ in range(args.repeat):
        for f in forms:
            for i, (x, w) in enumerate(tensors[f]):
                start = time.perf_counter()
                step(x, w)
                times[f][i].append(time.perf_counter() - start)
    print(f"torch {torch.__version__}, {args.threads} threads, batch {args.batch}, "
          f"median of {args.repeat} forward+backward passes, ms")
    print(f"{'layer (in, out, size)':24}" + "".join(f"{f:>24}" for f in forms))
    totals = dict.fromkeys(forms, 0.0)
    for i, layer in enumerate(LAYERS):
        row = f"{str(layer):24}"
        for f in forms:
            ms = sorted(times[f][i])[len(times[f][i]) // 2] * 1e3
            totals[f] += ms
            row += f"{ms:24.2f}"
        print(row)
    print(f"{'total':24}" + "".join(f"{totals[f]:24.2f}" for f in forms))
    print(f"{'vs float32 NCHW':24}" + "".join(f"{totals[f] / totals[forms[0]]:23.2f}x" for f in forms))


if __name__ == "__main__":
    main()
