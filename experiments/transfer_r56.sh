#!/usr/bin/env bash
# Issue 8: do locally fine-tuned (L) self-grouped models transfer best?
# Sources: the pretrained ResNet-56 (dense) and its Conv-70 self-grouped
# versions from experiments/cifar.sh (stages r56-L, r56-G, r56-LG; run
# those first). Target: Fashion-MNIST (28x28 grey, zero-padded to 32x32,
# grey copied to 3 channels), a new dense 10-way head, masks kept fixed.
# Budget (far below the paper's 21 epochs on all 60k images): EPOCHS
# epochs over the first LIMIT training images, lr 0.01 divided by 10 from
# the last epoch, tested on the first TEST test images; seeds SEEDS.
#
#   bash experiments/transfer_r56.sh
#
# Results: runs/transfer/r56-<source>-fmnist-s<seed>.json, gathered into
# docs/results/transfer-r56.md. Finished runs are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SGCNN_BIN:-bin/sgcnn}
[ -n "${SGCNN_BIN:-}" ] || go build -o "$bin" ./cmd/sgcnn
LIMIT=${LIMIT:-5000}
TEST=${TEST:-2000}
EPOCHS=${EPOCHS:-4}
SEEDS=${SEEDS:-1 2}
out=runs/transfer
mkdir -p "$out"
dense=$out/resnet56.safetensors
[ -f "$dense" ] || $bin import ../shared/models/cifar10/resnet56-4bfd9763.th --model resnet56 -o "$dense"
for s in $SEEDS; do
	for src in dense L G LG; do
		m=$dense
		[ $src = dense ] || m=runs/cifar/r56-$src-conv70/checkpoint.safetensors
		[ -f "$m" ] || { echo "missing source $m (run experiments/cifar.sh r56-$src)" >&2; exit 1; }
		j=$out/r56-$src-fmnist-s$s.json
		[ -f "$j" ] && continue
		$bin transfer "$m" --dataset fashion-mnist --train-limit "$LIMIT" --test-limit "$TEST" --epochs "$EPOCHS" \
			--lr 0.01 --milestones $((EPOCHS - 1)) --seed "$s" --json -o "$out/r56-$src-fmnist-s$s.safetensors" > "$j.tmp"
		mv "$j.tmp" "$j"
	done
done
