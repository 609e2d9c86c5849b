#!/usr/bin/python3
"""Generate the PyTorch reference fixtures for package nn's tests.

Run with Debian's interpreter (torch 1.13, CPU), from the repository root:

    /usr/bin/python3 scripts/gen_nn_fixtures.py

It writes one file per case into nn/testdata/ (*.fix, about 180 KB in all)
and is deterministic: torch.manual_seed(20240601) seeds every draw, so rerunning
it reproduces the files byte for byte on the same torch version.

What each file holds
--------------------
Inputs and parameters are drawn in float32 and the reference is computed by
torch.autograd in float64 on those exact values, then rounded to float32. The
fixtures therefore hold the "true" answer for the float32 inputs, and Go's
float32 error is measured against it, not against torch's own float32 error.

Layer cases (conv*, bn_*, linear*, relu, maxpool*, avgpool*, gap, shortcut_a,
dense_concat): "x" the input, the parameters by state_dict suffix ("weight",
"bias", "mask", "running_mean", "running_var"), "y" the output, "dy" a random
upstream gradient, "dx" = d<y, dy>/dx, "<param>.grad" = d<y, dy>/d<param>.
BN in training mode also holds "running_mean.out" and "running_var.out", the
running statistics after the forward pass. Masked layers compute with
weight * mask (mask [N][C], broadcast over the kernel), so the masked entries
of "weight.grad" are exactly zero.

Loss case (cross_entropy): "logits" [B][K], "labels" [B] (stored as float32),
"loss" (a scalar), "dlogits" = d mean CE / d logits.

Distillation case (distill): "logits", "teacher" [B][K], "labels", scalars
"temp" and "alpha", "loss" = (1-alpha) CE(logits, labels) + alpha temp^2
KL(softmax(teacher/temp) || softmax(logits/temp)) (batch mean), "dlogits".

Network case (resnet): the small CIFAR ResNet defined in net() below, with
every parameter and buffer under its state_dict name. Two SGD steps (lr 0.1,
momentum 0.9, weight decay 1e-4 on conv and linear weights only, nesterov
off, dampening 0) in training mode, each on its own batch; for step s in 1, 2:
"x<s>", "labels<s>", "logits<s>", "loss<s>", "grad<s>.<name>" (gradients of
that step) and "step<s>.<name>" (every parameter and buffer after the
update; num_batches_tracked is left out). Finally "eval_logits": the
network in evaluation mode on x1 after both steps.

File format (little-endian)
---------------------------
    magic    8 bytes  "SGNNFX01"
    count    uint32   number of tensors
    count times:
      namelen uint16, name (UTF-8, namelen bytes)
      ndim    uint8,  dims uint32 x ndim (ndim 0: a scalar)
      data    float32 x prod(dims), row-major

The Go reader is nn/nntest.ReadFixture; nn/testdata/README.md repeats this.
"""

import os
import struct
import sys

import torch
import torch.nn as tnn
import torch.nn.functional as F

SEED = 20240601
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "nn", "testdata")


def write(name, tensors):
    """Write an ordered dict of tensors to OUT/name.fix."""
    path = os.path.join(OUT, name + ".fix")
    with open(path, "wb") as f:
        f.write(b"SGNNFX01")
        f.write(struct.pack("<I", len(tensors)))
        for key, t in tensors.items():
            t = t.detach().to(torch.float32).contiguous()
            kb = key.encode()
            f.write(struct.pack("<H", len(kb)))
            f.write(kb)
            f.write(struct.pack("<B", t.dim()))
            f.write(struct.pack("<%dI" % t.dim(), *t.shape))
            f.write(struct.pack("<%df" % t.numel(), *t.reshape(-1).tolist()))
    return os.path.getsize(path)


def rnd(*shape, scale=1.0):
    """A float32-representable tensor, as float64."""
    return (torch.randn(*shape) * scale).float().double()


def layer_case(name, fn, x, params, extra=None):
    """Run y = fn(x, params), backward with a random dy, and write the case.

    params are differentiated; extra (masks, running stats) are stored as is.
    """
    x = x.clone().requires_grad_()
    ps = {k: v.clone().requires_grad_() for k, v in params.items()}
    extra = dict(extra or {})
    before = {k: v.clone() for k, v in extra.items()}
    y = fn(x, ps, extra)
    dy = rnd(*y.shape)
    y.backward(dy)
    out = {"x": x}
    out.update(ps)
    out.update(before)
    out.update({"y": y, "dy": dy, "dx": x.grad})
    out.update({k + ".grad": p.grad for k, p in ps.items()})
    for k, v in extra.items():
        if not torch.equal(v, before[k]):
            out[k + ".out"] = v
    return write(name, out)


