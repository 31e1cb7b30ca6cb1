#!/usr/bin/env python3
"""Share of some layers' thread-seconds in alternating `maqd run --profile` runs.

Usage: python3 experiments/issue14/layer_share.py FOLDER NAME... -- OTHER...
For each side (the file name before "-N.txt")
in FOLDER, the median over its runs of sum(NAME layers) / sum(OTHER layers):
a change to the NAME layers read against layers it left alone in the same runs.
"""
import collections
import glob
import os
import re
import statistics
import sys


def main():
    folder = sys.argv[1]
    split = sys.argv.index("--")
    names, others = sys.argv[2:split], sys.argv[split + 1:]
    sides = collections.defaultdict(list)
    for path in sorted(glob.glob(f"{folder}/*-*.txt")):
        side = re.sub(r"-\d+\.txt$", "", os.path.basename(path))
        layers = {}
        for line in open(path):
            m = re.match(r"\s*\d+\s+\w+\s+(\S+)\s.*?([\d.]+)\s+[\d.]+%\s*$", line)
            if m:
                layers[m.group(1)] = float(m.group(2))
        sides[side].append(sum(layers[n] for n in names) / sum(layers[o] for o in others))
    for side, ratios in sides.items():
        print(f"{side}: {'+'.join(names)} / {'+'.join(others)} thread-seconds, median {statistics.median(ratios):.3f}"
              f" {[round(r, 3) for r in ratios]}")


if __name__ == "__main__":
    main()
