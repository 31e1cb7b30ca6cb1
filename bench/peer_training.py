#!/usr/bin/python3
"""The training step of maqd written as a PyTorch user would write it.

This is the peer that `bench_training` times against maqd's own step, in
alternating rounds of one run: the same network (the VGG preset at a width),
the same maths (weight standardization, LBN, the weight and activation
quantizers with their surrogate gradients as torch.autograd.Functions built
from ordinary torch ops, the loss of Eq. 9, SGD with momentum and weight
decay on conv weights) in plain eager PyTorch (Debian's python3-torch, whose
convolutions run through the same oneDNN as maqd's LibTorch).

It is driven over stdin/stdout, one command per line:
  setup NAME MW MA [PRECISION]
                      build a network (MW = MA = 0: float with ReLU), warm up;
                      PRECISION bf16 runs every conv in bfloat16 (inputs and
                      weights cast, output cast back to float32, as autocast
                      does), float32 (the default) does not
  time NAME STEPS     run STEPS training steps, answer "NAME IMAGES_PER_SECOND"
  quit
Every answer is one line; "ready" after setup. Errors go to stderr and end
the process with a non-zero status.

Run by hand:
  printf 'setup q 15 8\\ntime q 10\\nquit\\n' | /usr/bin/python3 bench/peer_training.py
"""
import argparse
import gzip
import math
import struct
import sys
import time

import torch
import torch.nn.functional as F

VGG = "(64C3)x2-(128C3)x2-AP-(256C3)x4-AP-(512C3)x4-AP-(512C3)x4-10C1-GAP"
WS_EPS = 1e-5
NORM_EPS = 1e-5
NORM_MOMENTUM = 0.1
ALPHA = 0.25          # the sigmoid surrogate's alpha
WEIGHT_SCALE = 1 / 3  # s
GAMMA = 0.05          # Eq. 9


class ActivationQuant(torch.autograd.Function):
    """clamp(round((M_a-1)x)/(M_a-1), 0, 1); backward: the sum of scaled
    sigmoid slopes at the thresholds (m - 1/2)/(M_a - 1), times 1/(M_a-1)."""

    @staticmethod
    def forward(ctx, x, levels):
        ctx.save_for_backward(x)
        ctx.levels = levels
        steps = levels - 1
        return torch.clamp(torch.round(x * steps) / steps, 0.0, 1.0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        steps = ctx.levels - 1
        slope = torch.zeros_like(x)
        for m in range(1, ctx.levels):
            s = torch.sigmoid((x - (m - 0.5) / steps) / ALPHA)
            slope = slope + s * (1 - s) / ALPHA
        return grad * slope / steps, None


class WeightQuant(torch.autograd.Function):
    """clamp(round(delta * s * w)/delta, -1, 1); backward: 1 where |s w| < 1."""

    @staticmethod
    def forward(ctx, w, delta):
        z = w * WEIGHT_SCALE
        ctx.save_for_backward(z)
        return torch.clamp(torch.round(z * delta) / delta, -1.0, 1.0)

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad * ((z > -1) & (z < 1)).to(grad.dtype), None


def standardize(w):
    flat = w.reshape(w.shape[0], -1)
    var, mean = torch.var_mean(flat, dim=1, unbiased=False, keepdim=True)
    return ((flat - mean) * torch.rsqrt(var + WS_EPS)).view_as(w)


class LayerBatchNorm(torch.nn.Module):
    """One mean and variance over N, C, H, W; a per-channel affine."""

    def __init__(self, channels):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(channels))
        self.bias = torch.nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(()))
        self.register_buffer("running_var", torch.ones(()))

    def forward(self, x):
        var, mean = torch.var_mean(x, unbiased=False)
        with torch.no_grad():
            n = x.numel()
            self.running_mean.mul_(1 - NORM_MOMENTUM).add_(mean * NORM_MOMENTUM)
            self.running_var.mul_(1 - NORM_MOMENTUM).add_(var * (n / (n - 1)) * NORM_MOMENTUM)
        scale = self.weight * torch.rsqrt(var + NORM_EPS)
        shift = self.bias - mean * scale
        return torch.addcmul(shift.view(1, -1, 1, 1), x, scale.view(1, -1, 1, 1))


def conv2d(x, w, bias, padding, dtype):
    if dtype == torch.float32:
        return F.conv2d(x, w, bias, padding=padding)
    bias = None if bias is None else bias.to(dtype)
    return F.conv2d(x.to(dtype), w.to(dtype), bias, padding=padding).float()


