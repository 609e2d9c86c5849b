#!/usr/bin/python3
"""Measures PyTorch's training and inference speed on CIFAR ResNets: the peer of bench/engine.sh.

CIFAR ResNet-N (He et al. 2015, option A shortcuts), the same architecture
as sgcnn's models.New("resnetN"). Prints one JSON object per measurement:
{"peer": "pytorch", "model", "mode": "train"|"infer" (with --precision bf16
"train-bf16"|"infer-bf16"), "batch", "threads",
 "img_per_sec": [..per repeat..]}; with --peak-mem, last
{"peer": "pytorch", "peak_rss_mib": ...} (the process's peak resident set).

Use Debian's /usr/bin/python3 (python3-torch 1.13, oneDNN).
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.pad = (cout - cin) // 2 if (stride != 1 or cin != cout) else None

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.pad is None:
            sc = x
        else:
            sc = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + sc)


class ResNet(nn.Module):
    def __init__(self, depth, classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for i, w in enumerate([16, 32, 64]):
            blocks = []
            for j in range(n):
                s = 2 if (i > 0 and j == 0) else 1
                blocks.append(Block(cin, w, s))
                cin = w
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.linear(x)


def measure(model, mode, batch, iters, warmup, bf16=False):
    x = torch.randn(batch, 3, 32, 32)
    # bf16: PyTorch's CPU autocast (fp32 master weights; convs and linears
    # in bf16 through oneDNN, AMX where the CPU has it; other ops follow
    # their inputs' dtype).
    cast = lambda: torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)
    y = torch.randint(0, 10, (batch,))
    if mode == "train":
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

        def step():
            opt.zero_grad()
            with cast():
                loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
    else:
        model.eval()

        def step():
            with torch.no_grad(), cast():
                model(x)
    for _ in range(warmup):
        step()
    t = time.perf_counter()
    for _ in range(iters):
        step()
    return batch * iters / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="20,56")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--train-batch", type=int, default=128)
    ap.add_argument("--infer-batch", type=int, default=64)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--modes", default="train,infer")
    ap.add_argument("--peak-mem", action="store_true")
    ap.add_argument("--precision", default="fp32",
                    help="comma separated: fp32, bf16 (autocast; its modes print as train-bf16, infer-bf16)")
    a = ap.parse_args()
    torch.manual_seed(0)
    for th in [int(t) for t in a.threads.split(",")]:
        torch.set_num_threads(th)
        for d in [int(m) for m in a.models.split(",")]:
            model = ResNet(d)
            for mode, b in (("train", a.train_batch), ("infer", a.infer_batch)):
                if mode not in a.modes.split(","):
                    continue
                for prec in a.precision.split(","):
                    bf16 = prec == "bf16"
                    rates = [measure(model, mode, b, a.iters, 2, bf16) for _ in range(a.repeats)]
                    print(json.dumps({"peer": "pytorch", "model": f"resnet{d}",
                                      "mode": mode + ("-bf16" if bf16 else ""),
                                      "batch": b, "threads": th, "img_per_sec": rates}), flush=True)
    if a.peak_mem:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        print(json.dumps({"peer": "pytorch", "peak_rss_mib": kib / 1024}), flush=True)


if __name__ == "__main__":
    main()
