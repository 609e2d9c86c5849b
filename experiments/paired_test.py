#!/usr/bin/python3
"""Paired comparison of a pruned CIFAR-10 ResNet with the dense one, in PyTorch.

Both networks classify the same 10,000 test images, so their accuracies are
best compared image by image: n10 images only the pruned network gets right,
n01 only the dense one. The exact McNemar test (two-sided binomial test of
n10 against n10 + n01 at one half) says whether the difference could be
chance. The pruned network comes from `sgcnn export --format torch` and is
rebuilt by scripts/load_torch_export.py, so its top-1 here is also PyTorch's
check of the figure sgcnn reports.

    sgcnn export --weights runs/cifar/swa/ens-cyclic15.safetensors --format torch -o /tmp/pruned.pt
    /usr/bin/python3 experiments/paired_test.py /tmp/pruned.pt [--json OUT]

Input: the canonical test_batch.bin.gz, ImageNet mean/std normalisation (as
the checkpoints were trained); the dense model is bench/torch_resnet.py's.
"""
import argparse
import gzip
import json
import math
import os
import sys

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from torch_resnet import ResNet  # noqa: E402
import load_torch_export  # noqa: E402


def mcnemar_exact(n10, n01):
    """Two-sided exact McNemar p-value: binomial(n10 + n01, 1/2) tails."""
    n, k = n10 + n01, min(n10, n01)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def predict(model, x):
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x[i:i + 500]) for i in range(0, len(x), 500)]).argmax(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pruned", help="state_dict written by sgcnn export --format torch")
    ap.add_argument("--dense", default="resnet56-4bfd9763.th", help="checkpoint in <shared>/models/cifar10")
    ap.add_argument("--depth", type=int, default=56, help="the dense ResNet's depth")
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="also write the counts to this file")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    path = os.path.join(a.shared, "data", "cifar10", "test_batch.bin.gz")
    raw = np.frombuffer(gzip.open(path).read(), np.uint8).reshape(10000, 3073)
    y = torch.tensor(raw[:, 0].astype(np.int64))
    x = torch.tensor(raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    x = (x - mean) / std

    dense = ResNet(a.depth)
    sd = torch.load(os.path.join(a.shared, "models", "cifar10", a.dense), map_location="cpu")["state_dict"]
    dense.load_state_dict({k.removeprefix("module."): v for k, v in sd.items()})
    pruned = load_torch_export.load(a.pruned)
    d, p = predict(dense, x) == y, predict(pruned, x) == y
    n10, n01 = int((p & ~d).sum()), int((~p & d).sum())
    out = {
        "images": len(y),
        "dense_top1": round(100 * d.float().mean().item(), 2),
        "pruned_top1": round(100 * p.float().mean().item(), 2),
        "both_right": int((p & d).sum()), "both_wrong": int((~p & ~d).sum()),
        "only_pruned_right": n10, "only_dense_right": n01,
        "mcnemar_exact_p": round(mcnemar_exact(n10, n01), 4),
    }
    for k, v in out.items():
        print(f"{k:<18} {v}")
    if a.json:
        tmp = a.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(out, f, indent=1)
        os.replace(tmp, a.json)


if __name__ == "__main__":
    main()
