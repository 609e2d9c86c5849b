"""Loads CIFAR-10's test set and the shipped pretrained ResNets in PyTorch, for the experiments' checks.

Shared by the experiment scripts that check sgcnn's figures with PyTorch
(the reference, not a dependency of sgcnn): the canonical test_batch.bin.gz
with ImageNet mean/std normalisation (as the checkpoints were trained), and
the checkpoints loaded into bench/torch_resnet.py's architecture.
"""
import gzip
import json
import os
import sys

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SHARED = os.path.join(ROOT, "..", "shared")
sys.path.insert(0, os.path.join(ROOT, "bench"))
from torch_resnet import ResNet  # noqa: E402

FILES = {20: "resnet20-12fca82f.th", 32: "resnet32-d509ac18.th",
         44: "resnet44-014dd654.th", 56: "resnet56-4bfd9763.th"}


def test_set(shared=SHARED):
    """Returns the 10,000 normalised test images and their labels."""
    path = os.path.join(shared, "data", "cifar10", "test_batch.bin.gz")
    raw = np.frombuffer(gzip.open(path).read(), np.uint8).reshape(10000, 3073)
    y = torch.tensor(raw[:, 0].astype(np.int64))
    x = torch.tensor(raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return (x - mean) / std, y


def pretrained(depth, shared=SHARED):
    """Returns the shipped ResNet of this depth, loaded, in eval mode."""
    model = ResNet(depth)
    sd = torch.load(os.path.join(shared, "models", "cifar10", FILES[depth]), map_location="cpu")["state_dict"]
    model.load_state_dict({k.removeprefix("module."): v for k, v in sd.items()})
    return model.eval()


def logits(model, x):
    """Returns the model's logits for x, 500 images at a time."""
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x[i:i + 500]) for i in range(0, len(x), 500)])


def write_json(path, obj):
    """Writes obj to path as JSON, whole or not at all (temp file, rename)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)
