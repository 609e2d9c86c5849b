#!/usr/bin/env bash
# Runs the validation-split search behind sgcnn prune's LeNet-5 defaults (issue 21).
#
# The search behind sgcnn prune's no-flag defaults (issue 21): candidate
# schedules for LeNet-5 Conv-95/FC-95 on MNIST, compared on the validation
# split only (--val-split's default, 5,000 training images). The test set is
# cut to one image (--test-limit 1) so that no candidate's test accuracy
# exists; the chosen defaults are tested once, by the plain `sgcnn prune`.
#
#   bash experiments/lenet_default_search.sh P6s P8s      # dense warm-ups first
#   bash experiments/lenet_default_search.sh C5 C7 ...    # then candidates
#
# Each run: one thread, run folder runs/lenet-search/<name>, log <name>.err;
# the log of the 2026-12-06 search is docs/results/lenet-default-search.md.
set -euo pipefail
bin=${BIN:-bin/sgcnn}
dir=runs/lenet-search
mkdir -p "$dir"
pre="train --model lenet5 --batch 64 --schedule cosine --wd 5e-4 --shift 2 --seed 1"
pr="prune --wd 5e-4 --batch 128 --global-lr 0.01 --rate 95 --fc-cap 95 --measure=false --json"
lg5="--scheme LG --local-epochs 1 --local-images 5000 --local-lr 0.01"
lg10="--scheme LG --local-epochs 1 --local-images 10000 --local-lr 0.01"
coarse="--rates 10,20,30,40,50,60,70,80,90,95"
for name in "$@"; do
	case $name in
	P6s) args="$pre --epochs 6 --lr 0.02 -o $dir/P6s.safetensors --json" ;;
	P8s) args="$pre --epochs 8 --lr 0.02 -o $dir/P8s.safetensors --json" ;;
	C2b) args="$pr --shift 2 --step 5 --weights $dir/P8s.safetensors $lg5 --global-epochs 6 --global-schedule cosine" ;;
	C5) args="$pr --shift 2 --step 5 --weights $dir/P6s.safetensors --scheme G --global-epochs 10 --global-schedule cosine" ;;
	C6) args="$pr --shift 0 --step 5 --weights $dir/P6s.safetensors --scheme G --global-epochs 10 --global-schedule cosine" ;;
	C7) args="$pr --shift 2 --step 5 --weights $dir/P6s.safetensors --scheme G --global-epochs 8 --global-schedule cosine --distill" ;;
	C8) args="$pr --shift 2 $coarse --weights $dir/P6s.safetensors --scheme LG --local-epochs 1 --local-images 10000 --local-lr 0.01 --global-epochs 6 --global-schedule cosine --distill" ;;
	C9) args="$pr --shift 2 --step 5 --weights $dir/P6s.safetensors --scheme G --global-epochs 10 --global-schedule cosine --distill" ;;
	C10) args="$pr --shift 2 $coarse --weights $dir/P6s.safetensors $lg10 --global-epochs 8 --global-schedule cosine --distill" ;;
	C11) args="$pr --shift 2 $coarse --weights $dir/P6s.safetensors $lg10 --global-epochs 6 --global-schedule cosine --distill --batch 64" ;;
	C12) args="$pr --shift 2 $coarse --weights $dir/P6s.safetensors $lg10 --global-epochs 6 --global-schedule cosine --distill --batch 64 --global-lr 0.02" ;;
	C13) args="$pr --shift 2 $coarse --weights $dir/P6s.safetensors $lg10 --local-images 20000 --global-epochs 6 --global-schedule cosine --distill --batch 64" ;;
	*) echo "unknown candidate $name" >&2; exit 2 ;;
	esac
	case $name in P*) ;; *) args="$args --out $dir/$name" ;; esac
	# shellcheck disable=SC2086
	$bin --threads 1 $args --test-limit 1 >"$dir/$name.out" 2>"$dir/$name.err"
	grep -a "val top-1" "$dir/$name.err" | tail -1 | tr '\r' '\n' | tail -1
done
