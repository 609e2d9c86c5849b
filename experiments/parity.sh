#!/usr/bin/env bash
# Parity with PyTorch at equal budget (issue 21, deliverable 5): sgcnn's Go trainer against an independent PyTorch loop (experiments/parity_torch.py) from the same pruned start, 3 seeds each.
#
# Per seed s, one pruned start is made and exported (sgcnn export --format torch):
#   lenet5  Conv-95/FC-95, scheme LG, rates 10..90,95, 1 local epoch of 10,000 images
#           at lr 0.01 after each step, from the dense LeNet-5 ($LENET_DENSE)
#   resnet56 Conv-70, scheme G, one step, from the shipped pretrained weights
# (--global-epochs 0: k-means is seeded with s, so each seed has its own masks,
# the same for both engines). Both engines then run the global phase from that
# file: 3 epochs, SGD momentum 0.9, lr 0.01 cosine; LeNet-5 batch 64, wd 5e-4,
# $LENET_EPOCH-image epochs, no shift; ResNet-56 batch 128, wd 1e-4, $R56_EPOCH-image
# epochs (a fresh random subset each epoch), crop+flip. Nothing is chosen in
# either engine. LeNet-5: --val-split 0 in both, every epoch evaluated on the
# test set. ResNet-56: --val-split 500 in both, the same 500 training images
# (experiments/holdout) held out of training and evaluated after each epoch,
# the test set once, at the end (cheaper than three full test evaluations).
#   bash experiments/parity.sh starts          # pruned starts and their exports
#   bash experiments/parity.sh go epoch|iter   # sgcnn train, cosine stepped per epoch or per iteration
#   bash experiments/parity.sh torch iter|epoch [extra parity_torch.py flags, tag via TAG=]
#   bash experiments/parity.sh logs             # every run's log, progress lines dropped, to docs/results/logs/
#   python3 experiments/parity_table.py        # the tables of docs/results/parity.md
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-1 2 3}
MODELS=${MODELS:-lenet5 r56} # the go and torch stages run these
R56_EPOCH=${R56_EPOCH:-2000}
LENET_EPOCH=${LENET_EPOCH:-10000}
LENET_DENSE=${LENET_DENSE:-runs/parity/lenet5-dense.safetensors}
PY=${PY:-/usr/bin/python3}
THREADS=${THREADS:-2}
out=runs/parity
bin=${SGCNN_BIN:-bin/sgcnn-parity}
mkdir -p "$out"
[ -x "$bin" ] || go build -o "$bin" ./cmd/sgcnn # --lr-step needs a binary from this commit on
stage=${1:?stage: starts, go or torch}
shift

starts() {
	if [ ! -f "$LENET_DENSE" ]; then # the no-flag prune's pretraining, without the validation split
		nice -n 10 $bin train --model lenet5 --epochs 6 --lr 0.02 --schedule cosine --batch 64 --wd 5e-4 --shift 2 \
			--val-split 0 --seed 1 --threads "$THREADS" --out "$LENET_DENSE" >"$out/lenet5-dense.log" 2>&1
	fi
	for s in $SEEDS; do
		d=$out/lenet5-start-s$s
		[ -f "$d.pth" ] || {
			nice -n 10 $bin prune --model lenet5 --weights "$LENET_DENSE" --rate 95 --rates 10,20,30,40,50,60,70,80,90,95 \
				--fc-cap 95 --scheme LG --local-epochs 1 --local-images 10000 --local-lr 0.01 --global-epochs 0 \
				--wd 5e-4 --batch 64 --shift 0 --distill=false --val-split 0 --seed "$s" --measure=false \
				--threads "$THREADS" --force --out "$d" >"$d.log" 2>&1
			cp "$d/checkpoint.safetensors" "$d.safetensors"
			$bin export --weights "$d.safetensors" --format torch -o "$d.pth"
		}
		d=$out/r56-start-s$s
		[ -f "$d.pth" ] || {
			nice -n 10 $bin prune --model resnet56 --rate 70 --step 70 --scheme G --global-epochs 0 --val-split 0 \
				--seed "$s" --measure=false --threads "$THREADS" --force --out "$d" >"$d.log" 2>&1
			cp "$d/checkpoint.safetensors" "$d.safetensors"
			$bin export --weights "$d.safetensors" --format torch -o "$d.pth"
		}
	done
}

