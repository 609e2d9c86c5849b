#!/usr/bin/env python3
"""Load an `sgcnn export --format torch` file into a masked PyTorch model.

    sgcnn export --weights pruned.safetensors --format torch -o resnet56.pth
    /usr/bin/python3 scripts/load_torch_export.py resnet56.pth
    /usr/bin/python3 scripts/load_torch_export.py resnet56.pth --check ref.pth
    /usr/bin/python3 scripts/load_torch_export.py resnet56.pth --train-steps 20 --out tuned.pth
    torchrun --nproc_per_node=2 scripts/load_torch_export.py resnet56.pth --train-steps 20

The export is a state_dict in PyTorch's zip format whose pruned weights are
zero, plus one buffer `<layer>.weight_mask` (the weight's shape, 1 = kept)
per pruned layer; `<export>.groups.json` names the architecture and lists each
layer's filter groups (filters sharing one kept-input pattern, and the input
channels they read). This script builds the matching model (the CIFAR
ResNets 20/32/44/56/110 with option-A shortcuts in the layout of akamaster's
pytorch_resnet_cifar10, Caffe's LeNet-5, and VGG-16 with BatchNorm as in
kuangliu's pytorch-cifar), loads the weights strictly, and registers each mask
with torch.nn.utils.prune.custom_from_mask: the module then computes
weight = weight_orig * weight_mask before every forward pass, so pruned
connections stay pruned, and get zero gradient, however training goes on.

--check REF.pth compares the model's eval-mode logits on REF's "input" with
REF's "logits" (a state_dict-like file holding those two tensors, as the
Go test export/torchexport writes) and exits 1 if they differ by more than 1e-4
times max(1, max |logit|).

Continuing training
-------------------
Single process: build and load as load() does, then train as usual:

    model = load("resnet56.pth")            # masked, on the CPU
    torch.set_num_threads(2)                 # Debian's torch defaults to 1
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    for x, y in loader:                      # e.g. torchvision CIFAR10
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()                           # updates weight_orig; the mask holds

Several processes (DDP): start with `torchrun --nproc_per_node=N script.py`;
every process loads the same export, then

    torch.distributed.init_process_group("gloo")   # "nccl" on GPUs
    model = torch.nn.parallel.DistributedDataParallel(load(path))
    # shard the data with torch.utils.data.DistributedSampler, train as above

The masks are buffers, so DDP broadcasts them from rank 0 with the weights.
To save: prune.remove(module, "weight") on each masked module makes the
masked weight a plain parameter again (the zeros stay), after which
model.state_dict() loads back into sgcnn with `sgcnn import`; keep the masks
(the weight_mask buffers) beforehand if you want to save them too.
--train-steps N runs N SGD steps on random data this way (under torchrun
with DDP) and checks that the pruned weights are still zero.
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.prune as prune

MASK_SUFFIX = ".weight_mask"


# The model definitions live in torchtrain/trainer.py, the one file sgcnn
# runs under torchrun; this script and the trainer share them.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "torchtrain"))
from trainer import RESNETS, BasicBlock, CifarResNet, LeNet5, VGG16, build  # noqa: E402,F401


def load(path, arch=None):
    """Builds the model of an sgcnn torch export, loads it, registers masks."""
    with open(path + ".groups.json") as f:
        groups = json.load(f)
    sd = torch.load(path, map_location="cpu")
    masks = {k[: -len(MASK_SUFFIX)]: sd.pop(k) for k in list(sd) if k.endswith(MASK_SUFFIX)}
    model = build(arch or groups["arch"], groups["classes"])
    model.load_state_dict(sd, strict=True)
    for name, mask in masks.items():
        prune.custom_from_mask(model.get_submodule(name), "weight", mask)
    return model


def check(model, ref_path):
    ref = torch.load(ref_path, map_location="cpu")
    model.eval()
    with torch.no_grad():
        got = model(ref["input"])
    want = ref["logits"]
    scale = max(1.0, want.abs().max().item())
    diff = (got - want).abs().max().item() / scale
    print(f"logits: max |torch - sgcnn| / {scale:.3g} = {diff:.3g} over {tuple(want.shape)}")
    return diff <= 1e-4


def finetune(model, steps, shape, classes):
    """Runs SGD steps on random data, with DDP under torchrun."""
    ddp = "WORLD_SIZE" in os.environ
    net = model
    if ddp:
        torch.distributed.init_process_group("gloo")
        net = nn.parallel.DistributedDataParallel(model)
    torch.manual_seed(0)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    model.train()
    for step in range(steps):
        x, y = torch.randn(8, *shape), torch.randint(0, classes, (8,))
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
    for name, m in model.named_modules():
        if hasattr(m, "weight_mask") and (m.weight[m.weight_mask == 0] != 0).any():
            sys.exit(f"load_torch_export: {name} has nonzero pruned weights after training")
    rank = torch.distributed.get_rank() if ddp else 0
    print(f"rank {rank}: {steps} steps, last loss {loss.item():.4f}; pruned weights still zero")
    return rank


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("export", help="state_dict written by sgcnn export --format torch")
    ap.add_argument("--arch", help="architecture (default: the one in <export>.groups.json)")
    ap.add_argument("--check", metavar="REF", help="file with 'input' and 'logits' tensors to compare with")
    ap.add_argument("--train-steps", type=int, default=0, help="SGD steps on random data (DDP under torchrun)")
    ap.add_argument("--out", help="after training, save the state_dict (masks made permanent) here")
    args = ap.parse_args()
    torch.set_num_threads(2)
    model = load(args.export, args.arch)
    pruned = sum(int((m.weight_mask == 0).sum()) for m in model.modules() if hasattr(m, "weight_mask"))
    print(f"loaded {args.export}: {type(model).__name__}, {pruned} pruned weights")
    if args.check and not check(model, args.check):
        sys.exit(1)
    if args.train_steps > 0:
        rank = finetune(model, args.train_steps, infer_shape(model), classes_of(model))
        if args.out and rank == 0:
            for m in model.modules():
                if hasattr(m, "weight_mask"):
                    prune.remove(m, "weight")
            torch.save(model.state_dict(), args.out)
            print(f"saved {args.out}")


def infer_shape(model):
    return (1, 28, 28) if isinstance(model, LeNet5) else (3, 32, 32)


def classes_of(model):
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    return last.out_features


if __name__ == "__main__":
    main()
