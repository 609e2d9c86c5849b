#!/usr/bin/python3
"""Test top-1 of the four pretrained CIFAR-10 ResNets and of their ensembles.

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
import gzip
import itertools
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "bench"))
from torch_resnet import ResNet  # noqa: E402

FILES = {20: "resnet20-12fca82f.th", 32: "resnet32-d509ac18.th",
         44: "resnet44-014dd654.th", 56: "resnet56-4bfd9763.th"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="also write the accuracies to this file")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    path = os.path.join(a.shared, "data", "cifar10", "test_batch.bin.gz")
    raw = np.frombuffer(gzip.open(path).read(), np.uint8).reshape(10000, 3073)
    y = torch.tensor(raw[:, 0].astype(np.int64))
    x = torch.tensor(raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    x = (x - mean) / std
    logits, out = {}, {}
    for depth, name in FILES.items():
        model = ResNet(depth)
        sd = torch.load(os.path.join(a.shared, "models", "cifar10", name), map_location="cpu")["state_dict"]
        model.load_state_dict({k.removeprefix("module."): v for k, v in sd.items()})
        model.eval()
        with torch.no_grad():
            logits[depth] = torch.cat([model(x[i:i + 500]) for i in range(0, len(x), 500)])
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
        tmp = a.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(out, f, indent=1)
        os.replace(tmp, a.json)


if __name__ == "__main__":
    main()
