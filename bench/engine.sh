#!/bin/sh
# Measures sgcnn's engine against PyTorch on CIFAR ResNets: training and inference img/s, memory, GFLOP/s.
#
# Engine benchmark: sgcnn (bench/engine) against PyTorch (bench/torch_resnet.py)
# on CIFAR ResNets, same machine, same run. Prints a Markdown report on stdout
# (progress on stderr): medians of img/s and their ratios, peak memory of
# ResNet-56 b128 training, and 3x3 conv kernel GFLOP/s against the measured
# FMA peak.
#
# It waits for an idle CPU first (busy < 10% over one second, sampled from
# /proc/stat, for at most IDLE_TIMEOUT seconds) and records the load it
# started under, then runs the two peers alternately ROUNDS times, so that
# a burst of load from other jobs hits both.
#
# Usage: bench/engine.sh   (from the module root; environment knobs below)
set -eu

MODELS=${MODELS:-56}            # ResNet depths
THREADS=${THREADS:-1,2}
ROUNDS=${ROUNDS:-3}             # alternating runs of each peer
REPEATS=${REPEATS:-3}           # timed repeats per measurement and run
ITERS=${ITERS:-5}               # steps per repeat
IDLE_TIMEOUT=${IDLE_TIMEOUT:-300}
PYTHON=${PYTHON:-/usr/bin/python3} # Debian's, with python3-torch 1.13

cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# busy prints the percentage of non-idle CPU time over one second.
busy() {
	a=$(head -1 /proc/stat)
	sleep 1
	b=$(head -1 /proc/stat)
	echo "$a
$b" | awk '{ idle = $5 + $6; tot = 0; for (i = 2; i <= NF; i++) tot += $i
	if (NR == 1) { i0 = idle; t0 = tot } else printf "%.0f\n", 100 * (1 - (idle - i0) / (tot - t0)) }'
}

echo "building bench/engine" >&2
go build -o "$tmp/engine" ./bench/engine

waited=0
load=$(busy)
while [ "$load" -ge 10 ] && [ "$waited" -lt "$IDLE_TIMEOUT" ]; do
	waited=$((waited + 1))
	load=$(busy)
done
echo "start: CPU ${load}% busy after waiting ${waited}s (loadavg $(cut -d' ' -f1-3 /proc/loadavg))" >&2
echo "start_busy=$load waited=$waited loadavg=$(cut -d' ' -f1-3 /proc/loadavg)" >"$tmp/load"

res="$tmp/results.jsonl"
for r in $(seq "$ROUNDS"); do
	echo "round $r/$ROUNDS: pytorch" >&2
	"$PYTHON" bench/torch_resnet.py --models "$MODELS" --threads "$THREADS" \
		--repeats "$REPEATS" --iters "$ITERS" >>"$res"
	echo "round $r/$ROUNDS: sgcnn" >&2
	"$tmp/engine" -models "$MODELS" -threads "$THREADS" \
		-repeats "$REPEATS" -iters "$ITERS" | grep '"mode"' >>"$res"
done
echo "end_busy=$(busy) loadavg=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$tmp/load"

echo "peak memory: ResNet-56 b128 training, 2 threads" >&2
"$tmp/engine" -models 56 -modes train -threads 2 -repeats 1 -iters 3 | grep peak_rss >>"$tmp/mem.jsonl"
"$PYTHON" bench/torch_resnet.py --models 56 --modes train --threads 2 --repeats 1 --iters 3 \
	--peak-mem | grep peak_rss >>"$tmp/mem.jsonl"

echo "kernels: 3x3 conv forward on 2 threads vs FMA peak" >&2
go test -run '^$' -bench 'Peak2Threads|Conv2Threads' -benchtime 3000x ./internal/kernel/ \
	| grep -v -e naive -e '/go-' >"$tmp/kernels.txt"

cpu=$(sh bench/cpu.sh)
"$PYTHON" - "$res" "$tmp/mem.jsonl" "$tmp/kernels.txt" "$tmp/load" "$cpu" <<'EOF'
import json, re, statistics, sys
res, mem, kern, load, cpu = sys.argv[1:6]
print("CPU:", cpu)
print()
rates = {}
for line in open(res):
    d = json.loads(line)
    key = (d["model"], d["mode"], d["batch"], d["threads"])
    rates.setdefault(key, {}).setdefault(d["peer"], []).extend(d["img_per_sec"])
print("| model | mode | batch | threads | PyTorch img/s | sgcnn img/s | ratio |")
print("|---|---|---:|---:|---:|---:|---:|")
order = {"train": 0, "train-pruned": 1, "infer": 2, "infer-compiled": 3}
for key in sorted(rates, key=lambda k: (k[0], order.get(k[1], 3), k[3])):
    # sgcnn's compiled inference engine is set against PyTorch's eval forward,
    # pruned training against PyTorch's dense training (what masked training
    # costs there).
    peer = {"infer-compiled": (key[0], "infer", key[2], key[3]),
            "train-pruned": (key[0], "train", key[2], key[3])}.get(key[1], key)
    pt = statistics.median(rates.get(peer, {}).get("pytorch", [float("nan")]))
    sg = statistics.median(rates[key].get("sgcnn", [float("nan")]))
    print(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {pt:.1f} | {sg:.1f} | {sg / pt:.2f}x |")
print()
print("Peak resident memory, ResNet-56 b128 training (2 threads, whole process):", end=" ")
print(", ".join(f"{d['peer']} {d['peak_rss_mib']:.0f} MiB" for d in map(json.loads, open(mem))))
print()
peak = None
rows = []
for line in open(kern):
    m = re.match(r"Benchmark(\S+?)(?:-\d+)?\s+\d+\s+\S+ ns/op\s+(\S+) GFLOP/cpu-s\s+(\S+) GFLOP/s", line)
    if not m:
        continue
    name, cpu, wall = m.group(1), float(m.group(2)), float(m.group(3))
    if name.startswith("Peak2Threads"):
        peak = (cpu, wall)
    else:
        rows.append((name.replace("Conv2Threads/", "").replace("/avx512", ""), cpu, wall))
if peak:
    print("| 3x3 conv forward, 2 threads | GFLOP/s (wall) | % of peak | GFLOP/cpu-s x 2 | % of peak |")
    print("|---|---:|---:|---:|---:|")
    print(f"| FMA peak (fmaPeak) | {peak[1]:.0f} | 100% | {peak[0]:.0f} | 100% |")
    for n, c, w in rows:
        print(f"| {n} | {w:.0f} | {100 * w / peak[1]:.0f}% | {c:.0f} | {100 * c / peak[0]:.0f}% |")
    print()
print("Load:", " ".join(open(load).read().split()))
EOF
