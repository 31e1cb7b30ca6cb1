#!/usr/bin/env python3
"""Issue 13's accuracy pairs: test accuracy after epoch 5 of the issue-4
recipe, MaQD (15, 8), trained by the code before the integer-code
convolutions and by the current code, seed by seed (accuracy-seeds.sh),
as docs/results.md's table: each pair, mean ± sd, the 95 % interval
(Student's t) of the mean paired difference, and the one-sided 95 % lower
bound after each pair from the fourth on (how a "no worse than" reading
would have moved from look to look).

  python3 experiments/issue13/seed_table.py [docs/results/issue13]
"""
import json
import math
import os
import statistics
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "docs/results/issue13"
# Two-sided 95 % quantiles of Student's t, by degrees of freedom.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
        10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110,
        18: 2.101, 19: 2.093, 20: 2.086, 25: 2.060, 30: 2.042, 40: 2.021, 60: 2.000}
# One-sided 95 % quantiles.
T95 = {1: 6.314, 2: 2.920, 3: 2.353, 4: 2.132, 5: 2.015, 6: 1.943, 7: 1.895, 8: 1.860, 9: 1.833,
       10: 1.812, 11: 1.796, 12: 1.782, 13: 1.771, 14: 1.761, 15: 1.753, 16: 1.746, 17: 1.740,
       18: 1.734, 19: 1.729, 20: 1.725, 25: 1.708, 30: 1.697, 40: 1.684, 60: 1.671}


def margin(diffs, table):
    """The t quantile (from table) times the standard error of diffs' mean.
    Between tabled degrees of freedom, the largest df below: a slightly
    larger quantile, so the interval errs wide."""
    df = len(diffs) - 1
    return table[max(k for k in table if k <= df)] * statistics.stdev(diffs) / math.sqrt(len(diffs))


def signed(x):
    return f"{x:+.2f}".replace("-", "−")


def accuracy(folder):
    with open(os.path.join(root, folder, "summary.json")) as f:
        return 100 * json.load(f)["test_accuracy"]


# Seed 0: the 06d54e6 rerun (the same training maths as e30ff37) against 8bc473c.
pairs = [(0, accuracy("fmnist-vgg025-mw15-ma8"), accuracy("after-code-conv/fmnist-vgg025-mw15-ma8"))]
seed = 1
while os.path.exists(os.path.join(root, "seeds", f"i13-seeds-now-s{seed}", "summary.json")):
    pairs.append((seed, accuracy(f"seeds/i13-seeds-before-s{seed}"), accuracy(f"seeds/i13-seeds-now-s{seed}")))
    seed += 1

print("| seed | before (e30ff37 / 06d54e6) | now | now − before |")
print("|---|---|---|---|")
for s, before, now in pairs:
    print(f"| {s} | {before:.2f} % | {now:.2f} % | {signed(now - before)} |")
befores, nows = [p[1] for p in pairs], [p[2] for p in pairs]
diffs = [now - before for _, before, now in pairs]
n = len(diffs)
mean, sd = statistics.mean(diffs), statistics.stdev(diffs)
print(f"| mean ± sd | {statistics.mean(befores):.2f} ± {statistics.stdev(befores):.2f} | "
      f"{statistics.mean(nows):.2f} ± {statistics.stdev(nows):.2f} | {signed(mean)} ± {sd:.2f} |")
df = n - 1
half = margin(diffs, T975)
print(f"\n{n} pairs; 95 % interval of the mean paired difference: {signed(mean - half)} to {signed(mean + half)} "
      f"points (t, {df} degrees of freedom); pairs for ±0.3 at this sd: about "
      f"{math.ceil((1.96 * sd / 0.3) ** 2)}")

print("one-sided 95 % lower bound of the mean paired difference after pairs 4, 5, …, "
      f"{n}: " + ", ".join(signed(statistics.mean(diffs[:k]) - margin(diffs[:k], T95)) for k in range(4, n + 1)))
