#!/usr/bin/env python3
"""An independent PyTorch fine-tuning loop from an `sgcnn export --format torch` file (experiments/parity.sh).

    python3 experiments/parity_torch.py runs/parity/r56-start-s1.pth --data cifar10 \
        --epochs 3 --lr 0.01 --batch 128 --wd 1e-4 --epoch-size 5000 --lr-step iter --seed 1 --json out.json

The model and its masks come from scripts/load_torch_export.py (pruned
connections stay zero through torch.nn.utils.prune); everything else is the
plain PyTorch recipe, written here and not shared with sgcnn's own trainer:
torch.optim.SGD over model.parameters() (momentum 0.9, weight decay on every
parameter unless --wd-weights-only), CosineAnnealingLR stepped once per
iteration (--lr-step iter, the usual PyTorch way) or once per epoch (as
sgcnn), a fresh torch.randperm order every epoch cut to --epoch-size images,
and for CIFAR torchvision's augmentation: a random 32x32 crop of the image
zero-padded by 4 pixels (black, before normalisation; --pad-after-norm pads
after it, as sgcnn does) and a random horizontal flip. Normalisation is
sgcnn's: ImageNet mean/std for CIFAR-10 (as the shipped checkpoints were
trained), 0.1307/0.3081 for MNIST. Every epoch ends with an evaluation on
the test set, or with --holdout FILE (a JSON list of training-image indices,
as experiments/holdout prints for sgcnn's --val-split) on those images, kept
out of training, and the test set once at the end; nothing is chosen on
either. --json writes the history and the final test top-1.
"""
import argparse
import glob
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from load_torch_export import load  # noqa: E402

NORM = {"cifar10": ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]), "mnist": ([0.1307], [0.3081])}


def cifar10(folder):
    """Returns (train x, train y, test x, test y): uint8 NCHW images, int64 labels."""
    def read(name):
        raw = np.frombuffer(gzip.open(os.path.join(folder, name)).read(), np.uint8).reshape(-1, 3073)
        return torch.tensor(raw[:, 1:].reshape(-1, 3, 32, 32).copy()), torch.tensor(raw[:, 0].astype(np.int64))
    parts = [read(f"data_batch_{i}.bin.gz") for i in range(1, 6)]
    xt, yt = read("test_batch.bin.gz")
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts]), xt, yt


