#!/usr/bin/env python3
"""Makes a small ImageNet-format folder from CIFAR-10 images (issue 23).

    /usr/bin/python3 experiments/make_imagefolder.py --cifar ../shared/data/cifar10 \
        --out runs/imagefolder/folder --size 64 --train-per-class 4 --val-per-class 10

writes OUT/train/<class>/<n>.jpg from the first training images of each
class (data_batch_1) and OUT/val/<class>/<n>.png from the first test images
(test_batch), each upscaled from 32x32 to SIZE x SIZE (bicubic): JPEG for
one split and PNG for the other, so that both decoders are exercised. Class
folders are named 0_airplane ... 9_truck, so that the sorted order is
CIFAR's label order. Needs only PIL (installed with torchvision).
"""
import argparse
import gzip
import os

from PIL import Image

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def records(path):
    """Yields (label, 32x32 RGB image) from a CIFAR-10 binary file."""
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        raw = f.read()
    for i in range(0, len(raw), 3073):
        rec = raw[i : i + 3073]
        planes = [Image.frombytes("L", (32, 32), rec[1 + c * 1024 : 1 + (c + 1) * 1024]) for c in range(3)]
        yield rec[0], Image.merge("RGB", planes)


def write(src, out, per_class, size, ext):
    counts = [0] * len(CLASSES)
    for label, img in records(src):
        if counts[label] >= per_class:
            if min(counts) >= per_class:
                break
            continue
        d = os.path.join(out, f"{label}_{CLASSES[label]}")
        os.makedirs(d, exist_ok=True)
        img.resize((size, size), Image.BICUBIC).save(os.path.join(d, f"{counts[label]:04d}{ext}"))
        counts[label] += 1
    if min(counts) < per_class:
        raise SystemExit(f"{src}: only {min(counts)} images of some class, want {per_class}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cifar", required=True, help="folder with data_batch_1.bin(.gz) and test_batch.bin(.gz)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--train-per-class", type=int, default=4)
    ap.add_argument("--val-per-class", type=int, default=10)
    a = ap.parse_args()

    def find(name):
        for p in (name + ".gz", name):
            if os.path.exists(os.path.join(a.cifar, p)):
                return os.path.join(a.cifar, p)
        raise SystemExit(f"no {name}(.gz) in {a.cifar}")

    write(find("data_batch_1.bin"), os.path.join(a.out, "train"), a.train_per_class, a.size, ".jpg")
    write(find("test_batch.bin"), os.path.join(a.out, "val"), a.val_per_class, a.size, ".png")


if __name__ == "__main__":
    main()
