#!/usr/bin/python3
"""Export test networks nobody here wrote to ONNX, with PyTorch's references.

Run with Debian's interpreter (python3-torch 1.13, python3-torchvision 0.14):

    /usr/bin/python3 scripts/gen_torchvision_onnx.py [--out DIR] [--only a,b] [--cifar-resnets]

from the repository root. The e2e tests (package e2e) run it themselves when
their files are missing. The files are tens of MB and stay out of git: DIR
defaults to $SGCNN_CACHE/onnx, else runs/.cache/onnx.

For each network it writes, into DIR:

  NAME.onnx             torch.onnx.export of the network: input "input"
                        [batch, 3, H, W] with a dynamic batch axis, output
                        "logits" [batch, classes]
  NAME.ref.safetensors  a reference input "input" [2, 3, H, W] (seeded
                        normal noise) and PyTorch's eval-mode output
                        "output"; for the networks with grads=True also one
                        training step's data: "train_input" [4, 3, H, W],
                        "labels" (I64), "loss" [] (mean cross-entropy, BN
                        in training mode, Dropout off), "grad.P" for every
                        parameter P, "running.B" for every BN buffer B after
                        that forward (PyTorch's momentum 0.1), and
                        "grad_sensitivity" (see sensitivity: the script
                        refuses a reference above 1e-4)
  NAME_hw.onnx          (the torchvision networks only) the same network
                        and weights with dynamic height and width as well:
                        the CLI test imports it with --input-shape 3,32,32
                        and prunes it on CIFAR-10
  manifest.json         what was written: per network its file names,
                        input shape, classes, opset, whether BatchNorm is
                        kept as its own node, and whether grads exist

Weights are torchvision's random initialisation under torch.manual_seed, so
the same script version writes the same numbers. Left so, a deep network's
eval-mode output hardly depends on its input or its conv weights (the
BatchNorms' running statistics are 0 and 1, whatever the activations'
scale), and a test could not tell a wrong conv from a right one; so every
BatchNorm gets a random affine transform and running statistics measured on
two batches of random images (calibrate), as a trained network has. The networks are
torchvision 0.14's definitions with num_classes=10 at 3x64x64, except where
noted in NETWORKS (vgg11_bn's classifier is narrowed, because its 7x7
adaptive pool cannot be exported at 64x64 and its 4096-wide layers would
make a 500 MB file), and a small CIFAR CNN (3x32x32) written here.

BatchNorm: torch 1.13 folds every BatchNorm into the conv before it when it
exports in eval mode (TrainingMode.EVAL runs its eval peephole pass).
Networks are exported with TrainingMode.PRESERVE on a model in eval mode,
which skips that pass: each BatchNorm stays a BatchNormalization node with
its PyTorch parameter names, as sgcnn needs to prune and fine-tune it.
cifarnet_fused is the same network as cifarnet exported with
TrainingMode.EVAL, the folded form most users' files have.

--check-state-dicts DIR checks the PyTorch state_dicts that sgcnn export
--format torch wrote for these networks (the e2e tests use it).

--cifar-resnets also exports the pretrained CIFAR ResNet-20 and ResNet-56
of ../shared/models/cifar10 (option-A shortcuts, as
scripts/load_torch_export.py defines them) as resnet20_cifar.onnx and
resnet56_cifar.onnx, input 3x32x32, normalised with the ImageNet mean/std
they were trained with (the ONNX file takes normalised input).
"""

import argparse
import copy
import json
import os
import struct
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# VERSION changes whenever the files this script writes change; the tests
# regenerate a cache whose manifest names another version.
VERSION = 3

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SHARED = os.path.join(ROOT, "..", "shared")


