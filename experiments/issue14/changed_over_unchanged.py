#!/usr/bin/env python3
"""Alternating `maqd run --profile` outputs read against themselves.

Usage: python3 experiments/issue14/changed_over_unchanged.py FOLDER [PATTERN]

FOLDER holds before-N.txt and after-N.txt (one model, two binaries, run
alternately). The shared machines swing by up to 1.4x between runs, moving
every layer alike, so each run's time in the ops whose kernel changed (the
convs whose kernel name contains PATTERN, default "weight tables", and the
requants right after them) is divided by its time in the other convs; the
medians of that ratio on both sides are compared.
"""
import glob
import re
import statistics
import sys


def load(path, pattern):
    ops = []
    for line in open(path):
        m = re.match(r"\s*\d+\s+(\w+)\s+(\S+)\s+\S+(?:\s+k\d+)?\s*(.*?)\s+([\d.]+)\s+[\d.]+%\s*$", line)
        if m:
            ops.append((m.group(1), m.group(3), float(m.group(4))))
    changed = unchanged = 0.0
    after_changed_conv = False
    for kind, kernel, us in ops:
        if kind == "conv":
            after_changed_conv = pattern in kernel
            if after_changed_conv:
                changed += us
            else:
                unchanged += us
        elif kind == "requant" and after_changed_conv:
            changed += us
    return changed, unchanged


def main():
    folder = sys.argv[1]
    pattern = sys.argv[2] if len(sys.argv) > 2 else "weight tables"
    medians = {}
    for side in ("before", "after"):
        runs = [load(f, pattern) for f in sorted(glob.glob(f"{folder}/{side}-*.txt"))]
        ratios = [c / u for c, u in runs]
        medians[side] = statistics.median(ratios)
        print(f"{side:6s} changed/unchanged: median {medians[side]:.3f} [{min(ratios):.3f}-{max(ratios):.3f}]"
              f"  changed {statistics.median(c for c, _ in runs):.1f} us,"
              f" unchanged {statistics.median(u for _, u in runs):.1f} us")
    print(f"changed ops after/before, each against its own run's unchanged convs: "
          f"{medians['after'] / medians['before']:.3f}")


if __name__ == "__main__":
    main()
