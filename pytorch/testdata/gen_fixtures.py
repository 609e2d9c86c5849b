#!/usr/bin/python3
"""Writes the PyTorch fixtures for package pytorch's tests.

Run with Debian's interpreter, which has python3-torch (1.13, CPU):

    cd pytorch/testdata && /usr/bin/python3 gen_fixtures.py

Outputs (all committed; regenerate only when adding cases):
  zip_plain.pt    state_dict of a tiny conv net plus odd buffers, zip format
  zip_nested.pt   {'state_dict': <same, keep_vars=True, 'module.' prefix>, ...}
  legacy.pt       zip_plain's dict in the legacy (pre-1.6) format
  legacy_views.pt legacy format, two tensors viewing one storage
  evil.pt         zip whose pickle calls posix.system (must be refused)
  expected.json   per file: every tensor's name, kind, shape and values
"""
import json
import os
from collections import OrderedDict

import torch
import torch.nn as nn


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 2)
        base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8
        # Non-contiguous (transposed) view: stride (1, 6).
        self.register_buffer("trans", base.t())
        # A second view of the same storage with an offset: stride (6, 1),
        # offset 8.
        self.register_buffer("window", base[1:3, 2:5])
        self.register_buffer("f64", torch.linspace(-1, 1, 5, dtype=torch.float64) / 3)
        self.register_buffer("f16", torch.tensor([1.5, -2.25, 65504.0, 6e-8], dtype=torch.float16))
        self.register_buffer("bf16", torch.tensor([1.0, -3.5, 1e30], dtype=torch.bfloat16))
        self.register_buffer("flags", torch.tensor([True, False, True]))
        self.register_buffer("scalar", torch.tensor(2.5))
        # Broadcast view with stride 0.
        self.register_buffer("expanded", torch.tensor([7.0, 8.0]).expand(3, 2))


def build():
    torch.manual_seed(0)
    m = Tiny()
    with torch.no_grad():
        m.bn.running_mean.uniform_(-1, 1)
        m.bn.running_var.uniform_(0.5, 2)
        m.bn.weight.uniform_(0.5, 1.5)
        m.bn.num_batches_tracked.fill_(42)
    return m


def describe(sd):
    out = []
    for k, v in sd.items():
        if not isinstance(v, torch.Tensor):
            continue
        name = k[len("module."):] if k.startswith("module.") else k
        v = v.detach()
        if v.is_floating_point():
            kind, vals = "float", v.float().contiguous().view(-1).tolist()
        else:
            kind, vals = "int", v.long().contiguous().view(-1).tolist()
        out.append({"name": name, "kind": kind, "shape": list(v.shape), "values": vals})
    return out


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def main():
    m = build()
    sd = m.state_dict()
    expected = {}

    torch.save(sd, "zip_plain.pt")
    expected["zip_plain.pt"] = describe(sd)

    dp = OrderedDict(("module." + k, v) for k, v in m.state_dict(keep_vars=True).items())
    torch.save({"state_dict": dp, "epoch": 3, "best_prec1": 91.5}, "zip_nested.pt")
    expected["zip_nested.pt"] = describe(dp)

    torch.save(sd, "legacy.pt", _use_new_zipfile_serialization=False)
    expected["legacy.pt"] = describe(sd)

    base = torch.arange(10, dtype=torch.float32) - 4.5
    views = OrderedDict([("a", base[2:8].view(2, 3)), ("b", base[::3])])
    torch.save(views, "legacy_views.pt", _use_new_zipfile_serialization=False)
    expected["legacy_views.pt"] = describe(views)

    torch.save({"x": Evil()}, "evil.pt")

    with open("expected.json", "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
