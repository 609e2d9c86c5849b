#!/usr/bin/env bash
# Measures sgcnn serve on loopback: latency and throughput, dense vs pruned ResNet-56, 1/8/32 clients.
#
# Bounded loopback load test of `sgcnn serve`: dense against pruned Conv-70 ResNet-56 on CIFAR-10 inputs,
# at 1, 8 and 32 concurrent clients, the server on --threads 2, with dynamic batching (--max-batch 16, waiting
# --max-wait 2ms for more images, or 0: only what queued while the network was busy) and without (--max-batch 1).
#
#   bench/serve_load/run.sh [SECONDS_PER_LEVEL]     (default 10; about 6 x 3 x (SECONDS+2) s plus start-up)
#
# Writes bench/results/serve_load-<UTC time>.jsonl (one JSON object per level, see main.go) and a Markdown
# table beside it with the machine (CPU model, date, load average). The client runs on the same machine as the
# server and takes CPU from it: the numbers are for loopback on this machine, not for the server alone.
# The pruned model is one-shot self-grouping at Conv-70 (FC-60), no fine-tuning (`--global-epochs 0`): the
# same compute as a fine-tuned Conv-70 model, not its accuracy.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}
weights=../shared/models/cifar10/resnet56-4bfd9763.th
[ -f "$weights" ] || { echo "run.sh: $weights not found (the pretrained ResNet-56)" >&2; exit 1; }
work=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill -TERM "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/sgcnn" ./cmd/sgcnn
go build -o "$work/serve_load" ./bench/serve_load
"$work/sgcnn" import "$weights" --model resnet56 -o "$work/dense.safetensors" >/dev/null
"$work/sgcnn" prune --model resnet56 --weights "$weights" --rate 70 --step 70 --scheme G --global-epochs 0 \
	--train-limit 1000 --test-limit 500 --measure=false --out "$work/prune" >/dev/null 2>"$work/prune.log"
cp "$work/prune/checkpoint.safetensors" "$work/pruned.safetensors"

stamp=$(date -u +%Y%m%dT%H%M)
out=bench/results/serve_load-$stamp.jsonl
mkdir -p bench/results
: >"$out"
port=18573
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for run in dense/16/2ms pruned/16/2ms dense/16/0s pruned/16/0s dense/1/0s pruned/1/0s; do
	IFS=/ read -r model batch wait <<<"$run"
	"$work/sgcnn" serve --model "$work/$model.safetensors" --addr 127.0.0.1:$port --threads 2 \
		--max-batch "$batch" --max-wait "$wait" >"$work/$model.log" 2>&1 &
	server=$!
	for _ in $(seq 300); do
		curl -sf http://127.0.0.1:$port/healthz >/dev/null && break
		kill -0 "$server" 2>/dev/null || { cat "$work/$model.log" >&2; exit 1; }
		sleep 0.2
	done
	"$work/serve_load" -url http://127.0.0.1:$port -clients 1,8,32 -duration "${secs}s" -warmup 2s -label "$run" >>"$out"
	kill -TERM "$server"
	wait "$server" # graceful shutdown: exits 0
	server=
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$out" "$secs" "$load_before" "$load_after" >"${out%.jsonl}.md" <<'PY'
import json, os, platform, subprocess, sys, datetime
rows = [json.loads(l) for l in open(sys.argv[1])]
lscpu = dict(l.split(':', 1) for l in subprocess.run(['lscpu'], capture_output=True, text=True).stdout.splitlines() if ':' in l)
cpu = f"{lscpu.get('Model name', '?').strip()} (family {lscpu.get('CPU family', '?').strip()}, model {lscpu.get('Model', '?').strip()})"
print(f"# sgcnn serve load test, ResNet-56 dense vs pruned Conv-70 ({datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC)\n")
print(f"Command: `bench/serve_load/run.sh {sys.argv[2]}`: server `sgcnn serve --threads 2 --max-batch B --max-wait W`,")
print(f"clients on the same machine over loopback, {sys.argv[2]} s per level after 2 s of warm-up, one 32x32 PNG per request.\n")
print(f"Machine: {cpu}, {os.cpu_count()} logical CPUs; load averages (1, 5, 15 min) {sys.argv[3]} before the run, {sys.argv[4]} after.")
print("**Shared machine:** other jobs ran at the same time, and the load client shares the CPUs with the server;")
print("absolute numbers are noisy, the dense/pruned comparison at equal clients is the point.\n")
print("| model | max batch B | max wait W | clients | requests | errors | req/s | p50 ms | p99 ms | mean batch |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in rows:
    model, b, w = r['label'].split('/')
    print(f"| {model} | {b} | {w} | {r['clients']} | {r['requests']} | {r['errors']} | {r['rps']:.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['mean_batch']:.2f} |")
PY
cat "${out%.jsonl}.md"
