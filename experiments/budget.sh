#!/usr/bin/env bash
# Runs uniform self-grouping against latency-budgeted rates at equal measured latency (issue 24).
#
# Issue 24: does a budget pay? Uniform self-grouping against per-layer rates
# chosen for a measured-latency budget (sgcnn prune --budget), at equal
# measured latency, with the same fine-tuning and 2 seeds.
#
#  1. sens: the sensitivity table of $MODEL (sgcnn sensitivity, defaults:
#     rates 30..90, 500 images of the validation split).
#  2. budget: for each latency budget B in $BUDGETS and seed in $SEEDS,
#     sgcnn prune --budget latency=B (batch 64, 2 threads), scheme G,
#     $EPOCHS global epochs of $LIMIT images, cosine from 0.01. The first run
#     measures the cost table; the others copy it (it is cached per CPU
#     model, threads and batch; a copy from another CPU is re-measured).
#  3. uniform: for each budget, the uniform rate whose measured latency in
#     the cost table (every layer pruned one-shot at 30..90, interpolated)
#     equals the budgeted run's measured latency (seed 1), same fine-tuning.
#  4. cmp: experiments/budgetcmp times every final model against its dense
#     network (batch 64, 2 threads, best of 10) and writes
#     $RESULTS/budget-$MODEL.md and .png (top-1 against measured latency).
# Run it on an idle machine: the latency figures are only as good as the
# machine is quiet (check `uptime`). Each step is skipped when its result
# exists.
#
#   MODEL=resnet20 EPOCHS=5 bash experiments/budget.sh [stage...]   (stages: sens budget uniform cmp)
#
# Environment: MODEL, BUDGETS ("0.4 0.3"), SEEDS ("1 2"), EPOCHS (5), LIMIT
# (images per epoch, 10000), EXTRA (more prune flags, e.g. "--test-limit 500"
# for a dry run), OUT (runs/budget/$MODEL), RESULTS (docs/results).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SGCNN_BIN:-bin/sgcnn}
[ -n "${SGCNN_BIN:-}" ] || go build -o "$bin" ./cmd/sgcnn
MODEL=${MODEL:-resnet20}
BUDGETS=${BUDGETS:-0.4 0.3}
SEEDS=${SEEDS:-1 2}
EPOCHS=${EPOCHS:-5}
LIMIT=${LIMIT:-10000}
stages=${*:-sens budget uniform cmp}
dir=${OUT:-runs/budget/$MODEL}
results=${RESULTS:-docs/results}
mkdir -p "$dir" "$results"
# shellcheck disable=SC2206
extra=(${EXTRA:-})
common=(--threads 2 --model "$MODEL" --scheme G --global-epochs "$EPOCHS" --global-schedule cosine --global-lr 0.01
	--epoch-size "$LIMIT" --measure=false "${extra[@]}")

has() { [[ " $stages " == *" $1 "* ]]; }

if has sens && [ ! -f "$dir/sens/sensitivity.json" ]; then
	"$bin" --threads 2 sensitivity --model "$MODEL" --out "$dir/sens" 2>&1 | tee "$dir/sens.log"
fi

if has budget; then
	for b in $BUDGETS; do
		for s in $SEEDS; do
			out=$dir/budget-$b-s$s
			[ -f "$out/budget.json" ] && continue
			mkdir -p "$out"
			first=$(ls "$dir"/budget-*/costs.json 2>/dev/null | head -1 || true)
			[ -n "$first" ] && [ ! -f "$out/costs.json" ] && cp "$first" "$out/costs.json"
			resume=()
			[ -f "$out/checkpoint.safetensors" ] && resume=(--resume)
			"$bin" prune "${common[@]}" --budget "latency=$b" --budget-batch 64 --sensitivity "$dir/sens/sensitivity.json" \
				--seed "$s" --out "$out" "${resume[@]}" 2>&1 | tee -a "$out.log"
		done
	done
fi

# uniform_rate COSTS LATENCY: the uniform rate (percent, one decimal) at
# which the cost table's measured network time is LATENCY of dense.
uniform_rate() {
	python3 - "$1" "$2" <<'PY'
import json, sys
t = json.load(open(sys.argv[1])); want = float(sys.argv[2])
rates, tot = t["rates"], t["total_ns"]
fr = [x / tot[0] for x in tot]
for k in range(1, len(rates)):
    if fr[k] <= want:
        a, b = fr[k - 1], fr[k]
        p = rates[k - 1] + (rates[k] - rates[k - 1]) * (a - want) / max(a - b, 1e-12)
        print(round(p, 1)); break
else:
    print(rates[-1])
PY
}

if has uniform; then
	for b in $BUDGETS; do
		ref=$dir/budget-$b-s1
		lat=$(python3 -c "import json; print(json.load(open('$ref/budget.json'))['latency'])")
		p=$(uniform_rate "$ref/costs.json" "$lat")
		# Steps of 10 up to the rate, ending at it.
		rates=$(python3 -c "p=$p; r=[x for x in range(10, 100, 10) if x < p]; print(','.join(str(x) for x in r + [p]))")
		for s in $SEEDS; do
			out=$dir/uniform-$b-s$s
			[ -f "$out/report.json" ] && continue
			resume=()
			[ -f "$out/checkpoint.safetensors" ] && resume=(--resume)
			echo "budget $b: measured latency $lat of dense; uniform rate $p% (rates $rates)" | tee -a "$dir/uniform-$b.txt"
			"$bin" prune "${common[@]}" --rate "$p" --rates "$rates" --seed "$s" --out "$out" "${resume[@]}" 2>&1 | tee -a "$out.log"
		done
	done
fi

if has cmp; then
	go run ./experiments/budgetcmp -batch 64 -threads 2 -repeats 10 -o "$results/budget-$MODEL.png" \
		-md "$results/budget-$MODEL.md" "$dir"/budget-*-s? "$dir"/uniform-*-s?
fi
