#!/bin/sh
# Times bf16 training against fp32 (issue 22, stretch item 4): ResNet-56,
# dense and pruned to Conv-70, batch 64, 2 threads, sgcnn's fp32 and bf16
# in ROUNDS alternating rounds of bench/engine (5 timed repeats of 3 steps
# each), then PyTorch 1.13 fp32 and bf16 autocast (bench/torch_resnet.py).
# Run it on an idle machine (stop other jobs, e.g. /work/team/quiet.sh).
# Writes the raw JSON lines, headed by the CPU model, date, commit and
# route (nn.BF16Route), to bench/results/bf16-train-<UTC time>.txt, and
# prints the medians and ratios per round.
#
# Usage: bash bench/bf16.sh   (from anywhere; ROUNDS=3 by default)
set -eu
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
bin=$(mktemp -d)/engine
go build -o "$bin" ./bench/engine
mkdir -p bench/results
out=bench/results/bf16-train-$(date -u +%Y%m%dT%H%M).txt
{
	echo "# bf16 training, $(sh bench/cpu.sh), $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# $("$bin" -models 56 -threads 2 -modes train -train-batch 8 -repeats 1 -iters 1 -warmup 0 -precision bf16 2>&1 | grep -m1 'bf16 convolutions' || echo 'bf16 convolutions: unknown')"
	echo "# bench/engine -models 56 -threads 2 -modes train,train-pruned -train-batch 64 -repeats 5 -iters 3 -precision fp32|bf16 ($rounds alternating rounds)"
	r=1
	while [ $r -le "$rounds" ]; do
		for p in fp32 bf16; do
			"$bin" -models 56 -threads 2 -modes train,train-pruned -train-batch 64 -repeats 5 -iters 3 -precision $p 2>&1 | grep '"mode"' | sed "s/^/round $r: /"
		done
		r=$((r + 1))
	done
	echo "# /usr/bin/python3 bench/torch_resnet.py --models 56 --threads 2 --modes train --train-batch 64 --iters 5 --repeats 3 --precision fp32,bf16"
	/usr/bin/python3 bench/torch_resnet.py --models 56 --threads 2 --modes train --train-batch 64 --iters 5 --repeats 3 --precision fp32,bf16 2>&1 | grep '"mode"'
} >"$out"
echo "wrote $out"
/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
med = {}
for line in open(sys.argv[1]):
    if '{' not in line:
        continue
    pre, js = line.split('{', 1)
    d = json.loads('{' + js)
    key = (pre.strip().rstrip(':'), d['peer'])
    med.setdefault(key, {})[d['mode']] = statistics.median(d['img_per_sec'])
print('| round | engine | dense fp32 / bf16 img/s | bf16 / fp32 | Conv-70 fp32 / bf16 | bf16 / fp32 |')
print('|---|---|---|---:|---|---:|')
for (rnd, peer), m in med.items():
    d = (m.get('train'), m.get('train-bf16'))
    p = (m.get('train-pruned'), m.get('train-pruned-bf16'))
    fmt = lambda a: f'{a[0]:.1f} / {a[1]:.1f}' if None not in a else '—'
    rat = lambda a: f'{a[1] / a[0]:.2f}x' if None not in a else '—'
    print(f'| {rnd or "—"} | {peer} | {fmt(d)} | {rat(d)} | {fmt(p)} | {rat(p)} |')
PY
