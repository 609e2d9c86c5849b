#!/usr/bin/python3
"""Writes models/testdata/resnet20_zip.pt (a CIFAR ResNet-20 state_dict saved
by torch in the zip format, random weights and BN statistics) and
resnet20_logits.json (inputs and eval-mode logits), for models' import test.

Run with Debian's torch: /usr/bin/python3 scripts/gen_model_fixtures.py
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bench"))
from torch_resnet import ResNet  # noqa: E402  (same architecture as sgcnn's resnet20)

torch.manual_seed(20)
m = ResNet(20)
with torch.no_grad():
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.2, 0.2)
            mod.running_var.uniform_(0.5, 1.5)
            mod.weight.uniform_(0.5, 1.5)
            mod.bias.uniform_(-0.2, 0.2)
m.eval()
x = torch.randn(3, 3, 32, 32)
with torch.no_grad():
    y = m(x)
out = os.path.join(os.path.dirname(__file__), "..", "models", "testdata")
torch.save(m.state_dict(), os.path.join(out, "resnet20_zip.pt"))
with open(os.path.join(out, "resnet20_logits.json"), "w") as f:
    json.dump({"torch": torch.__version__, "input_shape": list(x.shape),
               "input": x.flatten().tolist(),
               "logits": y.flatten().tolist()}, f)
print("wrote", out)
