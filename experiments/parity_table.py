#!/usr/bin/env python3
"""The parity tables of docs/results/parity.md from experiments/parity.sh's runs: per engine and variant, mean, sd and a Welch t-test.

    python3 experiments/parity_table.py [runs/parity]

Reads <model>-<engine>-<variant>-s<seed>.json (sgcnn train --json, or
experiments/parity_torch.py --json) and prints markdown: one row per pair
of variants compared (sgcnn against torch at the same model: each as
usually run, sgcnn per epoch against PyTorch per iteration, and at equal
granularity), with each
side's runs, mean and sample standard deviation of the final test top-1,
the difference, Welch's t, its Welch-Satterthwaite degrees of freedom and
the two-sided p; then every run's figure by seed. No SciPy: the t
distribution's tail comes from the regularised incomplete beta function,
evaluated by its continued fraction (modified Lentz).
"""
import glob
import json
import math
import os
import re
import sys


def betacf(a, b, x):
    """The continued fraction of the incomplete beta function (Lentz)."""
    tiny, c, d = 1e-300, 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1 + num * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return h


def betainc(a, b, x):
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0 or x >= 1:
        return 0.0 if x <= 0 else 1.0
    lbt = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x)
    if x < (a + 1) / (a + b + 2):
        return math.exp(lbt) * betacf(a, b, x) / a
    return 1 - math.exp(lbt) * betacf(b, a, 1 - x) / b


def welch(x, y):
    """Welch's t, its degrees of freedom and the two-sided p for samples x, y."""
    mx, my = sum(x) / len(x), sum(y) / len(y)
    vx = sum((v - mx) ** 2 for v in x) / (len(x) - 1)
    vy = sum((v - my) ** 2 for v in y) / (len(y) - 1)
    sx, sy = vx / len(x), vy / len(y)
    if sx + sy == 0:
        return float("nan"), float("nan"), float("nan")
    t = (mx - my) / math.sqrt(sx + sy)
    df = (sx + sy) ** 2 / (sx ** 2 / (len(x) - 1) + sy ** 2 / (len(y) - 1))
    return t, df, betainc(df / 2, 0.5, df / (df + t * t))


def final_top1(path):
    with open(path) as f:
        d = json.load(f)
    if "test_top1" in d:  # parity_torch.py
        return d["test_top1"]
    if isinstance(d.get("test"), dict):  # sgcnn train with a validation split: the one test evaluation
        return d["test"]["Top1"]
    return d["history"][-1]["test_top1"]  # sgcnn train, --val-split 0: the last epoch's test figure


def mean_sd(v):
    m = sum(v) / len(v)
    return m, math.sqrt(sum((a - m) ** 2 for a in v) / (len(v) - 1)) if len(v) > 1 else float("nan")


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "runs/parity"
    runs = {}
    for p in sorted(glob.glob(os.path.join(folder, "*-s*.json"))):
        m = re.fullmatch(r"(lenet5|r56)-(go|torch)-([a-z0-9-]+)-s(\d+)\.json", os.path.basename(p))
        if m:
            runs.setdefault((m[1], m[2], m[3]), {})[int(m[4])] = final_top1(p)
    names = {"lenet5": "LeNet-5 Conv-95 (LG)", "r56": "ResNet-56 Conv-70 (G)"}
    print("| model | sgcnn (lr steps per) | n | mean ± sd | PyTorch (lr steps per) | n | mean ± sd | sgcnn − PyTorch | Welch t | df | p |")
    print("|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for model in names:
        gos = sorted(v for (mm, e, v) in runs if mm == model and e == "go")
        tos = sorted(v for (mm, e, v) in runs if mm == model and e == "torch")
        for g in gos:
            # each engine as usually run (sgcnn per epoch, PyTorch per iteration), then equal granularity
            for t in [t for t in tos if t == g or t.startswith(g + "-") or (g, t) == ("epoch", "iter")]:
                x, y = list(runs[(model, "go", g)].values()), list(runs[(model, "torch", t)].values())
                if len(x) < 2 or len(y) < 2:
                    continue
                (mx, sx), (my, sy) = mean_sd(x), mean_sd(y)
                tt, df, p = welch(x, y)
                print(f"| {names[model]} | {g} | {len(x)} | {mx:.2f} ± {sx:.2f} | {t} | {len(y)} | {my:.2f} ± {sy:.2f} "
                      f"| {mx - my:+.2f} | {tt:.2f} | {df:.1f} | {p:.3f} |")
    print()
    print("| model | engine | variant | seed 1 | seed 2 | seed 3 |")
    print("|---|---|---|---:|---:|---:|")
    for (model, engine, variant), by in sorted(runs.items()):
        cells = " | ".join(f"{by[s]:.2f}" if s in by else "–" for s in (1, 2, 3))
        print(f"| {names[model]} | {'sgcnn' if engine == 'go' else 'PyTorch'} | {variant} | {cells} |")


if __name__ == "__main__":
    main()
