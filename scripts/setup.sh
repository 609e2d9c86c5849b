#!/usr/bin/env bash
# Installs everything sgcnn's build and tests need on a Debian machine with
# Go 1.26: Debian's PyTorch (the numerics reference and speed peer),
# Fashion-MNIST, the Go modules, and staticcheck. Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
/usr/bin/python3 -c 'import torch' 2>/dev/null || need_apt+=(python3-torch python3-numpy)
[ -d /usr/share/datasets/fashion-mnist ] || need_apt+=(dataset-fashion-mnist)
if [ ${#need_apt[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

go mod download
go install honnef.co/go/tools/cmd/staticcheck@v0.7.0
go build -o bin/sgcnn ./cmd/sgcnn
echo "setup done: bin/sgcnn built"