def conv_case(name, b, c, n, h, k, stride, pad, bias, mask=False):
    p = {"weight": rnd(n, c, k, k, scale=0.3)}
    if bias:
        p["bias"] = rnd(n, scale=0.3)
    e = {}
    if mask:
        m = (torch.rand(n, c) < 0.5).double()
        m[0, :] = 0  # a filter with no inputs left
        m[1, 0] = 1
        e["mask"] = m

    def fn(x, ps, ex):
        w = ps["weight"]
        if "mask" in ex:
            w = w * ex["mask"][:, :, None, None]
        return F.conv2d(x, w, ps.get("bias"), stride=stride, padding=pad)

    return layer_case(name, fn, rnd(b, c, h, h), p, e)


def bn_case(name, train):
    c = 4
    p = {"weight": rnd(c, scale=0.5) + 1, "bias": rnd(c, scale=0.5)}
    e = {"running_mean": rnd(c, scale=0.5), "running_var": torch.rand(c).double() + 0.5}

    def fn(x, ps, ex):
        return F.batch_norm(x, ex["running_mean"], ex["running_var"], ps["weight"], ps["bias"],
                            training=train, momentum=0.1, eps=1e-5)

    return layer_case(name, fn, rnd(3, c, 3, 3, scale=2) + 0.5, p, e)


def linear_case(name, x, n, bias, mask):
    cin = x[0].numel()
    p = {"weight": rnd(n, cin, scale=0.3)}
    if bias:
        p["bias"] = rnd(n, scale=0.3)
    e = {}
    if mask:
        e["mask"] = (torch.rand(n, cin) < 0.5).double()

    def fn(x, ps, ex):
        w = ps["weight"]
        if "mask" in ex:
            w = w * ex["mask"]
        return F.linear(x.reshape(x.shape[0], -1), w, ps.get("bias"))

    return layer_case(name, fn, x, p, e)


def shortcut_a(x, planes):
    # The option-A shortcut of akamaster's CIFAR ResNets (LambdaLayer).
    return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4), "constant", 0)


class BasicBlock(tnn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = tnn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.option_a = stride != 1 or cin != planes
        self.planes = planes

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + (shortcut_a(x, self.planes) if self.option_a else x)
        return F.relu(out)


class Net(tnn.Module):
    """conv-bn-relu stem 3->8, block 8->8, block 8->16 stride 2 (option A),
    global average pool, linear 16->10: a cut-down resnet20."""

    def __init__(self):
        super().__init__()
        self.conv1 = tnn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(8)
        self.layer1 = tnn.Sequential(BasicBlock(8, 8, 1))
        self.layer2 = tnn.Sequential(BasicBlock(8, 16, 2))
        self.linear = tnn.Linear(16, 10)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer2(self.layer1(out))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


def net_case():
    net = Net()
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape) + 0.5)
            elif name.endswith("running_mean"):
                t.copy_(rnd(*t.shape, scale=0.1))
            elif ".bn" in name or name.startswith("bn"):
                t.copy_(rnd(*t.shape, scale=0.2) + (1 if name.endswith("weight") else 0))
            else:
                t.copy_(rnd(*t.shape, scale=0.3))
    net = net.double().train()
    out = {k: v.clone() for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    decay = [p for n, p in net.named_parameters() if n.endswith("weight") and ("conv" in n or "linear" in n)]
    other = [p for n, p in net.named_parameters() if not (n.endswith("weight") and ("conv" in n or "linear" in n))]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 1e-4}, {"params": other, "weight_decay": 0}],
                          lr=0.1, momentum=0.9)
    for s in (1, 2):
        x = rnd(4, 3, 8, 8)
        labels = torch.randint(0, 10, (4,))
        opt.zero_grad()
        logits = net(x)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        out["x%d" % s] = x
        out["labels%d" % s] = labels.double()
        out["logits%d" % s] = logits
        out["loss%d" % s] = loss
        for n, p in net.named_parameters():
            out["grad%d.%s" % (s, n)] = p.grad.clone()
        opt.step()
        for n, t in net.state_dict().items():
            if not n.endswith("num_batches_tracked"):
                out["step%d.%s" % (s, n)] = t.clone()
    with torch.no_grad():
        out["eval_logits"] = net.eval()(out["x1"])
    return write("resnet", out)


