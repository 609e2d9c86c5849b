#!/usr/bin/env bash
# Runs LeNet-5 on MNIST, scheme LG, at Conv-99 and Conv-95.
#
# MNIST LeNet-5, scheme LG (1 local epoch after each step, then 8 global
# epochs) at Conv-99/FC-99 and Conv-95/FC-95, from the baseline that
# experiments/lenet_mnist.sh trains. Results: runs/lenet/LG-conv*/.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SGCNN_BIN:-bin/sgcnn}
[ -n "${SGCNN_BIN:-}" ] || go build -o "$bin" ./cmd/sgcnn
for p in ${TARGETS:-99 95}; do
	r="10,20,30,40,50,60,70,80,90,95"
	[ "$p" = 99 ] && r="$r,96,97,98,99"
	out=runs/lenet/LG-conv$p
	[ -f "$out/report.json" ] && continue
	$bin prune --model lenet5 --weights runs/lenet/lenet5-mnist.safetensors --rate "$p" --rates "$r" --fc-cap "$p" \
		--scheme LG --local-epochs 1 --local-lr 0.01 --global-epochs 8 --global-lr 0.01 --global-schedule cosine \
		--wd 5e-4 --batch 64 --seed 1 --out "$out"
done
