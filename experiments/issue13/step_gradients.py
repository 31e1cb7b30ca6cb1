#!/usr/bin/python3
"""Issue 13's accuracy question asked one step at a time: does the current
training code compute the same gradients as the code before the
integer-code convolutions (e30ff37)?

Five-epoch accuracies of the two codes differ seed by seed by about a point
either way (docs/results.md, "Seeds for the (15, 8) criterion"), and
the seed pairs cannot tell a real change from chaos. This asks the question
where chaos has not yet acted: for each seed, both binaries start from the
same initial weights (checked bit for bit) and take one SGD step on the
same batch (the first 100 Fashion-MNIST training images, no augmentation);
the gradient each one used is read back from its weights before and after
the step, and both are set against an independent float64 gradient of the
same maths (bench/peer_training.py's network: plain PyTorch ops, run in
float64 from the same weights and images).

If the current code were wrong (a scale, a sign, a dropped term), its
gradient would sit far from the float64 one while the old code's sat
close. If both sit at the same distance, the codes differ by float32
rounding only. Where they part, the script also prints which weights'
levels float32 standardization flips against float64 (and how far each
lies from its threshold), and how many activation codes of the PyTorch
network differ between float32 and float64, layer by layer.

Needs Debian's python3-torch (`bash scripts/setup.sh --bench`).

  python3 experiments/issue13/step_gradients.py OUT [--seeds 0 1 2]
      [--before ../maqd-e30ff37/build/bin/maqd] [--now build/bin/maqd]

Writes OUT/seed-S/{before,now}-{w0,w1}/ (the runs) and prints one table:
each gradient's distance from the float64 one, ‖g − g64‖/‖g64‖ over a group
of parameters, for both binaries and for the same PyTorch network run in
float32 (what a PyTorch user's step computes), and the two binaries'
distance from each other.
"""
import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LR = 1.0  # one step of lr 1: w1 = w0 - (g + wd w0); large enough that float32 w1 keeps g's digits
# maqd refuses lr 0; a step of lr 1e-30 leaves every weight of magnitude > 1e-20 unchanged in float32
# and moves the zero-started LBN shifts by ~1e-33, which w0 rounds back to 0.
TINY_LR = 1e-30
WEIGHT_DECAY = 5e-4
BATCH = 100
MW, MA = 15, 8  # the (15, 8) network


def load_peer():
    spec = importlib.util.spec_from_file_location("peer", os.path.join(ROOT, "bench", "peer_training.py"))
    peer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer)
    return peer


def train(binary, extra, out, seed, lr, data_dir, threads):
    if os.path.exists(os.path.join(out, "summary.json")):
        return
    cmd = [binary, "train", "--arch", "vgg", "--width", "0.25", "--mw", str(MW), "--ma", str(MA),
           "--epochs", "1", "--seed", str(seed), "--threads", str(threads), "--augment", "0",
           "--train-limit", str(BATCH), "--test-limit", str(BATCH), "--lr", repr(lr),
           "--data-dir", data_dir, "--out", out] + extra
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def parameters(run):
    module = torch.jit.load(os.path.join(run, "checkpoint.pt"))
    header = json.loads(module.header)
    params = {k[len("model."):]: v.detach().double().clone()
              for k, v in module.named_parameters() if k.startswith("model.")}
    return params, header


def reference_gradient(peer, w0, header, data_dir, dtype=torch.float64):
    """The gradient of Eq. 9's loss at w0 on the first BATCH images, computed in dtype."""
    net = peer.vgg(0.25, MW, MA, 1, 10, torch.float32).to(dtype).train()
    hidden = [m for m in net if isinstance(m, peer.HiddenLayer)]
    names = {}
    for i, layer in enumerate(hidden, start=1):
        names[f"conv{i}.weight"] = layer.conv.weight
        names[f"norm{i}.lbn.weight"] = layer.norm.weight
        names[f"norm{i}.lbn.bias"] = layer.norm.bias
    output = [m for m in net if isinstance(m, peer.OutputConv)][0]
    names["output.weight"], names["output.bias"] = output.weight, output.bias
    if set(names) != set(w0):
        raise SystemExit(f"step_gradients.py: parameters {sorted(set(w0) ^ set(names))} exist on one "
                         "side only; expected the peer's VGG to mirror maqd's")
    with torch.no_grad():
        for k, p in names.items():
            p.copy_(w0[k].view_as(p))
    images = peer.read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz"))[:BATCH].double() / 255
    labels = peer.read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"))[:BATCH].long()
    mean, std = header["stats"]["mean"][0], header["stats"]["std"][0]
    images = ((images - mean) / std).unsqueeze(1).to(dtype)
    codes = []  # each hidden layer's activation codes, 0 .. M_a - 1
    for layer in hidden:
        layer.register_forward_hook(lambda module, inputs, y: codes.append(torch.round(y.detach() * (MA - 1)).to(torch.uint8)))
    loss = peer.maqd_loss(net(images), labels)
    loss.backward()
    return {k: p.grad.detach().double() for k, p in names.items()}, loss.item(), codes


