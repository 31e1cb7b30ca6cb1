"""Summarizes `maqd train --trace-steps` runs: per run, test accuracy per
epoch, and at a few steps the loss, the first and last hidden convs'
relative weight-gradient norms (|grad W| / |W|) and their ratio.
Usage: python3 trace_summary.py RUN_FOLDER..."""
import json
import os
import sys

STEPS = (1, 10, 30, 60, 90, 100, 300, 600)

for run in sys.argv[1:]:
    name = os.path.basename(os.path.normpath(run))
    epochs = []
    metrics = os.path.join(run, "metrics.jsonl")
    if os.path.exists(metrics):
        epochs = [json.loads(line)["test_accuracy"] * 100 for line in open(metrics)]
    print(f"{name}: test accuracy per epoch " + ", ".join(f"{a:.2f}" for a in epochs))
    trace = [json.loads(line) for line in open(os.path.join(run, "trace.jsonl"))]
    for step in STEPS:
        if step > len(trace):
            break
        t = trace[step - 1]
        g = [c["relative_grad_norm"] for c in t["convs"]]
        print(f"  step {step:4d}: loss {t['loss']:.3f}  |dW|/|W| first conv {g[0]:.1e}, "
              f"last hidden conv {g[-1]:.1e}, first/last {g[0] / g[-1]:.1e}")
