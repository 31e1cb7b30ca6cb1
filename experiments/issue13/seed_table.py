#!/usr/bin/env python3
"""Issue 13's accuracy pairs: test accuracy after epoch 5 of the issue-4
recipe, MaQD (15, 8), trained by the code before the integer-code
convolutions and by the current code, seed by seed (accuracy-seeds.sh),
as docs/results.md's table: each pair, mean ± sd, the 95 % interval
(Student's t) of the mean paired difference, that interval and the
one-sided 95 % lower bound after each pair from the fourth on (how a "no
worse than" reading would have moved from look to look), and the lower
bound with the 5 % split over the looks (Bonferroni), now and as it stood
after each pair; and the fresh pairs a one-sided test fixed in advance
would need.

  python3 experiments/issue13/seed_table.py [docs/results/issue13]
"""
import json
import math
import os
import statistics
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "docs/results/issue13"


def t_quantile(p, df):
    """Student's t quantile: the x with P(T ≤ x) = p (p ≥ 0.5, df ≥ 3),
    by bisection on the CDF, 0.5 plus Simpson's rule over the density
    from 0 to x (tabled values to 4 decimals: 2.0555 at p 0.975, df 26)."""
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)

    def cdf(x, steps=1000):
        density = [c * (1 + (x * i / steps) ** 2 / df) ** (-(df + 1) / 2) for i in range(steps + 1)]
        inner = sum((4 if i % 2 else 2) * density[i] for i in range(1, steps))
        return 0.5 + (density[0] + inner + density[-1]) * x / steps / 3

    low, high = 0.0, 100.0
    if cdf(high) < p:
        raise ValueError(f"t_quantile: the {p} quantile at {df} degrees of freedom lies beyond 100")
    for _ in range(50):
        middle = (low + high) / 2
        low, high = (middle, high) if cdf(middle) < p else (low, middle)
    return (low + high) / 2


def margin(diffs, p):
    """The t quantile at p times the standard error of diffs' mean."""
    return t_quantile(p, len(diffs) - 1) * statistics.stdev(diffs) / math.sqrt(len(diffs))


def signed(x):
    text = f"{x:+.2f}"
    return "0.00" if float(text) == 0 else text.replace("-", "−")


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
half = margin(diffs, 0.975)
# The fewest pairs whose 95 % interval would be ±0.3 at this sd.
needed = next(k for k in range(4, 10_000) if t_quantile(0.975, k - 1) * sd / math.sqrt(k) <= 0.3)
print(f"\n{n} pairs; 95 % interval of the mean paired difference: {signed(mean - half)} to {signed(mean + half)} "
      f"points (t, {df} degrees of freedom); pairs for ±0.3 at this sd: about {needed}")


def after_each(bound):
    return ", ".join(bound(diffs[:k]) for k in range(4, n + 1))


print(f"95 % interval after pairs 4, 5, …, {n}: " + after_each(
    lambda d: f"{signed(statistics.mean(d) - margin(d, 0.975))} to {signed(statistics.mean(d) + margin(d, 0.975))}"))
print(f"one-sided 95 % lower bound of the mean paired difference after pairs 4, 5, …, {n}: " + after_each(
    lambda d: signed(statistics.mean(d) - margin(d, 0.95))))
# Each look above spent 5 %; split over all of them instead (Bonferroni),
# the chance that any look wrongly clears a bound stays within 5 %, but
# only for a number of looks fixed in advance: the series shows the bound
# as each count of looks so far would have split it.
looks = n - 3
print(f"one-sided lower bound with 5 % split over those {looks} looks (Bonferroni, "
      f"{100 * 0.05 / looks:.2g} % each, t quantile {t_quantile(1 - 0.05 / looks, df):.2f}): "
      f"{signed(mean - margin(diffs, 1 - 0.05 / looks))}")
print(f"the same, split over the looks taken by then, after pairs 4, 5, …, {n}: " + after_each(
    lambda d: signed(statistics.mean(d) - margin(d, 1 - 0.05 / (len(d) - 3)))))


def fresh_pairs(ahead):
    """Fresh pairs for a test fixed in advance: one-sided, the current code
    no more than 0.3 worse, 5 % error, 80 % power, at this sd, where the
    current code is truly `ahead` (normal approximation, t quantiles)."""
    return next(k for k in range(4, 10_000)
                if (t_quantile(0.95, k - 1) + t_quantile(0.8, k - 1)) * sd / math.sqrt(k) <= 0.3 + ahead)


print(f"fresh pairs for a one-sided test at −0.3 fixed in advance (5 %, power 80 %, sd {sd:.2f}): "
      f"about {fresh_pairs(0)} if the codes are level, {fresh_pairs(0.3)} if the current code is 0.3 ahead")
