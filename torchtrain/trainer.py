#!/usr/bin/env python3
"""sgcnn's fine-tuning phase on PyTorch DDP (`sgcnn train/prune --trainer torch`).

sgcnn starts this script under torchrun, once per fine-tuning phase:

    torchrun --nproc_per_node=N torchtrain/trainer.py --spec RUN/torch/phase.json

Everything the phase needs is in the spec (JSON, written by package
torchtrain); nothing here chooses a value of its own:

  state       a PyTorch state_dict (zip) with the model's weights and BN
              statistics, one "<layer>.weight_mask" [N, C] per pruned layer
              (1 = kept), and optionally "optim.<param>.momentum_buffer"
  arch, classes, input_shape
              the architecture, by sgcnn's name (the CIFAR ResNets, lenet5
              and vgg16, defined below with sgcnn's state_dict names;
              torchvision's resnet50 and densenet201; "graph": an imported
              network, whose lowered graph the spec's "graph" holds, run by
              GraphNet below)
  data        "images": a raw file of N*C*H*W uint8 pixels (NCHW) that
              sgcnn wrote from the same data files it reads, "labels": N
              little-endian int32, "n", "mean", "std" (0..1 pixel units);
              or, for an ImageNet-style folder, "folder" (one sub-folder of
              .jpg/.jpeg/.png files per class, read with torchvision's
              ImageFolder), "size", "resize", "workers" (DataLoader
              workers per process), "mean", "std", "exclude" (optional:
              paths relative to "folder" of images held out as a
              validation split, not trained on): training images get
              RandomResizedCrop(size) and a random flip, evaluation
              Resize(resize) then CenterCrop(size)
  epochs, start_epoch, lrs
              the phase runs epochs start_epoch..epochs-1; lrs[e] is epoch
              e's learning rate, computed by sgcnn's schedule, so both
              trainers step the rate the same way (once per epoch)
  batch       the global batch, split evenly over the processes
  momentum, weight_decay, nesterov
              torch.optim.SGD's; weight decay applies to conv and linear
              weights only, as in sgcnn
  pad, flip   random crops of the image zero-padded by pad pixels, and
              random horizontal flips (CIFAR: 4 and true; MNIST --shift 2: 2
              and false)
  epoch_size  images per epoch: a fresh random subset each epoch (0: all)
  seed        seeds the data order (DistributedSampler) and augmentation
  eval        optional: {"images", "labels", "n"} of a held-out set that
              rank 0 evaluates after the last epoch (eval mode), printing
              "torch: eval top-1 T% images N", so that sgcnn can check that
              both engines agree on the trained model
  checkpoint  written atomically (rank 0) every checkpoint_every steps
              (0: every tenth of an epoch) and after every epoch, with the
              step reached and the loss and accuracy sums so far; a
              restarted phase whose spec carries the same resume_key (sgcnn
              derives it from the input state and the spec) continues from
              it at that step, with the same data order and augmentation
              as an uninterrupted run (the augmentation's random source is
              reseeded at every checkpoint interval)
  out         the result: weights, BN statistics and momentum buffers

Masks: the gradient of every pruned connection is zeroed by a hook before
the optimiser sees it, and pruned weights start at zero with zero momentum,
so SGD (with weight decay) keeps them exactly zero. The script checks this
before writing its result and fails if any pruned weight is non-zero.

Not supported here (sgcnn says so before starting): knowledge distillation.

Tests: SGCNN_TRAINER_KILL_RANK=R (and SGCNN_TRAINER_KILL_STEP=S, default 0)
makes rank R kill itself with SIGKILL at the start of step S of its epoch.

Progress: rank 0 prints one line per 10% of an epoch and one per epoch,
prefixed "torch:", which sgcnn shows in its own progress display.
Only torch is needed (torchvision for resnet50 and densenet201).
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

MASK_SUFFIX = ".weight_mask"
MOMENTUM = ("optim.", ".momentum_buffer")


# Models: the architectures by sgcnn's names, with its state_dict names.

class BasicBlock(nn.Module):
    """A CIFAR ResNet block with an option-A (parameter-free) shortcut."""

    def __init__(self, inp, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes - inp
        self.stride = stride

    def shortcut(self, x):
        if self.stride == 1 and self.pad == 0:
            return x
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """He et al.'s CIFAR ResNet of depth 6n+2 (akamaster's names)."""

    def __init__(self, n, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        inp, stages = 16, []
        for s, planes in enumerate([16, 32, 64]):
            blocks = []
            for i in range(n):
                blocks.append(BasicBlock(inp, planes, 2 if s > 0 and i == 0 else 1))
                inp = planes
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


class LeNet5(nn.Module):
    """Caffe's LeNet: no nonlinearity after the convs, one ReLU after fc1."""

    def __init__(self, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.fc1 = nn.Linear(800, 500)
        self.fc2 = nn.Linear(500, classes)

    def forward(self, x):
        x = F.max_pool2d(self.conv1(x), 2)
        x = F.max_pool2d(self.conv2(x), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


class VGG16(nn.Module):
    """VGG-16 with BatchNorm for 32x32 inputs (kuangliu's names)."""

    CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]

    def __init__(self, classes):
        super().__init__()
        layers, inp = [], 3
        for w in self.CFG:
            if w == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(inp, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
                inp = w
        layers.append(nn.AvgPool2d(1, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(512, classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


RESNETS = {"resnet20": 3, "resnet32": 5, "resnet44": 7, "resnet56": 9, "resnet110": 18}


class GraphNet(nn.Module):
    """Runs sgcnn's lowered graph (an imported ONNX network, arch "graph"):
    the spec's "graph" holds its nodes in topological order (name, op, inputs,
    outputs, attrs, as package graph writes them) and every tensor's
    per-image shape. A node's parameters sit at its name's path, so that
    the state_dict names are sgcnn's ("layer1.0.conv1.weight", and
    "<node>.const" for a constant operand)."""

    def __init__(self, g):
        super().__init__()
        self.g, self.shapes = g, g["shapes"]
        for n in g["nodes"]:
            mod = self.layer(n)
            if mod is not None:
                self.place(n["name"], mod)

    def place(self, name, mod):
        """Adds mod at the dotted path name, creating plain containers."""
        parts, at = name.split("."), self
        for p in parts[:-1]:
            if p not in at._modules:
                at.add_module(p, nn.Module())
            at = at._modules[p]
        at.add_module(parts[-1], mod)

    def get(self, name):
        at = self
        for p in name.split("."):
            at = at._modules[p]
        return at

    def layer(self, n):
        op, a = n["op"], n.get("attrs", {})
        shape = self.shapes[n["inputs"][0]] if n["inputs"] else []
        if op == "Conv":
            g, (kh, kw) = a.get("group") or 1, a["kernel"]
            return nn.Conv2d(shape[0], a["out"], (kh, kw), tuple(a.get("stride") or (1, 1)), 0,
                             tuple(d or 1 for d in a.get("dilation") or (1, 1)), g, bias=a.get("bias", False))
        if op == "BatchNormalization":
            bn = nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d
            return bn(shape[0], eps=a.get("eps") or 1e-5, momentum=a.get("momentum") or 0.1)
        if op == "Gemm":
            return nn.Linear(math.prod(shape), a["out"], bias=a.get("bias", False))
        if op in ("Add", "Sub", "Mul", "Div") and len(n["inputs"]) == 1:
            holder = nn.Module()
            holder.register_buffer("const", torch.zeros(0))  # its value comes with the state
            return holder
        if op == "ConvTranspose":
            sys.exit(f"trainer: graph node {n['name']}: ConvTranspose is not supported under torch")
        return None

    def _load_from_state_dict(self, sd, prefix, *args, **kw):
        # Constants arrive with their shapes: size the buffers first.
        for k, v in sd.items():
            if k.startswith(prefix) and k.endswith(".const"):
                self.get(k[len(prefix) : -len(".const")]).const = v.clone()
        super()._load_from_state_dict(sd, prefix, *args, **kw)

    def forward(self, x):
        env = {self.g["input"]: x}
        for n in self.g["nodes"]:
            out = self.run(n, [env[i] for i in n["inputs"]])
            outs = out if isinstance(out, (list, tuple)) else [out]
            env.update(zip(n["outputs"], outs))
        return env[self.g["output"]]

    def run(self, n, xs):
        op, a, x = n["op"], n.get("attrs", {}), xs[0] if xs else None
        pads = a.get("pads") or [0, 0, 0, 0]  # top, left, bottom, right
        sym = pads[0] == pads[2] and pads[1] == pads[3]
        if op == "Conv":
            if any(pads):
                x = F.pad(x, (pads[1], pads[3], pads[0], pads[2]))
            return self.get(n["name"])(x)
        if op in ("BatchNormalization",):
            return self.get(n["name"])(x)
        if op == "Gemm":
            return self.get(n["name"])(x.flatten(1))
        if op == "Relu":
            return F.relu(x)
        if op == "LeakyRelu":
            return F.leaky_relu(x, a.get("alpha", 0.0))
        if op == "Clip":
            return x.clamp(a.get("min", 0.0), a.get("max", 0.0))
        if op == "Sigmoid":
            return torch.sigmoid(x)
        if op == "HardSigmoid":
            return (a.get("alpha", 0.0) * x + a.get("beta", 0.0)).clamp(0, 1)
        if op == "HardSwish":
            return F.hardswish(x)
        if op in ("Add", "Sub", "Mul", "Div"):
            if len(xs) == 2:
                l, r = xs
            else:
                c = self.get(n["name"]).const
                l, r = (c, x) if a.get("const_first") else (x, c)
            return {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div}[op](l, r)
        if op == "Concat":
            return torch.cat(xs, a.get("axis", 0) + 1)
        if op == "Split":
            return torch.split(x, a["sizes"], a.get("axis", 0) + 1)
        if op == "Slice":
            idx = [slice(None)] * x.dim()
            for i, ax in enumerate(a["axes"]):
                idx[ax + 1] = slice(a["starts"][i], a["ends"][i], (a.get("steps") or [1] * len(a["axes"]))[i])
            return x[tuple(idx)]
        if op in ("MaxPool", "AveragePool"):
            k, st = tuple(a["kernel"]), tuple(a.get("stride") or (1, 1))
            if op == "MaxPool":
                dil = tuple(d or 1 for d in a.get("dilation") or (1, 1))
                if not sym:
                    x, pads = F.pad(x, (pads[1], pads[3], pads[0], pads[2]), value=-math.inf), [0, 0, 0, 0]
                return F.max_pool2d(x, k, st, (pads[0], pads[1]), dil, a.get("ceil_mode", False))
            if not sym:
                sys.exit(f"trainer: graph node {n['name']}: AveragePool with uneven padding is not supported under torch")
            return F.avg_pool2d(x, k, st, (pads[0], pads[1]), a.get("ceil_mode", False), a.get("count_include_pad", False))
        if op == "GlobalAveragePool":
            return x.mean((2, 3), keepdim=a.get("keepdims", False))
        if op == "Flatten":
            return x.flatten(1)
        if op == "Reshape":
            return x.reshape(x.shape[0], *a["shape"])
        if op == "Transpose":
            return x.permute(0, *[p + 1 for p in a["perm"]])
        if op == "Dropout":
            return F.dropout(x, a.get("ratio", 0.0), self.training)
        if op == "Identity":
            return x
        if op == "Pad":
            pad = []
            for b, e in reversed(list(zip(a["pad_before"], a["pad_after"]))):
                pad += [b, e]
            return F.pad(x, pad, value=a.get("value", 0.0))
        if op == "ShortcutA":
            s = (a.get("stride") or [1, 1])[0]
            x = x[:, :, ::s, ::s]
            p = a["out"] - x.shape[1]
            return F.pad(x, (0, 0, 0, 0, p // 2, p - p // 2))
        sys.exit(f"trainer: graph node {n['name']}: op {op} is not supported under torch")


def build(arch, classes, graph=None):
    """Returns an unpruned model of the architecture sgcnn calls arch."""
    if arch == "graph":
        if graph is None:
            sys.exit("trainer: arch graph without a graph in the spec")
        return GraphNet(graph)
    if arch in ("resnet50", "densenet201"):
        import torchvision

        return getattr(torchvision.models, arch)(num_classes=classes)
    if arch in RESNETS:
        return CifarResNet(RESNETS[arch], classes)
    if arch == "lenet5":
        return LeNet5(classes)
    if arch == "vgg16":
        return VGG16(classes)
    sys.exit(f"no PyTorch definition here for {arch} (have {sorted(RESNETS) + ['lenet5', 'vgg16', 'resnet50', 'densenet201']})")


class Images:
    """The raw NCHW uint8 images and int32 labels sgcnn wrote, normalised
    and augmented a batch at a time."""

    def __init__(self, spec):
        d = spec["data"]
        c, h, w = spec["input_shape"]
        n = d["n"]
        self.x = torch.from_file(d["images"], shared=False, size=n * c * h * w, dtype=torch.uint8).view(n, c, h, w)
        self.y = torch.from_file(d["labels"], shared=False, size=n, dtype=torch.int32).long()
        self.mean = torch.tensor(d["mean"]).view(1, c, 1, 1)
        self.std = torch.tensor(d["std"]).view(1, c, 1, 1)
        self.pad, self.flip = spec.get("pad", 0), spec.get("flip", False)
        self.gen = torch.Generator()

    def __len__(self):
        return self.x.shape[0]

    def batches(self, idx, per, seed):
        """Batches of per images from idx, augmented from a source seeded
        with seed."""
        self.gen.manual_seed(seed)
        for j in range(0, len(idx), per):
            yield self.batch(idx[j : j + per])

    def batch(self, idx):
        """Images idx, normalised, then randomly cropped from a zero-padded
        copy (after normalisation, as sgcnn does) and flipped."""
        x = (self.x[idx].float() / 255 - self.mean) / self.std
        if self.pad or self.flip:
            b, c, h, w = x.shape
            p = F.pad(x, (self.pad,) * 4)
            off = torch.randint(0, 2 * self.pad + 1, (b, 2), generator=self.gen).tolist()
            flips = torch.randint(0, 2, (b,), generator=self.gen).tolist() if self.flip else [0] * b
            x = torch.stack([p[i, :, dy : dy + h, dx : dx + w].flip(2) if f else p[i, :, dy : dy + h, dx : dx + w]
                             for i, ((dy, dx), f) in enumerate(zip(off, flips))])
        return x, self.y[idx]


IMAGE_EXTS = (".jpg", ".jpeg", ".png")  # the files sgcnn's Go reader takes


class FolderImages:
    """An ImageNet-style folder through torchvision's ImageFolder: training
    transform RandomResizedCrop(size) and flip, else Resize(resize) and
    CenterCrop(size); then ToTensor and the spec's normalisation."""

    def __init__(self, d, train):
        import torchvision.datasets as datasets
        import torchvision.transforms as T

        if train:
            tf = [T.RandomResizedCrop(d["size"]), T.RandomHorizontalFlip()]
        else:
            tf = [T.Resize(d["resize"]), T.CenterCrop(d["size"])]
        tf += [T.ToTensor(), T.Normalize(d["mean"], d["std"])]
        self.ds = datasets.ImageFolder(d["folder"], T.Compose(tf),
                                       is_valid_file=lambda p: p.lower().endswith(IMAGE_EXTS))
        exclude = set(d.get("exclude") or ())
        if exclude:  # a validation split sgcnn holds out of the folder
            keep = [s for s in self.ds.samples if os.path.relpath(s[0], d["folder"]) not in exclude]
            if len(self.ds.samples) - len(keep) != len(exclude):
                raise SystemExit("trainer: %d of the %d held-out images are not in %s"
                                 % (len(exclude) - len(self.ds.samples) + len(keep), len(exclude), d["folder"]))
            self.ds.samples = self.ds.imgs = keep
            self.ds.targets = [s[1] for s in keep]
        self.workers = d.get("workers", 0)

    def __len__(self):
        return len(self.ds)

    def batches(self, idx, per, seed):
        g = torch.Generator()
        g.manual_seed(seed)
        if self.workers == 0:
            torch.manual_seed(seed)  # the transforms draw from torch's global source
        loader = torch.utils.data.DataLoader(self.ds, batch_size=per, sampler=idx, num_workers=self.workers,
                                             generator=g, pin_memory=torch.cuda.is_available())
        yield from loader


def dataset(spec, d, train):
    """The images of data spec d: raw pixels sgcnn wrote, or a folder."""
    if "folder" in d:
        return FolderImages(d, train)
    if not train:
        spec = dict(spec, pad=0, flip=False)
    return Images(dict(spec, data=d))


def order(n, size, seed, epoch, world, rank):
    """This rank's image indices for the epoch: DistributedSampler's
    seeded shuffle (seed + epoch), cut to size images in all when size > 0."""
    s = torch.utils.data.DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=True, seed=seed)
    s.set_epoch(epoch)
    idx = list(s)
    return idx[: size // world] if size else idx


def load_state(model, path):
    """Loads weights; returns masks and momentum buffers by parameter name."""
    sd = torch.load(path, map_location="cpu")
    masks = {k[: -len(MASK_SUFFIX)] + ".weight": sd.pop(k) for k in list(sd) if k.endswith(MASK_SUFFIX)}
    mom = {k[len(MOMENTUM[0]) : -len(MOMENTUM[1])]: sd.pop(k) for k in list(sd) if k.startswith(MOMENTUM[0])}
    model.load_state_dict(sd, strict=True)
    params = dict(model.named_parameters())
    for name, m in masks.items():
        if name not in params:
            sys.exit(f"trainer: mask for {name}, which the model does not have")
        p = params[name]
        full = m.view(m.shape + (1,) * (p.dim() - m.dim())).expand_as(p).to(p.dtype).clone()
        masks[name] = full
    return masks, mom


def optimizer(model, spec, mom, device):
    decay = [p for n, p in model.named_parameters() if p.dim() > 1]
    rest = [p for n, p in model.named_parameters() if p.dim() <= 1]
    opt = torch.optim.SGD(
        [{"params": decay, "weight_decay": spec["weight_decay"]}, {"params": rest, "weight_decay": 0.0}],
        lr=spec["lrs"][0], momentum=spec["momentum"], nesterov=spec.get("nesterov", False))
    for n, p in model.named_parameters():
        if n in mom:
            opt.state[p]["momentum_buffer"] = mom[n].to(device).clone()
    return opt


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def result(model, opt):
    sd = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    for n, p in model.named_parameters():
        buf = opt.state.get(p, {}).get("momentum_buffer")
        if buf is not None:
            sd[MOMENTUM[0] + n + MOMENTUM[1]] = buf.detach().cpu()
    return sd


def check_masks(model, masks):
    params = dict(model.named_parameters())
    for name, m in masks.items():
        bad = (params[name].detach().cpu()[m == 0] != 0).sum().item()
        if bad:
            sys.exit(f"trainer: {bad} pruned weights of {name} are non-zero after training")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", required=True, help="the phase's JSON spec, written by sgcnn")
    spec = json.load(open(ap.parse_args().spec))
    world, rank = int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("RANK", 0))
    device = torch.device(spec.get("device", "cpu"))
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    torch.set_num_threads(max(1, spec.get("threads_per_proc", 1)))
    torch.manual_seed(spec["seed"] + rank)

    model = build(spec["arch"], spec["classes"], spec.get("graph"))
    masks, mom = load_state(model, spec["state"])
    start, skip, carried = resume(model, spec, rank)
    if carried is not None:
        mom = carried.pop("momentum")
    model.to(device)
    gmask = {n: m.to(device) for n, m in masks.items()}
    for n, p in model.named_parameters():
        if n in gmask:
            p.register_hook(lambda g, m=gmask[n]: g * m)
    opt = optimizer(model, spec, mom, device)
    net = nn.parallel.DistributedDataParallel(model) if world > 1 else model

    ds = dataset(spec, spec["data"], train=True)
    if spec["batch"] % world:
        sys.exit(f"trainer: batch {spec['batch']} does not split over {world} processes")
    for e in range(start, spec["epochs"]):
        sums = carried["stats"] if carried is not None and e == start and rank == 0 else [0, 0.0, 0]
        train_epoch(net, model, opt, ds, spec, e, skip if e == start else 0, sums, device, world, rank)
    if rank == 0:
        check_masks(model, masks)
        if spec.get("eval"):
            evaluate(model, spec, device)
        save_atomic(result(model, opt), spec["out"])
    if world > 1:
        # Every rank waits here until rank 0 has written the result, then
        # all leave together without gloo's teardown: destroy_process_group
        # after a peer had exited was seen to spin forever on its closed
        # socket (rank 0 at 100% CPU, out.pt written, torchrun waiting;
        # TestResumeInsideEpoch, 2026-12-08).
        dist.barrier()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def resume(model, spec, rank):
    """Loads the phase's checkpoint when its key matches the spec's; returns
    the epoch and step to start at and (rank 0) the sums carried over."""
    ckpt, key = spec["checkpoint"], spec.get("resume_key", "")
    if not key or not os.path.exists(ckpt):
        return spec["start_epoch"], 0, None
    saved = torch.load(ckpt, map_location="cpu")
    if saved.get("key") != key or saved["epoch"] < spec["start_epoch"]:
        return spec["start_epoch"], 0, None
    _, mom = load_state_from(model, saved["state"])
    if rank == 0:
        print(f"torch: resuming the phase at epoch {saved['epoch'] + 1}, step {saved['step']}", flush=True)
    return saved["epoch"], saved["step"], {"stats": list(saved["stats"]), "momentum": mom}


def train_epoch(net, model, opt, ds, spec, e, first, sums, device, world, rank):
    """Trains epoch e from step first on, checkpointing as it goes."""
    per = spec["batch"] // world
    idx = order(len(ds), spec.get("epoch_size", 0), spec["seed"], e, world, rank)
    for g in opt.param_groups:
        g["lr"] = spec["lrs"][e]
    net.train()
    t0, seen, loss_sum, correct = time.time(), *sums
    steps = (len(idx) + per - 1) // per
    tick = max(1, steps // 10)
    every = spec.get("checkpoint_every", 0) or tick
    kill_rank, kill_step = os.environ.get("SGCNN_TRAINER_KILL_RANK"), int(os.environ.get("SGCNN_TRAINER_KILL_STEP", 0))
    for c0 in range(first, steps, every):
        # Each checkpoint interval draws its augmentation from its own
        # seed, so that a resumed run repeats an uninterrupted one.
        chunk = idx[c0 * per : min(steps, c0 + every) * per]
        seed = (spec["seed"] * 1000003 + e * 10007 + rank * 101 + c0) % (1 << 63)
        for i, (x, y) in enumerate(ds.batches(chunk, per, seed), start=c0):
            if kill_rank == str(rank) and i == kill_step:  # tests: a worker dying mid-epoch
                os.kill(os.getpid(), 9)
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            opt.zero_grad(set_to_none=True)
            out = net(x)
            loss = F.cross_entropy(out, y)
            if not math.isfinite(loss.item()):
                sys.exit(f"trainer: rank {rank}: training diverged (loss {loss.item()}) in epoch {e + 1}")
            loss.backward()
            opt.step()
            seen += len(y)
            loss_sum += loss.item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            if rank == 0 and (i + 1) % tick == 0:
                print(f"torch: epoch {e + 1}/{spec['epochs']} step {i + 1}/{steps} loss {loss_sum / seen:.4f}", flush=True)
        done = min(steps, c0 + every)
        # NCCL reduces device tensors only.
        stats = torch.tensor([seen, loss_sum, correct], dtype=torch.float64, device=device)
        if world > 1:
            dist.all_reduce(stats)
        n, ls, cc = stats.tolist()
        if done < steps:
            if rank == 0:
                checkpoint(spec, model, opt, e, done, [n, ls, cc])
            continue
        el = time.time() - t0
        if rank == 0:
            print(f"torch: epoch {e + 1}/{spec['epochs']} lr {spec['lrs'][e]:.4g} train loss {ls / n:.6f} "
                  f"acc {100 * cc / n:.4f}% images {int(n)} {n / el:.1f} img/s", flush=True)
            checkpoint(spec, model, opt, e + 1, 0, [0, 0.0, 0])
    if world > 1:
        dist.barrier()


def checkpoint(spec, model, opt, epoch, step, stats):
    """Writes the phase's checkpoint: epoch (0-based) and step reached."""
    save_atomic({"key": spec.get("resume_key", ""), "epoch": epoch, "step": step, "stats": stats,
                 "state": result(model, opt)}, spec["checkpoint"])


def evaluate(model, spec, device):
    """Prints the eval-mode top-1 on spec's held-out images."""
    ds = dataset(spec, dict(spec["data"], **spec["eval"]), train=False)
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in ds.batches(list(range(len(ds))), 64, 0):
            correct += (model(x.to(device)).argmax(1).cpu() == y).sum().item()
    print(f"torch: eval top-1 {100 * correct / len(ds):.4f}% images {len(ds)}", flush=True)


def load_state_from(model, sd):
    """Loads a checkpoint's weights and returns (masks: none, momentum)."""
    sd = dict(sd)
    mom = {k[len(MOMENTUM[0]) : -len(MOMENTUM[1])]: sd.pop(k) for k in list(sd) if k.startswith(MOMENTUM[0])}
    model.load_state_dict(sd, strict=True)
    return None, mom


if __name__ == "__main__":
    main()
