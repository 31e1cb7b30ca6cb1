#!/usr/bin/env python3
"""Summarizes bench_split.sh's output: for each model and setting, maqd-rt's
images/s before and after the split in each alternation, the ratio
after/before of each alternation, and the median of those ratios (a paired
estimate: the machine's drift between alternations cancels within a pair).

  python3 experiments/issue18/summarize_split.py docs/results/issue18/split-6/bench-split-native.txt
"""
import re
import statistics
import sys
from collections import defaultdict

values = defaultdict(lambda: defaultdict(dict))  # (model, setting) -> alternation -> side -> images/s
model = side = alternation = setting = None
for line in open(sys.argv[1]):
    header = re.match(r"== (\S+), (before|after) .*alternation (\d+)", line)
    if header:
        model, side, alternation = header.group(1), header.group(2), int(header.group(3))
        continue
    threads = re.match(r"threads (\d+), batch (\d+)", line)
    if threads:
        setting = f"{threads.group(1)} thread(s), batch {threads.group(2)}"
        continue
    rate = re.match(r"\s+maqd-rt\s+(\d+)", line)
    if rate and model:
        values[(model, setting)][alternation][side] = float(rate.group(1))

print(f"{'model':10} {'setting':22} {'after/before per alternation':48} median  range")
for (model, setting), by_alternation in values.items():
    ratios = [v["after"] / v["before"] for _, v in sorted(by_alternation.items()) if {"before", "after"} <= v.keys()]
    if not ratios:
        continue
    shown = " ".join(f"{r:.2f}" for r in ratios)
    print(f"{model:10} {setting:22} {shown:48} {statistics.median(ratios):.3f}  {min(ratios):.2f}-{max(ratios):.2f}")
