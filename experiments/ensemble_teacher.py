#!/usr/bin/python3
"""Measures the test top-1 of the four pretrained CIFAR-10 ResNets and of their ensembles.

The teacher of experiments/cifar.sh r56-62-ens is the mean of the logits of
all four models in ../shared/models/cifar10 (sgcnn train --teacher, repeated).
This script measures that teacher with PyTorch (the reference, not a
dependency of sgcnn): each model alone, then every ensemble of two or more,
averaging logits (as sgcnn does) and, for comparison, probabilities. The
run uses all four; the subsets are printed to show what the others would
give, not to choose one (choosing on the test set would tune on it).

    /usr/bin/python3 experiments/ensemble_teacher.py [--threads N] [--json OUT]

Input: the canonical test_batch.bin.gz, ImageNet mean/std normalisation (as
the checkpoints were trained); the architecture is bench/torch_resnet.py's.
"""
import argparse
import itertools

import torch
import torch.nn.functional as F

from cifar_torch import FILES, SHARED, logits as logits_of, pretrained, test_set, write_json


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=SHARED)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="also write the accuracies to this file")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    x, y = test_set(a.shared)
    logits, out = {}, {}
    for depth in FILES:
        logits[depth] = logits_of(pretrained(depth, a.shared), x)
        acc = 100 * (logits[depth].argmax(1) == y).float().mean().item()
        out[f"resnet{depth}"] = round(acc, 2)
        print(f"resnet{depth:<13} {acc:6.2f}")
    for r in range(2, len(FILES) + 1):
        for combo in itertools.combinations(FILES, r):
            lg = sum(logits[d] for d in combo) / r
            pr = sum(F.softmax(logits[d], 1) for d in combo) / r
            acc_l = 100 * (lg.argmax(1) == y).float().mean().item()
            acc_p = 100 * (pr.argmax(1) == y).float().mean().item()
            key = "+".join(str(d) for d in combo)
            out[key] = {"mean_logits": round(acc_l, 2), "mean_probs": round(acc_p, 2)}
            print(f"{key:<19} {acc_l:6.2f} (mean logits)  {acc_p:6.2f} (mean probabilities)")
    if a.json:
        write_json(a.json, out)


if __name__ == "__main__":
    main()
