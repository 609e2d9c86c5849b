#!/usr/bin/env bash
# Runs LeNet-5 on MNIST with shift augmentation, scheme LG: the LeNet table's second round.
#
# LeNet-5 on MNIST with a 2-pixel random-shift augmentation (--shift 2), the
# second round of the paper's LeNet table (docs/RESULTS.md section 3): a
# stronger dense baseline (30 epochs, lr 0.02 cosine), then self-grouping LG
# to Conv-p/FC-p for each target p: rates 10, 20, ..., 90, 95, then 96..p one
# point at a time, one local epoch (lr 0.01) after each step, then $GLOBAL
# global epochs (lr 0.01 cosine). Batch 64, wd 5e-4, seed 1, one thread
# ($THREADS), so that it can share the machine with a CIFAR run.
#
#   bash experiments/lenet_mnist_aug.sh            (TARGETS="95 99 96 97 98 99L G95" GLOBAL=15 THREADS=1)
#
# Target 99L is LG at Conv-99 with a longer budget: an extra step at 98.5%
# and 2 x $GLOBAL global epochs. Target G95 is scheme G at Conv-95 with as
# many global epochs as LG's local and global epochs together (10 +
# $GLOBAL): G against LG at equal budget.
#
# DISTILL=1 adds --distill (knowledge distillation from the dense baseline
# during every fine-tuning epoch, our extension) and writes to <run>-kd;
# the runs without it are its controls (same seed and schedule).
#
# Each run is skipped when its report exists; interrupted ones resume.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SGCNN_BIN:-bin/sgcnn}
[ -n "${SGCNN_BIN:-}" ] || go build -o "$bin" ./cmd/sgcnn
glob=${GLOBAL:-15}
thr=${THREADS:-1}
dir=runs/lenet2
mkdir -p "$dir"
base=$dir/lenet5-mnist-shift2.safetensors
if [ -f "$base" ]; then
	$bin --threads "$thr" train --resume -o "$base"
else
	$bin --threads "$thr" train --model lenet5 --epochs 30 --batch 64 --lr 0.02 --schedule cosine --wd 5e-4 \
		--shift 2 --seed 1 -o "$base"
fi
for t in ${TARGETS:-95 99 96 97 98 99L G95}; do
	scheme=(--scheme LG --local-epochs 1 --local-lr 0.01 --global-epochs "$glob")
	p=$t suffix=
	r="10,20,30,40,50,60,70,80,90,95"
	case $t in
	G95)
		p=95
		scheme=(--scheme G --global-epochs $((10 + glob))) ;;
	99L)
		p=99 suffix=-long
		scheme=(--scheme LG --local-epochs 1 --local-lr 0.01 --global-epochs $((2 * glob))) ;;
	esac
	for q in 96 97 98 99; do [ "$q" -le "$p" ] && r="$r,$q"; done
	[ "$t" = 99L ] && r="${r%,99},98.5,99"
	kd=()
	if [ "${DISTILL:-0}" = 1 ]; then
		kd=(--distill) suffix=$suffix-kd
	fi
	out=$dir/${scheme[1]}-conv$p$suffix
	[ -f "$out/report.json" ] && continue
	if [ -f "$out/checkpoint.safetensors" ]; then
		$bin --threads "$thr" prune --out "$out" --resume
	else
		$bin --threads "$thr" prune --model lenet5 --weights "$base" --rate "$p" --rates "$r" --fc-cap "$p" \
			"${scheme[@]}" --global-lr 0.01 \
			--global-schedule cosine --wd 5e-4 --batch 64 --shift 2 --seed 1 "${kd[@]}" --out "$out"
	fi
done
