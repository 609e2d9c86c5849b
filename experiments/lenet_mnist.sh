#!/usr/bin/env bash
# Runs LeNet-5 on MNIST at Conv-95..99, the paper's LeNet table.
#
# MNIST LeNet-5: Conv-95/96/97/98/99 with FC at the same rates, as the
# paper's table (METHOD.md section 5). Trains the baseline once, then one
# pruning run per target from it. Results: runs/lenet/*/report.{md,json}.
#
#   [TARGETS="95 96"] bash experiments/lenet_mnist.sh [pretrain_epochs] [global_epochs]
set -euo pipefail
cd "$(dirname "$0")/.."
pre=${1:-15}
glob=${2:-8}
# SGCNN_BIN: a prebuilt binary (e.g. while the tree is being edited).
bin=${SGCNN_BIN:-bin/sgcnn}
[ -n "${SGCNN_BIN:-}" ] || go build -o "$bin" ./cmd/sgcnn
mkdir -p runs/lenet
base=runs/lenet/lenet5-mnist.safetensors
if [ ! -f "$base" ]; then
	$bin train --model lenet5 --epochs "$pre" --batch 64 --lr 0.01 --schedule cosine --wd 5e-4 --seed 1 -o "$base"
elif ! $bin eval --weights "$base" >/dev/null; then
	$bin train --resume -o "$base"
fi
rates="10,20,30,40,50,60,70,80,90,95"
for p in ${TARGETS:-95 96 97 98 99}; do
	r=$rates
	for q in 96 97 98 99; do [ "$q" -le "$p" ] && r="$r,$q"; done
	out=runs/lenet/conv$p
	if [ -f "$out/report.json" ]; then continue; fi
	args=(--model lenet5 --weights "$base" --rate "$p" --rates "$r" --fc-cap "$p" --scheme G
		--global-epochs "$glob" --global-lr 0.01 --global-schedule cosine --wd 5e-4 --batch 64 --seed 1 --out "$out")
	if [ -f "$out/checkpoint.safetensors" ]; then
		$bin prune --out "$out" --resume
	else
		$bin prune "${args[@]}"
	fi
done
