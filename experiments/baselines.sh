#!/usr/bin/env bash
# Runs the comparison methods (self-grouping, taylor, regular, random, l1filter) at equal FLOPs.
#
# Comparison methods (issue 7): self-grouping, taylor, regular, random and
# l1filter (sgcnn prune --method, package prune) at the same per-layer
# rates, hence the same FLOPs reductions (about 2x and 3x), with the same
# schedule and fine-tuning, on
#   lenet: LeNet-5 / MNIST, Conv-55 and Conv-75 (FC at the same rate):
#          1.93x and 2.91x fewer FLOPs (conv1, the stem, is never pruned);
#   r20:   ResNet-20 / CIFAR-10, Conv-50 and Conv-67: about 2x and 3x;
#   r56:   ResNet-56 / CIFAR-10, Conv-50 and Conv-67: about 2x and 3x.
# Every run is scheme G (global fine-tuning only, cosine from lr 0.01), so
# all methods get the same fine-tuning epochs. A fine-tuning "epoch" passes
# over the first LIMIT training images (--train-limit; 0 = all); every
# accuracy is on the full test set. The CIFAR ResNets start from the
# pretrained weights sgcnn prune finds in ../shared/models/cifar10.
#
# Each part then gathers its runs' report.json files into
# docs/results/baselines-<part>.md (table with the command, date, machine
# and thread count) and .png (accuracy against FLOPs, one line per method,
# seeds averaged). Finished runs are skipped, interrupted ones resume.
#
#   bash experiments/baselines.sh [part...]       (parts: lenet r20 r56)
#
# Settings (environment): SEEDS (default "1 2"), METHODS (all five),
# THREADS (GOMAXPROCS, default nproc), LENET_LIMIT (default 0),
# LENET_EPOCHS (default 8), CIFAR_LIMIT (default 10000), CIFAR_EPOCHS
# (default 8), CIFAR_TEST_LIMIT (test images, default 0 = all 10,000),
# SGCNN_BIN (a prebuilt binary, e.g. while the tree is being edited). The committed LeNet validation run used
#   SEEDS=1 LENET_LIMIT=10000 LENET_EPOCHS=2 bash experiments/baselines.sh lenet
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SGCNN_BIN:-bin/sgcnn}
[ -n "${SGCNN_BIN:-}" ] || go build -o "$bin" ./cmd/sgcnn
SEEDS=${SEEDS:-1 2}
METHODS=${METHODS:-self-grouping taylor regular random l1filter}
THREADS=${THREADS:-$(nproc)}
export GOMAXPROCS=$THREADS
LENET_LIMIT=${LENET_LIMIT:-0}
LENET_EPOCHS=${LENET_EPOCHS:-8}
CIFAR_LIMIT=${CIFAR_LIMIT:-10000}
CIFAR_EPOCHS=${CIFAR_EPOCHS:-8}
CIFAR_TEST_LIMIT=${CIFAR_TEST_LIMIT:-0}
parts=${*:-lenet r20 r56}
root=runs/baselines
mkdir -p "$root" docs/results

prune() { # out, args...
	local out=$1; shift
	[ -f "$out/report.json" ] && return 0
	if [ -f "$out/checkpoint.safetensors" ]; then
		$bin prune --out "$out" --resume "$@"
	else
		$bin prune --out "$out" "$@"
	fi
}

# table part title limit epochs: gathers $root/part/*/report.json.
table() {
	local part=$1 title=$2 limit=$3 epochs=$4
	local cpu
	cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' || true)
	local note="Command: \`SEEDS=\"$SEEDS\" ${part^^}_LIMIT=$limit ${part^^}_EPOCHS=$epochs THREADS=$THREADS bash experiments/baselines.sh $part\`"
	local test="the full test set"
	if [ "$part" = r20 ] || [ "$part" = r56 ]; then
		note="Command: \`SEEDS=\"$SEEDS\" CIFAR_LIMIT=$limit CIFAR_EPOCHS=$epochs CIFAR_TEST_LIMIT=$CIFAR_TEST_LIMIT THREADS=$THREADS bash experiments/baselines.sh $part\`"
		[ "$CIFAR_TEST_LIMIT" = 0 ] || test="the first $CIFAR_TEST_LIMIT test images"
	fi
	note="$note. Date: $(date -u +%Y-%m-%d). Machine: $(uname -sm), ${cpu:-unknown CPU}, $(nproc) cores, GOMAXPROCS=$THREADS. Scheme G, $epochs global fine-tuning epochs over the first $limit training images (0 = all), cosine from lr 0.01; test accuracy on $test."
	go run ./experiments/baselines -o "docs/results/baselines-$part" -title "$title" -note "$note" "$root/$part"/*/report.json
}

lenet() {
	local base=$root/lenet5-mnist.safetensors
	if [ ! -f "$base" ]; then
		if [ -f runs/lenet/lenet5-mnist.safetensors ] && $bin eval --weights runs/lenet/lenet5-mnist.safetensors >/dev/null; then
			cp runs/lenet/lenet5-mnist.safetensors "$base" # experiments/lenet_mnist.sh's baseline
		else
			$bin train --model lenet5 --epochs 15 --batch 64 --lr 0.01 --schedule cosine --wd 5e-4 --seed 1 -o "$base"
		fi
	fi
	for p in 55 75; do
		local rates=20,40,55
		[ $p = 75 ] && rates=25,50,75
		for s in $SEEDS; do
			for m in $METHODS; do
				prune "$root/lenet/$m-conv$p-s$s" --model lenet5 --weights "$base" --method "$m" --rate $p --rates $rates \
					--fc-cap $p --scheme G --global-epochs "$LENET_EPOCHS" --global-lr 0.01 --global-schedule cosine \
					--wd 5e-4 --batch 64 --seed "$s" --train-limit "$LENET_LIMIT"
			done
		done
	done
	table lenet "LeNet-5 on MNIST: pruning methods at equal FLOPs" "$LENET_LIMIT" "$LENET_EPOCHS"
}

cifar() { # part model
	local part=$1 model=$2
	for p in 50 67; do
		local rates=10,20,30,40,50
		[ $p = 67 ] && rates=10,20,30,40,50,60,67
		for s in $SEEDS; do
			for m in $METHODS; do
				prune "$root/$part/$m-conv$p-s$s" --model "$model" --method "$m" --rate $p --rates $rates \
					--scheme G --global-epochs "$CIFAR_EPOCHS" --global-lr 0.01 --global-schedule cosine \
					--seed "$s" --train-limit "$CIFAR_LIMIT" --test-limit "$CIFAR_TEST_LIMIT"
			done
		done
	done
	table "$part" "$model on CIFAR-10: pruning methods at equal FLOPs" "$CIFAR_LIMIT" "$CIFAR_EPOCHS"
}

for part in $parts; do
	case $part in
	lenet) lenet ;;
	r20) cifar r20 resnet20 ;;
	r56) cifar r56 resnet56 ;;
	*) echo "unknown part $part (want lenet, r20 or r56)" >&2; exit 2 ;;
	esac
done
