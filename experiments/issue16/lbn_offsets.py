"""Why ternary-weight VGG 1/8 with LBN can sit at chance (issue 16): an
independent float64-free PyTorch model of the network at initialization
(VGG 1/8 on 28x28x1, WS, ternary Q_w with Δ_w = 1, Q_a with the sigmoid
surrogate, one LBN statistic per layer), one batch of 100 random images.
For each normalization start it prints, per hidden layer, the share of the
pre-activation variance that is per-channel offset (the variance of the
channel means over the layer's variance), the share of channels with under
10 % of their units where Q_a's surrogate passes gradient (−α < â < 1 + α),
and the first and last hidden convs' relative weight-gradient norms after
one backward pass. Usage: /usr/bin/python3 lbn_offsets.py [M_a [M_w]]
(Debian's python3-torch; M_w odd, default 3: Δ_w = (M_w − 1)/2)"""
import sys

import torch

torch.set_num_threads(1)
M_A = int(sys.argv[1]) if len(sys.argv) > 1 else 8
M_W = int(sys.argv[2]) if len(sys.argv) > 2 else 3
DELTA_W = (M_W - 1) // 2
ALPHA = 0.25
ARCH = [8, 8, 16, 16, "P", 32, 32, 32, 32, "P", 64, 64, 64, 64, "P", 64, 64, 64, 64]


class ActivationQuantizer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.clamp(torch.round(x * (M_A - 1)) / (M_A - 1), 0, 1)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        d = torch.zeros_like(x)
        for m in range(1, M_A):
            s = torch.sigmoid((x - (m - 0.5) / (M_A - 1)) / ALPHA)
            d += s * (1 - s) / ALPHA
        return grad * d / (M_A - 1)


class WeightQuantizer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w_hat):
        ctx.save_for_backward(w_hat)
        return torch.clamp(torch.round(DELTA_W * w_hat / 3) / DELTA_W, -1, 1)

    @staticmethod
    def backward(ctx, grad):
        (w_hat,) = ctx.saved_tensors
        return grad * ((w_hat / 3).abs() < 1).to(grad.dtype)


def standardize(w):
    mean = w.mean(dim=(1, 2, 3), keepdim=True)
    var = w.var(dim=(1, 2, 3), unbiased=False, keepdim=True)
    return (w - mean) / torch.sqrt(var + 1e-5)


def run(seed, start):
    torch.manual_seed(seed)
    weights, c = [], 1
    for a in ARCH:
        if a == "P":
            continue
        w = torch.empty(a, c, 3, 3)
        torch.nn.init.kaiming_uniform_(w, a=5 ** 0.5)
        weights.append(w.requires_grad_())
        c = a
    out_w = torch.empty(10, c, 1, 1)
    torch.nn.init.kaiming_uniform_(out_w, a=5 ** 0.5)
    x = torch.randn(100, 1, 28, 28)
    labels = torch.randint(10, (100,))
    h, i, rows = x, 0, []
    for a in ARCH:
        if a == "P":
            h = torch.nn.functional.avg_pool2d(h, 2)
            continue
        z = torch.nn.functional.conv2d(h, WeightQuantizer.apply(standardize(weights[i])), padding=1)
        i += 1
        z = (z - z.mean()) / torch.sqrt(z.var(unbiased=False) + 1e-5)  # LBN, g = 1
        channel_means = z.mean(dim=(0, 2, 3), keepdim=True).detach()
        offset_share = (channel_means.var(unbiased=False) / z.var(unbiased=False)).item()
        if start == "centered":
            z = z - channel_means  # b_c = −(μ_c − μ)/σ
        active = ((z > -ALPHA) & (z < 1 + ALPHA)).float().mean(dim=(0, 2, 3))
        rows.append((offset_share, (active < 0.1).float().mean().item()))
        h = ActivationQuantizer.apply(z)
    logits = torch.nn.functional.conv2d(h, out_w).mean(dim=(2, 3))
    torch.nn.functional.cross_entropy(logits, labels).backward()
    rel = [w.grad.norm().item() / w.norm().item() for w in weights]
    return rows, rel


for start in ("zero", "centered"):
    for seed in (0, 1):
        rows, rel = run(seed, start)
        print(f"M_w = {M_W}, M_a = {M_A}, LBN shift {start}, seed {seed}: |dW|/|W| first conv {rel[0]:.1e}, "
              f"last {rel[-1]:.1e}, first/last {rel[0] / rel[-1]:.1e}")
        print("  layer: offset share of the variance / channels with < 10 % active units")
        print("  " + "  ".join(f"{k + 1}: {o:.2f}/{d:.2f}" for k, (o, d) in enumerate(rows)))
