#!/usr/bin/python3
"""Generate the PyTorch reference fixtures for package graph's tests.

Run with Debian's interpreter (torch 1.13, CPU), from the repository root:

    /usr/bin/python3 scripts/gen_graph_fixtures.py

It writes one file per case into graph/testdata/ (*.fix), in the format of
scripts/gen_nn_fixtures.py (whose writer and float64 reference method it
reuses): "x" the input, "weight" and "bias" where the layer has them, "y" the
output, "dy" a random upstream gradient, "dx" = d<y, dy>/dx and
"<param>.grad". torch.manual_seed(20261206) seeds every draw.

Cases: convolutions sgcnn's nn.Conv2d does not take (groups, depthwise,
dilation, rectangular kernels and strides, asymmetric pads, which PyTorch
spells as F.pad then an unpadded conv), a transposed convolution, and pools
with ceil_mode, dilation and count_include_pad=False. Each case's attributes
are written into its name's entry in the Go test (graph/fixture_test.go).
"""

import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_nn_fixtures as nnfx  # noqa: E402

SEED = 20261206
nnfx.OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "graph", "testdata")
rnd = nnfx.rnd


def conv(name, b, c, hw, n, k, stride=(1, 1), pads=(0, 0, 0, 0), dil=(1, 1), groups=1, bias=True):
    """pads are ONNX's (top, left, bottom, right)."""
    p = {"weight": rnd(n, c // groups, k[0], k[1], scale=0.3)}
    if bias:
        p["bias"] = rnd(n, scale=0.3)

    def fn(x, ps, ex):
        x = F.pad(x, (pads[1], pads[3], pads[0], pads[2]))
        return F.conv2d(x, ps["weight"], ps.get("bias"), stride=stride, dilation=dil, groups=groups)

    return nnfx.layer_case(name, fn, rnd(b, c, hw[0], hw[1]), p)


def conv_t(name, b, c, hw, n, k, stride, pad, outpad, groups=1, dil=(1, 1)):
    p = {"weight": rnd(c, n // groups, k[0], k[1], scale=0.3), "bias": rnd(n, scale=0.3)}

    def fn(x, ps, ex):
        return F.conv_transpose2d(x, ps["weight"], ps["bias"], stride=stride, padding=pad,
                                  output_padding=outpad, groups=groups, dilation=dil)

    return nnfx.layer_case(name, fn, rnd(b, c, hw[0], hw[1]), p)


def pool(name, kind, k, stride, pad, ceil, dil=(1, 1), count_pad=True):
    # distinct values: no ties in max windows
    x = (torch.randperm(2 * 3 * 9 * 8).double() * 0.1 - 20).reshape(2, 3, 9, 8)

    def fn(x, ps, ex):
        if kind == "max":
            return F.max_pool2d(x, k, stride, pad, dilation=dil, ceil_mode=ceil)
        return F.avg_pool2d(x, k, stride, pad, ceil_mode=ceil, count_include_pad=count_pad)

    return nnfx.layer_case(name, fn, x, {})


def main():
    os.makedirs(nnfx.OUT, exist_ok=True)
    torch.manual_seed(SEED)
    sizes = {
        "conv_group2": conv("conv_group2", 2, 4, (6, 6), 6, (3, 3), pads=(1, 1, 1, 1), groups=2),
        "conv_depthwise_s2": conv("conv_depthwise_s2", 2, 4, (7, 7), 4, (3, 3), stride=(2, 2), pads=(1, 1, 1, 1), groups=4, bias=False),
        "conv_dilated": conv("conv_dilated", 2, 3, (8, 7), 4, (3, 3), pads=(2, 2, 2, 2), dil=(2, 2)),
        "conv_rect_asym": conv("conv_rect_asym", 2, 3, (6, 7), 4, (1, 3), stride=(2, 1), pads=(0, 1, 1, 0)),
        "conv_mixed": conv("conv_mixed", 2, 4, (7, 6), 6, (3, 2), stride=(1, 2), pads=(1, 0, 2, 1), dil=(2, 1), groups=2),
        "convt_s2": conv_t("convt_s2", 2, 3, (4, 5), 4, (3, 3), (2, 2), (1, 1), (1, 1)),
        "convt_group": conv_t("convt_group", 2, 4, (3, 4), 6, (2, 3), (2, 1), (0, 1), (0, 0), groups=2),
        "maxpool_ceil": pool("maxpool_ceil", "max", (3, 3), (2, 2), (0, 0), True),
        "maxpool_ceil_pad": pool("maxpool_ceil_pad", "max", (3, 2), (2, 2), (1, 1), True),
        "maxpool_dil": pool("maxpool_dil", "max", (2, 2), (1, 2), (1, 0), False, dil=(2, 2)),
        "avgpool_nocount": pool("avgpool_nocount", "avg", (3, 3), (2, 2), (1, 1), False, count_pad=False),
        "avgpool_ceil_count": pool("avgpool_ceil_count", "avg", (3, 3), (2, 2), (1, 1), True),
        "avgpool_ceil_nocount": pool("avgpool_ceil_nocount", "avg", (2, 3), (2, 2), (1, 1), True, count_pad=False),
    }
    for name, size in sizes.items():
        print("%-24s %6d bytes" % (name, size))
    print("total %d bytes" % sum(sizes.values()))


if __name__ == "__main__":
    main()
