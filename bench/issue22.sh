#!/bin/sh
# Issue 22's goals on the machine at hand, in one run (about 5 minutes on an
# idle 2-core machine): the FP32 FMA peak, the dense 3x3 conv forward as a
# fraction of it on the three CIFAR ResNet stage shapes, the compiled
# Conv-70 speedup over the compiled dense network set against the FLOPs
# reduction (ResNet-20 and ResNet-56, batch 1 and 64), and sgcnn against
# ONNX Runtime on the same dense and pruned models (bench/onnx), all
# on 2 threads. The Markdown report, with the CPU model, goes to stdout and to
# bench/results/issue22-<UTC time>.md. Extra arguments go to bench/issue22
# (e.g. -rounds 41).
#
# Figures are ratios measured in one process; on a machine shared with other
# jobs they are indicative only (the report prints the load average).
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/issue22" ./bench/issue22
go build -o "$tmp/bench_onnx" ./bench/onnx
mkdir -p bench/results
out=bench/results/issue22-$(date -u +%Y%m%dT%H%M%S).md
# ORT first: its table feeds the goal table.
"$tmp/bench_onnx" -models resnet56,resnet20 -threads 2 -idle-wait 10s >"$tmp/onnx.md"
{
	echo "## Issue 22 goals: $(sh bench/cpu.sh), $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . || echo ' (with uncommitted changes)'); \`bench/issue22.sh $*\`."
	echo
	"$tmp/issue22" -onnx "$tmp/onnx.md" "$@"
	echo
	echo "### ONNX Runtime peer (bench/onnx -models resnet56,resnet20 -threads 2)"
	echo
	sed -e '/<!-- bench_onnx/d' -e 's/^## /#### /' "$tmp/onnx.md"
	echo
	echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
} | tee "$out"
