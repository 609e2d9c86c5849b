#!/bin/sh
# bf16 against fp32 after 3 fine-tuning epochs (issue 22, stretch item 4;
# docs/BF16.md): ResNet-20 from the pretrained CIFAR-10 weights, the
# first 10,000 training images (1,000 held out for validation by the
# CLI's default), lr 0.02 cosine, seeds 1 and 2, each precision; the test
# set is evaluated once, at the end of each run. Prints one line per run
# and keeps the models and logs in $OUT (default runs/bf16-accuracy).
# bf16 runs where nn.BF16Route says (AMX, VDPBF16PS or emulated): the
# first line of each bf16 log names it.
#
# Usage: bash experiments/bf16_accuracy.sh   (a few minutes per run on 2 cores)
set -eu
cd "$(dirname "$0")/.."
out=${OUT:-runs/bf16-accuracy}
mkdir -p "$out"
bin=$(mktemp -d)/sgcnn
go build -o "$bin" ./cmd/sgcnn
for s in 1 2; do
	for p in fp32 bf16; do
		name=r20-$p-s$s
		"$bin" --threads 2 train --model resnet20 --weights ../shared/models/cifar10/resnet20-12fca82f.th \
			--epochs 3 --lr 0.02 --schedule cosine --train-limit 10000 --seed "$s" --precision "$p" \
			--out "$out/$name.safetensors" --force >"$out/$name.log" 2>&1
		echo "$name: $(grep -m1 'test top-1' "$out/$name.log")"
	done
done
