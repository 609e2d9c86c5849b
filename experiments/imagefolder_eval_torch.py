#!/usr/bin/env python3
"""Evaluates an sgcnn ResNet-50/DenseNet-201 export in PyTorch on an image folder (issue 23).

    /usr/bin/python3 experiments/imagefolder_eval_torch.py ARCH MODEL.pt FOLDER [--size 224]

MODEL.pt is `sgcnn export --format torch`'s state_dict (torchvision's
parameter names, pruned weights zero, <layer>.weight_mask buffers, which
are dropped here); FOLDER holds one sub-folder of images per class. The
transform is torchvision's Resize(size*8/7), CenterCrop(size), ImageNet
normalisation: the one sgcnn eval applies in Go. Prints JSON: top-1,
top-5, the mean cross-entropy loss and the image count.
"""
import argparse
import json

import torch
import torchvision
import torchvision.transforms as T


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("arch")
    ap.add_argument("model")
    ap.add_argument("folder")
    ap.add_argument("--size", type=int, default=224)
    a = ap.parse_args()
    sd = {k: v for k, v in torch.load(a.model, map_location="cpu").items() if not k.endswith(".weight_mask")}
    classes = sd["fc.weight" if a.arch == "resnet50" else "classifier.weight"].shape[0]
    model = getattr(torchvision.models, a.arch)(num_classes=classes)
    model.load_state_dict(sd)
    model.eval()
    tf = T.Compose([T.Resize(a.size * 8 // 7), T.CenterCrop(a.size), T.ToTensor(),
                    T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    ds = torchvision.datasets.ImageFolder(a.folder, tf)
    top1 = top5 = loss = 0.0
    with torch.no_grad():
        for x, y in torch.utils.data.DataLoader(ds, batch_size=20):
            out = model(x)
            top1 += (out.argmax(1) == y).sum().item()
            top5 += (out.topk(5, 1).indices == y[:, None]).any(1).sum().item()
            loss += torch.nn.functional.cross_entropy(out, y, reduction="sum").item()
    n = len(ds)
    print(json.dumps({"top1": 100 * top1 / n, "top5": 100 * top5 / n, "loss": loss / n, "images": n}))


if __name__ == "__main__":
    main()