def main():
    if not torch.__version__.startswith("1.13"):
        print("warning: fixtures were made with torch 1.13, this is", torch.__version__, file=sys.stderr)
    torch.manual_seed(SEED)
    torch.set_default_dtype(torch.float64)
    os.makedirs(OUT, exist_ok=True)
    sizes = {}
    # Convolutions: batch 3 so that two threads split it unevenly.
    sizes["conv3x3_s1_p1_bias"] = conv_case("conv3x3_s1_p1_bias", 3, 3, 4, 6, 3, 1, 1, True)
    sizes["conv3x3_s1_p1_nobias"] = conv_case("conv3x3_s1_p1_nobias", 3, 3, 4, 6, 3, 1, 1, False)
    sizes["conv3x3_s2_p1"] = conv_case("conv3x3_s2_p1", 3, 3, 4, 7, 3, 2, 1, True)
    sizes["conv1x1"] = conv_case("conv1x1", 3, 4, 6, 5, 1, 1, 0, False)
    sizes["conv5x5_p0"] = conv_case("conv5x5_p0", 3, 2, 3, 7, 5, 1, 0, True)
    sizes["conv3x3_mask"] = conv_case("conv3x3_mask", 3, 3, 4, 6, 3, 1, 1, True, mask=True)
    sizes["bn_train"] = bn_case("bn_train", True)
    sizes["bn_eval"] = bn_case("bn_eval", False)
    sizes["linear_bias"] = linear_case("linear_bias", rnd(3, 7), 5, True, False)
    sizes["linear_nobias"] = linear_case("linear_nobias", rnd(3, 7), 5, False, False)
    sizes["linear_mask"] = linear_case("linear_mask", rnd(3, 2, 2, 2), 5, True, True)
    sizes["relu"] = layer_case("relu", lambda x, p, e: F.relu(x), rnd(2, 3, 4, 4), {})
    sizes["maxpool2x2"] = layer_case("maxpool2x2", lambda x, p, e: F.max_pool2d(x, 2, 2, 0), rnd(2, 3, 6, 6), {})
    sizes["maxpool3x3_s2_p1"] = layer_case("maxpool3x3_s2_p1", lambda x, p, e: F.max_pool2d(x, 3, 2, 1),
                                           rnd(2, 3, 7, 7), {})
    sizes["avgpool2x2"] = layer_case("avgpool2x2", lambda x, p, e: F.avg_pool2d(x, 2, 2, 0), rnd(2, 3, 6, 6), {})
    sizes["avgpool3x3_s1_p1"] = layer_case("avgpool3x3_s1_p1",
                                           lambda x, p, e: F.avg_pool2d(x, 3, 1, 1, count_include_pad=True),
                                           rnd(2, 3, 5, 5), {})
    sizes["gap"] = layer_case("gap", lambda x, p, e: F.adaptive_avg_pool2d(x, 1).flatten(1), rnd(2, 3, 5, 5), {})
    sizes["shortcut_a"] = layer_case("shortcut_a", lambda x, p, e: shortcut_a(x, 8), rnd(2, 4, 7, 7), {})

    # DenseNet layer: cat(x, conv(relu(bn(x)))), BN in training mode.
    def dense(x, ps, ex):
        z = F.batch_norm(x, ex["norm.running_mean"], ex["norm.running_var"], ps["norm.weight"], ps["norm.bias"],
                         training=True, momentum=0.1, eps=1e-5)
        z = F.conv2d(F.relu(z), ps["conv.weight"], None, padding=1)
        return torch.cat([x, z], 1)

    sizes["dense_concat"] = layer_case(
        "dense_concat", dense, rnd(2, 3, 4, 4),
        {"norm.weight": rnd(3, scale=0.2) + 1, "norm.bias": rnd(3, scale=0.2), "conv.weight": rnd(2, 3, 3, 3, scale=0.3)},
        {"norm.running_mean": torch.zeros(3), "norm.running_var": torch.ones(3)})

    logits = rnd(5, 10, scale=3).requires_grad_()
    labels = torch.tensor([3, 0, 9, 3, 7])
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    sizes["cross_entropy"] = write("cross_entropy", {"logits": logits, "labels": labels.double(), "loss": loss,
                                                     "dlogits": logits.grad})
    sizes["resnet"] = net_case()

    # Knowledge distillation (Hinton et al. 2015), after the network case so
    # that the earlier cases' random draws are unchanged.
    logits = rnd(5, 10, scale=3).requires_grad_()
    teacher = rnd(5, 10, scale=3)
    labels = torch.tensor([1, 4, 4, 8, 0])
    temp, alpha = 4.0, 0.9
    soft = F.kl_div(F.log_softmax(logits / temp, 1), F.softmax(teacher / temp, 1), reduction="batchmean")
    loss = (1 - alpha) * F.cross_entropy(logits, labels) + alpha * temp * temp * soft
    loss.backward()
    sizes["distill"] = write("distill", {"logits": logits, "teacher": teacher, "labels": labels.double(),
                                         "temp": torch.tensor(temp), "alpha": torch.tensor(alpha), "loss": loss,
                                         "dlogits": logits.grad})
    for k, v in sizes.items():
        print("%-22s %7d bytes" % (k, v))
    print("total %d bytes" % sum(sizes.values()))


if __name__ == "__main__":
    main()