waitfor() { # a start file that a concurrent "starts" stage is still making
	until [ -f "$1" ]; do sleep 15; done
}

gorun() { # $1: epoch or iter
	local step=$1 extra=()
	[ "$step" = iter ] && extra=(--lr-step iter)
	for s in $SEEDS; do
		[[ " $MODELS " == *" lenet5 "* ]] || break
		r=$out/lenet5-go-$step-s$s
		waitfor "$out/lenet5-start-s$s.pth"
		[ -f "$r.json" ] || nice -n 10 $bin train --model lenet5 --weights "$out/lenet5-start-s$s.safetensors" --epochs 3 \
			--lr 0.01 --schedule cosine --batch 64 --wd 5e-4 --epoch-size "$LENET_EPOCH" --val-split 0 --seed "$s" --threads "$THREADS" \
			"${extra[@]}" --json --force --out "$r.safetensors" >"$r.json.tmp" 2>"$r.log" && mv "$r.json.tmp" "$r.json"
	done
	for s in $SEEDS; do
		[[ " $MODELS " == *" r56 "* ]] || break
		r=$out/r56-go-$step-s$s
		waitfor "$out/r56-start-s$s.pth"
		[ -f "$r.json" ] || nice -n 10 $bin train --model resnet56 --weights "$out/r56-start-s$s.safetensors" --epochs 3 \
			--lr 0.01 --schedule cosine --batch 128 --wd 1e-4 --epoch-size "$R56_EPOCH" --val-split 500 --seed "$s" \
			--threads "$THREADS" "${extra[@]}" --json --force --out "$r.safetensors" >"$r.json.tmp" 2>"$r.log" &&
			mv "$r.json.tmp" "$r.json"
	done
}

torchrun_() { # $1: iter or epoch; the rest: extra flags; $TAG names the variant
	local step=$1
	shift
	local tag=${TAG:-$step}
	[ -f "$out/val500-cifar10.json" ] || go run ./experiments/holdout -n 500 -of 50000 >"$out/val500-cifar10.json"
	for s in $SEEDS; do
		[[ " $MODELS " == *" lenet5 "* ]] || break
		r=$out/lenet5-torch-$tag-s$s
		waitfor "$out/lenet5-start-s$s.pth"
		[ -f "$r.json" ] || nice -n 10 "$PY" experiments/parity_torch.py "$out/lenet5-start-s$s.pth" --data mnist \
			--epochs 3 --lr 0.01 --batch 64 --wd 5e-4 --epoch-size "$LENET_EPOCH" --lr-step "$step" --seed "$s" --threads "$THREADS" \
			--json "$r.json" "$@" >"$r.log" 2>&1
	done
	for s in $SEEDS; do
		[[ " $MODELS " == *" r56 "* ]] || break
		r=$out/r56-torch-$tag-s$s
		waitfor "$out/r56-start-s$s.pth"
		[ -f "$r.json" ] || nice -n 10 "$PY" experiments/parity_torch.py "$out/r56-start-s$s.pth" --data cifar10 \
			--epochs 3 --lr 0.01 --batch 128 --wd 1e-4 --epoch-size "$R56_EPOCH" --lr-step "$step" --seed "$s" \
			--holdout "$out/val500-cifar10.json" --threads "$THREADS" --json "$r.json" "$@" >"$r.log" 2>&1
	done
}

logs() {
	local f=docs/results/logs/parity-$(date -u +%Y%m%d).log
	local -A seen=()
	for r in "$out"/lenet5-start-s*.log "$out"/r56-start-s*.log "$out"/lenet5-*-s?.log "$out"/r56-*-s?.log; do
		case $r in */lenet5-start-s* | */r56-start-s*) [ -z "${seen[$r]:-}" ] || continue ;;
		*) [ -f "${r%.log}.json" ] || continue ;; esac # finished runs only
		seen[$r]=1
		echo "===== $(basename "$r")"
		tr '\r' '\n' <"$r" | grep -av 'ETA\|^wrote \|^$' | sed '/^## Layers/,$d'
	done >"$f"
	echo "$f"
}

case $stage in
starts) starts ;;
logs) logs ;;
go) gorun "${1:?go: epoch or iter}" ;;
torch) torchrun_ "$@" ;;
*) echo "unknown stage $stage: want starts, go, torch or logs" >&2 && exit 2 ;;
esac
