#!/usr/bin/env bash
# Runs weight averaging of the ResNet-56 Conv-62 distillation run (docs/RESULTS.md 4d).
#
# Weight averaging (an extension) of the ResNet-56 Conv-62 distillation run
# r56-62-kd2 (experiments/cifar.sh): docs/RESULTS.md section 4d.
#
# Fixed before the run ended (2026-11-26, while epoch 3 of 24 trained):
#   - the headline model is the average of the last 6 epochs' snapshots
#     (epochs 19-24), batch-norm statistics re-estimated on all 50,000
#     training images with the training augmentation (sgcnn average's
#     defaults);
#   - the last 3 and the last 12 epochs are reported beside it, as a
#     sensitivity check, not as candidates to pick from;
#   - "bn-only" re-estimates the final model's statistics without
#     averaging, to separate the two effects.
#
# Snapshots: runs/cifar/r56-G-conv62-kd2-snapshots/epoch-NNN.safetensors,
# as train --snapshots writes them. (The run itself started before
# --snapshots existed: a watcher copied the run's file after each epoch,
# and the copies are renamed here in time order.)
#
#   bash experiments/r56_swa.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SGCNN_BIN:-bin/sgcnn}
[ -n "${SGCNN_BIN:-}" ] || go build -o "$bin" ./cmd/sgcnn
snaps=runs/cifar/r56-G-conv62-kd2-snapshots
final=runs/cifar/r56-G-conv62-kd2.safetensors
out=runs/cifar/swa
mkdir -p "$out"
if [ ! -d "$snaps" ] && [ -d runs/cifar/kd2-snapshots ]; then
	mkdir -p "$snaps.tmp"
	i=0
	for f in $(ls runs/cifar/kd2-snapshots/*.safetensors | sort); do
		i=$((i + 1))
		cp "$f" "$snaps.tmp/$(printf 'epoch-%03d.safetensors' $i)"
	done
	mv "$snaps.tmp" "$snaps"
fi
n=$(ls "$snaps"/epoch-*.safetensors | wc -l)
[ "$n" -eq 24 ] || { echo "want 24 snapshots in $snaps, found $n" >&2; exit 2; }
cmp -s "$snaps/epoch-024.safetensors" "$final" || { echo "$snaps/epoch-024 is not $final" >&2; exit 2; }
last() { # k: the last k snapshots
	for e in $(seq $((25 - $1)) 24); do printf '%s/epoch-%03d.safetensors ' "$snaps" "$e"; done
}
run() { # name, files...
	local name=$1; shift
	if [ ! -f "$out/$name.json" ]; then # written whole or not at all
		$bin average --json -o "$out/$name.safetensors" "$@" > "$out/$name.json.tmp"
		mv "$out/$name.json.tmp" "$out/$name.json"
	fi
	echo "$name: $(grep -o '"top1": [0-9.]*' "$out/$name.json")"
}
run bn-only "$final"
run last6 $(last 6)
run last3 $(last 3)
run last12 $(last 12)