class CifarNet(nn.Module):
    """A small CIFAR-sized CNN with one residual block and a biased conv."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.conv3 = nn.Conv2d(32, 32, 3, 1, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(32)
        self.conv4 = nn.Conv2d(32, 32, 3, 1, 1, bias=False)
        self.bn4 = nn.BatchNorm2d(32)
        self.conv5 = nn.Conv2d(32, 64, 3, 1, 1, bias=True)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        y = F.relu(self.bn3(self.conv3(x)))
        x = F.relu(x + self.bn4(self.conv4(y)))
        x = F.max_pool2d(x, 2)
        x = F.relu(self.conv5(x))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def vgg11_bn_small():
    """torchvision's vgg11_bn with its classifier narrowed to fit 64x64."""
    from torchvision import models
    m = models.vgg11_bn(num_classes=10)
    m.avgpool = nn.AdaptiveAvgPool2d((1, 1))
    m.classifier[0] = nn.Linear(512, 512)
    m.classifier[3] = nn.Linear(512, 512)
    m.classifier[6] = nn.Linear(512, 10)
    return m


def tv(name):
    def build():
        from torchvision import models
        return getattr(models, name)(num_classes=10)
    return build


# name: (builder, input shape, opset, grads, training mode)
PRESERVE, EVAL = "preserve", "eval"
NETWORKS = {
    "resnet18": (tv("resnet18"), (3, 64, 64), 13, False, PRESERVE),
    "vgg11_bn": (vgg11_bn_small, (3, 64, 64), 13, True, PRESERVE),
    "mobilenet_v2": (tv("mobilenet_v2"), (3, 64, 64), 17, False, PRESERVE),
    "densenet121": (tv("densenet121"), (3, 64, 64), 13, False, PRESERVE),
    "squeezenet1_1": (tv("squeezenet1_1"), (3, 64, 64), 13, True, PRESERVE),
    "shufflenet_v2_x1_0": (tv("shufflenet_v2_x1_0"), (3, 64, 64), 13, False, PRESERVE),
    "efficientnet_b0": (tv("efficientnet_b0"), (3, 64, 64), 13, True, PRESERVE),
    "cifarnet": (CifarNet, (3, 32, 32), 13, True, PRESERVE),
    "cifarnet_fused": (CifarNet, (3, 32, 32), 13, False, EVAL),
}

SEED = 20261206


def write_safetensors(path, tensors, meta):
    """Writes named numpy arrays (float32 or int64) as a safetensors file."""
    header, blobs, pos = {"__metadata__": meta}, [], 0
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        dt = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}[a.dtype]
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [pos, pos + len(raw)]}
        blobs.append(raw)
        pos += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def calibrate(model, shape):
    """Gives every BatchNorm a random affine transform (weight in [0.5,
    1.5], bias N(0, 0.1)) and running statistics averaged over two training
    batches of 16 random images."""
    g = torch.Generator().manual_seed(SEED + 2)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    momenta = [bn.momentum for bn in bns]
    with torch.no_grad():
        for bn in bns:
            bn.weight.uniform_(0.5, 1.5, generator=g)
            bn.bias.normal_(0, 0.1, generator=g)
            bn.reset_running_stats()
            bn.momentum = None  # a cumulative average
        model.train()
        for _ in range(2):
            model(torch.randn(16, *shape, generator=g))
    for bn, m in zip(bns, momenta):
        bn.momentum = m
    model.eval()


def export(model, shape, opset, mode, path, dynamic_hw=False):
    """torch.onnx.export with a dynamic batch axis (and height and width
    with dynamic_hw), written atomically."""
    model.eval()
    x = torch.randn(1, *shape)
    training = torch.onnx.TrainingMode.PRESERVE if mode == PRESERVE else torch.onnx.TrainingMode.EVAL
    axes = {0: "batch", 2: "height", 3: "width"} if dynamic_hw else {0: "batch"}
    tmp = path + ".tmp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, tmp, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": axes, "logits": {0: "batch"}},
                          opset_version=opset, training=training, do_constant_folding=True)
    os.replace(tmp, path)


def train_step(model, x, labels):
    """One training forward and backward (BatchNorm on batch statistics;
    Dropout and StochasticDepth off, as the eval-mode ONNX file has none),
    returning the loss."""
    model.train()
    for m in model.modules():
        if isinstance(m, nn.Dropout) or type(m).__name__ == "StochasticDepth":
            m.eval()
    model.zero_grad()
    loss = F.cross_entropy(model(x), labels)
    loss.backward()
    model.eval()
    return loss