class OutputConv(torch.nn.Conv2d):
    def __init__(self, cin, cout, kernel, dtype):
        super().__init__(cin, cout, kernel, padding=kernel // 2)
        self.dtype = dtype

    def forward(self, x):
        return conv2d(x, self.weight, self.bias, self.padding, self.dtype)


class HiddenLayer(torch.nn.Module):
    """conv (WS, quantized weights, no bias) -> LBN -> quantized activation or ReLU."""

    def __init__(self, cin, cout, kernel, mw, ma, dtype):
        super().__init__()
        self.conv = torch.nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False)
        self.norm = LayerBatchNorm(cout)
        self.delta = (mw - 1) / 2 if mw else 0
        self.ma = ma
        self.dtype = dtype

    def forward(self, x):
        w = standardize(self.conv.weight)
        if self.delta:
            w = WeightQuant.apply(w, self.delta)
        x = self.norm(conv2d(x, w, None, self.conv.padding, self.dtype))
        return ActivationQuant.apply(x, self.ma) if self.ma else torch.relu(x)


def vgg(width, mw, ma, in_channels, classes, dtype):
    layers, channels = [], in_channels
    for token in VGG.split("-"):
        if token == "AP":
            layers.append(torch.nn.AvgPool2d(2))
        elif token == "GAP":
            layers.append(torch.nn.AdaptiveAvgPool2d(1))
        elif token.startswith("("):
            spec, repeat = token[1:].split(")x")
            out, kernel = (int(v) for v in spec.split("C"))
            for _ in range(int(repeat)):
                scaled = max(1, round(out * width))
                layers.append(HiddenLayer(channels, scaled, kernel, mw, ma, dtype))
                channels = scaled
        else:  # the float output conv, e.g. 10C1
            _, kernel = (int(v) for v in token.split("C"))
            layers.append(OutputConv(channels, classes, kernel, dtype))
    return torch.nn.Sequential(*layers, torch.nn.Flatten())


def maqd_loss(logits, labels):
    onehot = F.one_hot(labels, logits.shape[1]).to(logits.dtype)
    return (1 - GAMMA) * F.cross_entropy(logits, labels) + GAMMA * F.mse_loss(logits, onehot)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


class Contender:
    def __init__(self, args, mw, ma, dtype, batches):
        torch.manual_seed(0)
        self.net = vgg(args.width, mw, ma, 1, 10, dtype).train()
        decayed = [p for p in self.net.parameters() if p.dim() == 4]
        plain = [p for p in self.net.parameters() if p.dim() != 4]
        self.opt = torch.optim.SGD([{"params": decayed, "weight_decay": args.weight_decay},
                                    {"params": plain, "weight_decay": 0.0}],
                                   lr=args.lr, momentum=args.momentum)
        self.batches = batches
        for i in range(3):  # warm-up: first touch of buffers, oneDNN's primitive caches
            self.step(*batches[i % len(batches)])

    def step(self, images, labels):
        loss = maqd_loss(self.net(images), labels)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()

    def images_per_second(self, steps):
        images = 0
        start = time.perf_counter()
        for s in range(steps):
            images_batch, labels = self.batches[s % len(self.batches)]
            self.step(images_batch, labels)
            images += labels.shape[0]
        return images / (time.perf_counter() - start)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--width", type=float, default=0.25)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--batches", type=int, default=10, help="distinct batches to cycle through")
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    n = args.batch * args.batches
    images = read_idx(f"{args.data_dir}/train-images-idx3-ubyte.gz")[:n].float().div_(255)
    labels = read_idx(f"{args.data_dir}/train-labels-idx1-ubyte.gz")[:n].long()
    images = ((images - images.mean()) / images.std()).unsqueeze(1)
    batches = [(images[i:i + args.batch].contiguous(), labels[i:i + args.batch])
               for i in range(0, n, args.batch)]

    contenders = {}
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "setup" and len(words) in (4, 5) and words[4:] in ([], ["float32"], ["bf16"]):
            dtype = torch.bfloat16 if words[4:] == ["bf16"] else torch.float32
            contenders[words[1]] = Contender(args, int(words[2]), int(words[3]), dtype, batches)
            print("ready", flush=True)
        elif words[0] == "time" and len(words) == 3 and words[1] in contenders:
            ips = contenders[words[1]].images_per_second(int(words[2]))
            print(f"{words[1]} {ips:.3f}", flush=True)
        elif words[0] == "quit":
            return 0
        else:
            print(f"peer_training.py: unknown command '{line.strip()}'; expected "
                  "'setup NAME MW MA [float32|bf16]', 'time NAME STEPS' (after setup) or 'quit'", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
