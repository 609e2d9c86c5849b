#!/bin/sh
# Measures compiled pruned CIFAR ResNets and LeNet-5 against their dense networks (sgcnn bench).
#
# Times the compiled pruned networks against dense ones (sgcnn bench): ResNet-20
# and ResNet-56 at Conv-30/50/70/90 with masks from one self-grouping step on the
# pretrained CIFAR-10 weights (shared/models/cifar10), LeNet-5 at Conv-95/99
# (random weights), batch 1 and 64, 1 and 2 threads. Extra arguments go to
# sgcnn bench (e.g. --models resnet56 --rates 70). The table, with the machine,
# date and load, goes to stdout and to bench/results/compiled-<UTC time>.md.
#
# The command waits up to --idle-timeout per model and rate for the CPU to be
# idle (busy < 10% from /proc/stat) and prints the load it saw; on a shared
# machine numbers are noisy.
set -eu
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/sgcnn
go build -o "$bin" ./cmd/sgcnn
mkdir -p bench/results
out=bench/results/compiled-$(date -u +%Y%m%dT%H%M%S).md
{
	echo '```'
	echo "\$ sgcnn bench $*"
	echo "commit $(git rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "CPU: $(sh bench/cpu.sh)"
	echo "CPUs: $(nproc); loadavg before: $(cat /proc/loadavg)"
	echo '```'
	echo
	"$bin" bench --idle-timeout 60s "$@"
	echo
	echo "loadavg after: $(cat /proc/loadavg)"
} | tee "$out"