def sensitivity(model, x, labels):
    """How much the gradients move when the input moves by 1e-6 (in
    float64, on a copy): the largest change of a gradient element, relative
    to max(its tensor's largest gradient, 1e-3 x the network's). Where a
    ReLU sits at its kink for some element, float32 rounding alone flips it
    and the gradients jump: such a reference cannot check sgcnn's."""
    m = copy.deepcopy(model).double()
    g = torch.Generator().manual_seed(SEED + 3)
    grads = []
    for xi in (x.double(), x.double() + 1e-6 * torch.randn(x.shape, generator=g, dtype=torch.float64)):
        train_step(m, xi, labels)
        grads.append({n: p.grad.clone() for n, p in m.named_parameters()})
    top = max(t.abs().max().item() for t in grads[0].values())
    return max(((grads[0][n] - grads[1][n]).abs().max() / max(grads[0][n].abs().max().item(), 1e-3 * top)).item()
               for n in grads[0])


def references(model, shape, grads, classes):
    """The reference input and output, and one training step's gradients."""
    g = torch.Generator().manual_seed(SEED + 1)
    x = torch.randn(2, *shape, generator=g)
    model.eval()
    with torch.no_grad():
        y = model(x)
    out = {"input": x.numpy(), "output": y.numpy()}
    if grads:
        # Draw training batches until one is well-conditioned (the same
        # draws every run, so the same batch is kept).
        for _ in range(8):
            xt = torch.randn(4, *shape, generator=g)
            labels = torch.randint(0, classes, (4,), generator=g)
            sens = sensitivity(model, xt, labels)
            if sens <= 1e-4:
                break
        else:
            sys.exit(f"gen_torchvision_onnx: every training batch's gradients move by more than 1e-4 "
                     f"(last {sens:.2g}) under 1e-6 input noise: no well-conditioned reference")
        loss = train_step(model, xt, labels)
        out["grad_sensitivity"] = np.float32(sens).reshape(())
        out["train_input"] = xt.numpy()
        out["labels"] = labels.numpy().astype(np.int64)
        out["loss"] = loss.detach().numpy().reshape(())
        for name, p in model.named_parameters():
            out["grad." + name] = p.grad.numpy()
        for name, b in model.named_buffers():
            if name.endswith("running_mean") or name.endswith("running_var"):
                out["running." + name] = b.numpy()
    return out


def cifar_resnet(depth):
    """The shipped pretrained CIFAR ResNet of this depth, in eval mode."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from load_torch_export import CifarResNet
    files = {20: "resnet20-12fca82f.th", 56: "resnet56-4bfd9763.th"}
    m = CifarResNet((depth - 2) // 6, 10)
    sd = torch.load(os.path.join(SHARED, "models", "cifar10", files[depth]), map_location="cpu")["state_dict"]
    m.load_state_dict({k.removeprefix("module."): v for k, v in sd.items()})
    return m.eval()


def read_safetensors(path):
    """Reads a safetensors file of F32 tensors into numpy arrays."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        out[name] = np.frombuffer(data[b:end], dtype="<f4").reshape(e["shape"])
    return out


