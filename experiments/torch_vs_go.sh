#!/usr/bin/env bash
# Runs the Go and torch trainers at equal settings on ResNet-20 Conv-50 (issue 23).
#
# The Go and torch trainers at equal settings (issue 23): ResNet-20 from the
# pretrained weights, self-grouping G at Conv-50 in one step, then 3 global
# epochs of 10,000 fresh training images each (lr 0.01 cosine), 2 seeds per
# trainer; the torch trainer runs 2 gloo processes of 1 thread, the Go one
# 2 threads. Writes docs/results/torch-vs-go.md (accuracy and wall time).
#   bash experiments/torch_vs_go.sh            # needs ../shared/data/cifar10
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/sgcnn ./cmd/sgcnn
out=runs/torch-vs-go
mkdir -p "$out" docs/results
md=docs/results/torch-vs-go.md
{
	echo "# Go and torch trainers at equal settings"
	echo
	echo "\`bash experiments/torch_vs_go.sh\`, $(date -u +%F), $(lscpu | sed -n 's/^Model name: *//p'), 2 cores."
	echo "ResNet-20 (pretrained), G at Conv-50 in one step, 3 global epochs of 10,000 images, lr 0.01 cosine."
	echo
	echo "| trainer | seed | test top-1 | wall time |"
	echo "|---|---|---|---|"
} >"$md.tmp"
for trainer in go torch; do
	for seed in 1 2; do
		dir=$out/$trainer-$seed
		extra=()
		[ "$trainer" = torch ] && extra=(--trainer torch --nproc 2)
		start=$(date +%s)
		[ -f "$dir/report.json" ] || bin/sgcnn prune --model resnet20 --rate 50 --step 50 --scheme G \
			--global-epochs 3 --global-lr 0.01 --global-schedule cosine --epoch-size 10000 --seed "$seed" \
			--measure=false --out "$dir" "${extra[@]}" >"$dir.log" 2>&1
		took=$(($(date +%s) - start))
		acc=$(python3 -c "import json,sys; print(json.load(open('$dir/report.json'))['final']['acc_tuned'])")
		echo "| $trainer | $seed | $acc | ${took}s |" >>"$md.tmp"
	done
done
mv "$md.tmp" "$md"
cat "$md"