def mnist(folder):
    """Returns MNIST as cifar10() does, from the four idx .gz files."""
    def images(name):
        raw = gzip.open(os.path.join(folder, name)).read()
        n, h, w = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
        return torch.tensor(np.frombuffer(raw, np.uint8, offset=16).reshape(n, 1, h, w).copy())

    def labels(name):
        return torch.tensor(np.frombuffer(gzip.open(os.path.join(folder, name)).read(), np.uint8, offset=8).astype(np.int64))
    return (images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz"),
            images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz"))


def default_folder(name):
    """The folder sgcnn would find: ../shared/data/cifar10, or GoMNIST's data/ in the module cache."""
    if name == "cifar10":
        return os.path.join(ROOT, "..", "shared", "data", "cifar10")
    cache = os.environ.get("GOMODCACHE") or os.path.join(os.path.expanduser("~"), "go", "pkg", "mod")
    found = sorted(glob.glob(os.path.join(cache, "github.com", "petar", "!go!m!n!i!s!t@*", "data")))
    if not found:
        sys.exit(f"parity_torch: no GoMNIST data folder under {cache}; give --data-dir")
    return found[-1]


class Batches:
    """Normalises (and for CIFAR augments) uint8 images into float batches."""

    def __init__(self, name, augment, pad_after_norm, gen):
        mean, std = NORM[name]
        self.mean = torch.tensor(mean).view(1, -1, 1, 1)
        self.std = torch.tensor(std).view(1, -1, 1, 1)
        self.augment, self.pad_after_norm, self.gen = augment, pad_after_norm, gen

    def norm(self, x):
        return (x.float() / 255 - self.mean) / self.std

    def __call__(self, x, train):
        if not (train and self.augment):
            return self.norm(x)
        b, _, h, w = x.shape
        if self.pad_after_norm:
            p = F.pad(self.norm(x), (4, 4, 4, 4))
        else:
            p = self.norm(F.pad(x, (4, 4, 4, 4)))  # black borders, as transforms.RandomCrop(32, padding=4)
        off = torch.randint(0, 9, (b, 2), generator=self.gen).tolist()
        flip = torch.randint(0, 2, (b,), generator=self.gen).tolist()
        out = torch.stack([p[i, :, dy:dy + h, dx:dx + w] for i, (dy, dx) in enumerate(off)])
        idx = [i for i, f in enumerate(flip) if f]
        out[idx] = out[idx].flip(3)
        return out


def evaluate(model, x, y, batches):
    """Test top-1 in percent, 500 images at a time, in eval mode."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 500):
            correct += (model(batches(x[i:i + 500], False)).argmax(1) == y[i:i + 500]).sum().item()
    return 100.0 * correct / len(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("export", help="an sgcnn export --format torch file (with its .groups.json)")
    ap.add_argument("--data", choices=sorted(NORM), required=True)
    ap.add_argument("--data-dir", default="")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--wd", type=float, default=1e-4)
    ap.add_argument("--wd-weights-only", action="store_true", help="decay conv/linear weights only, as sgcnn")
    ap.add_argument("--epoch-size", type=int, default=0, help="images per epoch, a fresh random subset (0: all)")
    ap.add_argument("--lr-step", choices=["iter", "epoch"], default="iter")
    ap.add_argument("--pad-after-norm", action="store_true", help="zero-pad after normalisation, as sgcnn")
    ap.add_argument("--no-augment", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--holdout", default="", help="JSON list of training indices held out (sgcnn's --val-split)")
    ap.add_argument("--json", default="", help="write the history and final test top-1 here")
    a = ap.parse_args()
    for flag, v in (("--epochs", a.epochs), ("--batch", a.batch), ("--threads", a.threads)):
        if v < 1:
            sys.exit(f"parity_torch: {flag} {v}: want at least 1")
    if a.epoch_size < 0 or not a.lr > 0 or a.wd < 0:
        sys.exit("parity_torch: --epoch-size and --wd must be >= 0, --lr > 0")

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    xs, ys, xt, yt = (cifar10 if a.data == "cifar10" else mnist)(a.data_dir or default_folder(a.data))
    xv = yv = None
    if a.holdout:
        with open(a.holdout) as f:
            held = torch.tensor(json.load(f), dtype=torch.int64)
        if len(held) == 0 or held.min() < 0 or held.max() >= len(xs) or len(held.unique()) != len(held):
            sys.exit(f"parity_torch: --holdout {a.holdout}: want distinct indices in [0, {len(xs)})")
        keep = torch.ones(len(xs), dtype=torch.bool)
        keep[held] = False
        xv, yv, xs, ys = xs[held], ys[held], xs[keep], ys[keep]
    batches = Batches(a.data, a.data == "cifar10" and not a.no_augment, a.pad_after_norm, gen)
    model = load(a.export)

    if a.wd_weights_only:
        decay = [p for p in model.parameters() if p.dim() > 1]
        rest = [p for p in model.parameters() if p.dim() <= 1]
        groups = [{"params": decay, "weight_decay": a.wd}, {"params": rest, "weight_decay": 0.0}]
    else:
        groups = [{"params": list(model.parameters()), "weight_decay": a.wd}]
    opt = torch.optim.SGD(groups, lr=a.lr, momentum=a.momentum)
    n = min(a.epoch_size or len(xs), len(xs))
    per_epoch = math.ceil(n / a.batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.epochs * per_epoch if a.lr_step == "iter" else a.epochs)

    hist = []
    ex, ey, what = (xt, yt, "test") if xv is None else (xv, yv, "val")
    start = evaluate(model, ex, ey, batches)
    print(f"start: {what} top-1 {start:.2f}%", flush=True)
    for e in range(a.epochs):
        model.train()
        idx = torch.randperm(len(xs), generator=gen)[:n]
        t0, loss_sum, correct, lr0 = time.time(), 0.0, 0, opt.param_groups[0]["lr"]
        for i in range(0, n, a.batch):
            j = idx[i:i + a.batch]
            out = model(batches(xs[j], True))
            loss = F.cross_entropy(out, ys[j])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if a.lr_step == "iter":
                sched.step()
            loss_sum += loss.item() * len(j)
            correct += (out.argmax(1) == ys[j]).sum().item()
        if a.lr_step == "epoch":
            sched.step()
        top1 = evaluate(model, ex, ey, batches)
        hist.append({"epoch": e + 1, "lr_first": lr0, "train_loss": loss_sum / n, "train_top1": 100.0 * correct / n,
                     what + "_top1": top1, "seconds": time.time() - t0})
        print(f"torch epoch {e + 1}/{a.epochs}  lr {lr0:.4g}  train loss {loss_sum / n:.4f} "
              f"acc {100.0 * correct / n:.2f}%  {what} top-1 {top1:.2f}%", flush=True)
    test = top1 if xv is None else evaluate(model, xt, yt, batches)
    print(f"torch: test top-1 {test:.2f}% (final model)", flush=True)
    for name, m in model.named_modules():  # the masks held: every pruned weight is still zero
        if hasattr(m, "weight_mask") and (m.weight[m.weight_mask == 0] != 0).any():
            sys.exit(f"parity_torch: {name}: a pruned weight moved")
    if a.json:
        with open(a.json + ".tmp", "w") as f:
            json.dump({"engine": "torch", "settings": vars(a), "start_" + what + "_top1": start, "history": hist,
                       "test_top1": test}, f, indent=1)
        os.replace(a.json + ".tmp", a.json)


if __name__ == "__main__":
    main()