def check_state_dicts(folder):
    """For every NAME.pth (a state_dict sgcnn export wrote for a network of
    NETWORKS) in folder, loads it into PyTorch's own definition of NAME
    (strict: every key but the .weight_mask buffers must fit), runs the
    input of NAME.check.safetensors in eval mode and compares the logits
    with sgcnn's there. Returns the number of failures."""
    fails = 0
    for fn in sorted(os.listdir(folder)):
        if not fn.endswith(".pth"):
            continue
        name = fn[:-4]
        sd = torch.load(os.path.join(folder, fn), map_location="cpu")
        extra = sorted(k for k in sd if not k.endswith(".weight_mask") and k.endswith(".const"))
        sd = {k: v for k, v in sd.items() if not k.endswith(".weight_mask") and not k.endswith(".const")}
        model = NETWORKS[name][0]()
        try:
            model.load_state_dict(sd, strict=True)
        except RuntimeError as e:
            print(f"{name}: the exported state_dict does not load into PyTorch's network: {e}")
            fails += 1
            continue
        ref = read_safetensors(os.path.join(folder, name + ".check.safetensors"))
        model.eval()
        with torch.no_grad():
            y = model(torch.tensor(ref["input"])).numpy()
        d = np.abs(y - ref["logits"]).max() / max(np.abs(ref["logits"]).max(), 1e-6)
        ok = d <= 1e-4
        fails += not ok
        print(f"{name}: {'ok' if ok else 'FAIL'}: PyTorch with the exported state_dict vs sgcnn: relative difference {d:.2g}"
              + (f" (constants left out: {', '.join(extra)})" if extra else ""))
    return fails


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cache = os.environ.get("SGCNN_CACHE")
    ap.add_argument("--out", default=os.path.join(cache, "onnx") if cache else os.path.join(ROOT, "runs", ".cache", "onnx"))
    ap.add_argument("--only", default="", help="comma-separated network names (default: all)")
    ap.add_argument("--cifar-resnets", action="store_true", help="also export the pretrained CIFAR ResNet-20 and -56")
    ap.add_argument("--check-state-dicts", metavar="DIR",
                    help="check sgcnn's state_dict exports in DIR against PyTorch (see check_state_dicts) and exit")
    args = ap.parse_args()
    if args.check_state_dicts:
        sys.exit(1 if check_state_dicts(args.check_state_dicts) else 0)
    os.makedirs(args.out, exist_ok=True)
    names = [n for n in args.only.split(",") if n] or list(NETWORKS)
    for n in names:
        if n not in NETWORKS:
            sys.exit(f"gen_torchvision_onnx: unknown network {n!r} (known: {', '.join(NETWORKS)})")
    mpath = os.path.join(args.out, "manifest.json")
    manifest = {"version": VERSION, "torch": torch.__version__, "networks": {}}
    if os.path.exists(mpath):
        with open(mpath) as f:
            old = json.load(f)
        if old.get("version") == VERSION:
            manifest["networks"] = old.get("networks", {})
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    for n in names:
        build, shape, opset, grads, mode = NETWORKS[n]
        torch.manual_seed(SEED)
        model = build()
        calibrate(model, shape)
        export(model, shape, opset, mode, os.path.join(args.out, n + ".onnx"))
        entry = {"onnx": n + ".onnx", "ref": n + ".ref.safetensors", "input_shape": list(shape),
                 "classes": 10, "opset": opset, "bn_kept": mode == PRESERVE, "grads": grads}
        if not n.startswith("cifarnet"):
            entry["onnx_dynamic_hw"] = n + "_hw.onnx"
            export(model, shape, opset, mode, os.path.join(args.out, entry["onnx_dynamic_hw"]), dynamic_hw=True)
        refs = references(model, shape, grads, 10)
        write_safetensors(os.path.join(args.out, n + ".ref.safetensors"), refs, {"network": n})
        manifest["networks"][n] = entry
        print(f"gen_torchvision_onnx: {n} (opset {opset}, {mode})", file=sys.stderr)
    if args.cifar_resnets:
        for depth in (20, 56):
            n = f"resnet{depth}_cifar"
            model = cifar_resnet(depth)
            export(model, (3, 32, 32), 13, PRESERVE, os.path.join(args.out, n + ".onnx"))
            refs = references(model, (3, 32, 32), False, 10)
            write_safetensors(os.path.join(args.out, n + ".ref.safetensors"), refs, {"network": n})
            manifest["networks"][n] = {"onnx": n + ".onnx", "ref": n + ".ref.safetensors", "input_shape": [3, 32, 32],
                                       "classes": 10, "opset": 13, "bn_kept": True, "grads": False}
            print(f"gen_torchvision_onnx: {n} (pretrained)", file=sys.stderr)
    tmp = mpath + ".tmp"
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    os.replace(tmp, mpath)


if __name__ == "__main__":
    main()