def weight_level_flips(peer, w0):
    """Per hidden conv: the weights whose level differs when standardization runs in float32
    rather than float64 (as torch's var_mean does it), with their distance from the rounding
    threshold in float64, in units of one level."""
    flips = []
    delta = (MW - 1) / 2
    for key in (k for k in w0 if k.startswith("conv")):
        w = w0[key]
        z64 = peer.standardize(w) * peer.WEIGHT_SCALE * delta
        z32 = (peer.standardize(w.float()) * peer.WEIGHT_SCALE * delta).double()
        differ = torch.round(z64).clamp(-delta, delta) != torch.round(z32).clamp(-delta, delta)
        layer = int(key[len("conv"):-len(".weight")])
        flips += [(layer, f"{d:.1e}") for d in (z64 - torch.floor(z64) - 0.5).abs()[differ].tolist()]
    return flips


def used_gradient(w0, w1):
    """What the binary's step used: w1 = w0 - LR (g + wd w0), wd on 4-D weights only."""
    return {k: (w0[k] - w1[k]) / LR - (WEIGHT_DECAY * w0[k] if w0[k].dim() == 4 else 0) for k in w0}


def groups(keys):
    out = {"conv weights": [k for k in keys if k.startswith("conv")],
           "LBN scales": [k for k in keys if k.endswith("lbn.weight")],
           "LBN shifts": [k for k in keys if k.endswith("lbn.bias")],
           "output conv": [k for k in keys if k.startswith("output")]}
    out["all"] = list(keys)
    return out


def rel(a, b, keys):
    num = sum(((a[k] - b[k]) ** 2).sum().item() for k in keys)
    den = sum((b[k] ** 2).sum().item() for k in keys)
    return math.sqrt(num / den)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--before", default=os.path.join(ROOT, "..", "maqd-e30ff37", "build", "bin", "maqd"))
    p.add_argument("--now", default=os.path.join(ROOT, "build", "bin", "maqd"))
    p.add_argument("--now-args", default="--lbn-shift-init zero",
                   help="the current code's flags beyond the recipe (default: the LBN start e30ff37 had)")
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    peer = load_peer()
    sides = {"before": (args.before, []), "now": (args.now, args.now_args.split())}

    print("| seed | parameters | maqd e30ff37 | maqd now | PyTorch float32 | maqd now vs e30ff37 |")
    print("|---|---|---|---|---|---|")
    for seed in args.seeds:
        folder = os.path.join(args.out, f"seed-{seed}")
        grads, starts, losses = {}, {}, {}
        for side, (binary, extra) in sides.items():
            for name, lr in (("w0", TINY_LR), ("w1", LR)):
                train(binary, extra, os.path.join(folder, f"{side}-{name}"), seed, lr, args.data_dir, args.threads)
            w0, header = parameters(os.path.join(folder, f"{side}-w0"))
            w0 = {k: torch.where(v.abs() < 1e-20, torch.zeros_like(v), v) for k, v in w0.items()}
            w1, _ = parameters(os.path.join(folder, f"{side}-w1"))
            starts[side], grads[side] = (w0, header), used_gradient(w0, w1)
            with open(os.path.join(folder, f"{side}-w1", "metrics.jsonl")) as f:
                losses[side] = json.loads(f.readline())["train_loss"]
        (w0, header), (w0_now, _) = starts["before"], starts["now"]
        differing = [k for k in w0 if not torch.equal(w0[k], w0_now[k])]
        if differing:
            raise SystemExit(f"step_gradients.py: seed {seed}: the two binaries start from different "
                             f"weights ({', '.join(differing)}); expected the same initialization")
        g64, loss64, codes64 = reference_gradient(peer, w0, header, args.data_dir)
        g32, loss32, codes32 = reference_gradient(peer, w0, header, args.data_dir, torch.float32)
        flips = [int((a != b).sum()) for a, b in zip(codes64, codes32)]
        weight_flips = weight_level_flips(peer, w0)
        for label, keys in groups(w0).items():
            print(f"| {seed} | {label} | {rel(grads['before'], g64, keys):.2e} | {rel(grads['now'], g64, keys):.2e} "
                  f"| {rel(g32, g64, keys):.2e} | {rel(grads['now'], grads['before'], keys):.2e} |", flush=True)
        print(f"seed {seed}: loss float64 {loss64:.7f}, maqd e30ff37 {losses['before']:.7f}, maqd now "
              f"{losses['now']:.7f}, PyTorch float32 {loss32:.7f}; initial weights equal bit for bit; "
              f"activation codes of PyTorch float32 that differ from float64's, layers 1-16: {flips} "
              f"of {[a.numel() for a in codes64]}; weight levels float32 standardization flips "
              f"(layer, distance from the threshold in levels): {weight_flips}",
              file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
