#!/usr/bin/env python3
"""Per-layer medians of alternating `maqd run --profile` outputs.

Usage: python3 experiments/issue14/compare_profiles.py FOLDER
FOLDER holds before-N.txt and after-N.txt (the same model run by two
binaries, alternately); prints each conv's and the total's median
microseconds per image on both sides and after/before.
"""
import glob
import re
import statistics
import sys


def load(path):
    text = open(path).read()
    layers = {}
    for line in text.splitlines():
        m = re.match(r"\s*\d+\s+conv\s+(\S+)\s.*?([\d.]+)\s+[\d.]+%\s*$", line)
        if m:
            layers[m.group(1)] = float(m.group(2))
    layers["total"] = float(re.search(r"([\d.]+) us per image", text).group(1))
    return layers


def main():
    folder = sys.argv[1]
    before = [load(f) for f in sorted(glob.glob(folder + "/before-*.txt"))]
    after = [load(f) for f in sorted(glob.glob(folder + "/after-*.txt"))]
    print(f"{len(before)} before, {len(after)} after; us per image, medians")
    for name in before[0]:
        b = statistics.median(run[name] for run in before)
        a = statistics.median(run[name] for run in after)
        print(f"{name:10s} before {b:8.2f}  after {a:8.2f}  after/before {a / b:.2f}")


if __name__ == "__main__":
    main()
