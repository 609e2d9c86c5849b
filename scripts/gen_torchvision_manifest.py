#!/usr/bin/python3
"""Write the state_dict manifests of torchvision's ResNet-50 and DenseNet-201.

Run with Debian's interpreter (python3-torch 1.13, python3-torchvision 0.14):

    /usr/bin/python3 scripts/gen_torchvision_manifest.py

from the repository root. It writes models/testdata/resnet50_manifest.json and
models/testdata/densenet201_manifest.json: every state_dict entry's name and
shape, in state_dict order, leaving out the num_batches_tracked counters
(sgcnn ignores them), and the paper's parameter and FLOP counts with all
masks = 1. models' tests check that sgcnn's architectures have exactly these
names and shapes; count's tests check its counts against paper_count. No weights are downloaded: the models are
built with random initialisation, which does not change names or shapes.
"""

import json
import os
import sys

import torch
import torchvision
from torchvision import models

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "testdata")


def paper_count(net, stem):
    """Params and FLOPs (multiply-accumulates) by METHOD.md section 4 with all
    masks = 1 on the default prunable layers: every conv but the stem and the
    downsample convs counts k*k*N*C + 2N params (its BN's scale and shift) and
    Hout*Wout*k*k*N*C + N FLOPs; the stem and downsample convs count N*C*k*k
    and Hout*Wout*N*C*k*k; the linear layer N*C + N for both. An
    implementation independent of sgcnn's count package, which its tests
    compare against."""
    outs = {}
    hooks = [
        mod.register_forward_hook(lambda m, i, o, name=name: outs.__setitem__(name, o.shape))
        for name, mod in net.named_modules()
        if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear))
    ]
    net.eval()
    with torch.no_grad():
        net(torch.zeros(1, 3, 224, 224))
    for h in hooks:
        h.remove()
    params = flops = 0
    for name, mod in net.named_modules():
        if isinstance(mod, torch.nn.Linear):
            n = mod.weight.numel() + mod.out_features
            params += n
            flops += n
        elif isinstance(mod, torch.nn.Conv2d):
            w = mod.weight.numel()
            hw = outs[name][2] * outs[name][3]
            if name == stem or "downsample" in name:
                params += w
                flops += hw * w
            else:
                params += w + 2 * mod.out_channels
                flops += hw * w + mod.out_channels
    return {"params": params, "flops": flops}


def manifest(arch, net, stem):
    sd = net.state_dict()
    entries = [
        {"name": k, "shape": list(v.shape)}
        for k, v in sd.items()
        if not k.endswith("num_batches_tracked")
    ]
    return {
        "arch": arch,
        "source": "torchvision %s models.%s(weights=None), torch %s"
        % (torchvision.__version__, arch, torch.__version__),
        "input": [3, 224, 224],
        "classes": 1000,
        "params": sum(p.numel() for p in net.parameters()),
        "paper_count": paper_count(net, stem),
        "entries": entries,
    }


def dump(m):
    """JSON with one state_dict entry per line, so that diffs stay readable."""
    head = {k: v for k, v in m.items() if k != "entries"}
    lines = ["{"]
    for k, v in head.items():
        lines.append(" %s: %s," % (json.dumps(k), json.dumps(v)))
    lines.append(' "entries": [')
    rows = [json.dumps(e) for e in m["entries"]]
    lines.append(",\n".join("  " + r for r in rows))
    lines.append(" ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    os.makedirs(OUT, exist_ok=True)
    for arch, stem in (("resnet50", "conv1"), ("densenet201", "features.conv0")):
        net = getattr(models, arch)(weights=None)
        m = manifest(arch, net, stem)
        path = os.path.join(OUT, arch + "_manifest.json")
        with open(path, "w") as f:
            f.write(dump(m))
        print("%s: %d entries, %d params -> %s" % (arch, len(m["entries"]), m["params"], path), file=sys.stderr)


if __name__ == "__main__":
    main()
