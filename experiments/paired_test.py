#!/usr/bin/python3
"""Runs a paired (McNemar) test of a pruned CIFAR-10 ResNet against the dense one, in PyTorch.

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
the checkpoints were trained); the dense model is a shipped checkpoint (experiments/cifar_torch.py).
"""
import argparse
import math
import os
import sys

import torch

from cifar_torch import ROOT, SHARED, logits, pretrained, test_set, write_json

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import load_torch_export  # noqa: E402


def mcnemar_exact(n10, n01):
    """Two-sided exact McNemar p-value: binomial(n10 + n01, 1/2) tails."""
    n, k = n10 + n01, min(n10, n01)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pruned", help="state_dict written by sgcnn export --format torch")
    ap.add_argument("--depth", type=int, default=56, help="the dense ResNet's depth (a shipped checkpoint)")
    ap.add_argument("--shared", default=SHARED)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="also write the counts to this file")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    x, y = test_set(a.shared)
    d = logits(pretrained(a.depth, a.shared), x).argmax(1) == y
    p = logits(load_torch_export.load(a.pruned), x).argmax(1) == y
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
        write_json(a.json, out)


if __name__ == "__main__":
    main()
