#!/usr/bin/env bash
# Image folders under the torch trainer (issue 23): a small ImageNet-format
# folder made from CIFAR-10 images upscaled to 64 px (train: 4 JPEGs per
# class, val: 10 PNGs per class), ResNet-50 (10 outputs, from scratch)
# trained for one epoch of 5 steps of 8 images with --trainer torch --nproc 2
# (gloo, CPU; RandomResizedCrop 224 and flip in torchvision), evaluated on
# val/ by sgcnn train after the epoch and by sgcnn eval (Go: Resize 256,
# CenterCrop 224), and by PyTorch on an export of the same weights. Writes
# docs/results/imagefolder-torch.md.
#   bash experiments/imagefolder_torch.sh      # needs ../shared/data/cifar10
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SGCNN:-bin/sgcnn-ddp}
go build -o "$bin" ./cmd/sgcnn
out=runs/imagefolder-torch
rm -rf "$out"
mkdir -p "$out" docs/results
py=/usr/bin/python3
$py experiments/make_imagefolder.py --cifar ../shared/data/cifar10 --out "$out/folder" --size 64 \
	--train-per-class 4 --val-per-class 10
t0=$(date +%s)
"$bin" train --model resnet50 --classes 10 --dataset imagefolder --data "$out/folder" --trainer torch --nproc 2 \
	--epochs 1 --batch 8 --lr 0.01 --schedule constant --seed 1 --out "$out/resnet50.safetensors" --json \
	>"$out/train.json" 2>"$out/train.log"
t1=$(date +%s)
"$bin" eval --weights "$out/resnet50.safetensors" --data "$out/folder" --batch 20 --json >"$out/eval-go.json"
t2=$(date +%s)
"$bin" export --format torch --weights "$out/resnet50.safetensors" -o "$out/resnet50.pt" 2>/dev/null
$py experiments/imagefolder_eval_torch.py resnet50 "$out/resnet50.pt" "$out/folder/val" >"$out/eval-torch.json"
field() { $py -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
md=docs/results/imagefolder-torch.md
{
	echo "# An image folder through the torch trainer and back to Go"
	echo
	echo "\`bash experiments/imagefolder_torch.sh\`, $(date -u '+%F %H:%M') UTC, $(lscpu | sed -n 's/^Model name: *//p'),"
	echo "2 cores shared with a training run and other jobs: **wall times were taken under load**."
	echo
	echo "Folder: CIFAR-10 images upscaled 32 -> 64 px, 10 classes; train/ 4 JPEGs per class, val/ 10 PNGs per class."
	echo "ResNet-50 with 10 outputs from random weights, one epoch of 40 images, global batch 8 over 2 gloo"
	echo "processes (5 steps), lr 0.01, RandomResizedCrop 224 and flip (torchvision), then Resize 256 / CenterCrop 224."
	echo "A few steps from scratch cannot learn 10 classes: the accuracies are about chance (batch-norm statistics"
	echo "from 5 tiny batches make the logits large), and the point is that the evaluations of the same weights"
	echo "on the same folder agree: the mean loss, which moves with every logit, is the sharper check."
	echo
	echo "| what | result |"
	echo "|---|---|"
	echo "| torch training (rank 0's line) | $(grep -o 'torch: epoch 1/1 lr.*' "$out/train.log" | tail -1 | sed 's/^torch: //') |"
	echo "| sgcnn train, val/ after the epoch (Go) | top-1 $(field "$out/train.json" "d['history'][-1]['test_top1']")% |"
	echo "| sgcnn eval on val/ (Go) | top-1 $(field "$out/eval-go.json" "d['top1']")%, top-5 $(field "$out/eval-go.json" "d['top5']")%, loss $(field "$out/eval-go.json" "'%.4f' % d['loss']") over $(field "$out/eval-go.json" "d['images']") images, $((t2 - t1)) s |"
	echo "| PyTorch on the export, val/ (torchvision transforms) | top-1 $(field "$out/eval-torch.json" "d['top1']")%, top-5 $(field "$out/eval-torch.json" "d['top5']")%, loss $(field "$out/eval-torch.json" "'%.4f' % d['loss']") over $(field "$out/eval-torch.json" "d['images']") images |"
	echo "| sgcnn train wall time (torchrun start, 5 steps, Go evaluation) | $((t1 - t0)) s |"
	echo
	echo "Go and PyTorch resize differently (PIL's antialiased bilinear against sgcnn's box-then-bilinear), so"
	echo "their crops differ by a few levels (torchtrain: TestFolderEvalMatchesTorchvision measures it) and a"
	echo "model this far from trained may flip a prediction or two between them."
} >"$md"
cat "$md"
