#!/usr/bin/env bash
# Installs everything sgcnn's build and tests need on a Debian machine with
# Go 1.26: Debian's PyTorch and torchvision (the numerics reference, the
# speed peer, the torch trainer and the ONNX test networks), Fashion-MNIST,
# the Go modules, staticcheck, and the generators' inputs that the drift
# tests need (they fail under CI=true without them): protoc and
# protoc-gen-go for internal/onnxpb, the avo module of internal/kernel/_asm.
# Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
/usr/bin/python3 -c 'import torch' 2>/dev/null || need_apt+=(python3-torch python3-numpy)
# torchvision's model definitions: the e2e tests export them to ONNX
# (scripts/gen_torchvision_onnx.py) as networks sgcnn did not write.
/usr/bin/python3 -c 'import torchvision' 2>/dev/null || need_apt+=(python3-torchvision)
[ -d /usr/share/datasets/fashion-mnist ] || need_apt+=(dataset-fashion-mnist)
command -v protoc >/dev/null || need_apt+=(protobuf-compiler)
if [ ${#need_apt[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

go mod download
go install honnef.co/go/tools/cmd/staticcheck@v0.7.0
# The drift tests' generators: onnx.pb.go names protoc-gen-go v1.36.11 (and
# Debian 12's protoc 3.21.12); TestGenerated runs the avo generator with
# GOPROXY=off, so its module's dependencies must be in the module cache.
go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.11
(cd internal/kernel/_asm && go mod download)
go build -o bin/sgcnn ./cmd/sgcnn
echo "setup: bin/sgcnn built"

# ONNX Runtime 1.30 for the ONNX export's parity tests (export/onnx) and the
# inference benchmarks: the shared library that the npm package
# onnxruntime-node ships, installed under third_party/ort (gitignored).
# ONNXRUNTIME_NODE_INSTALL=skip stops its install script from downloading
# anything else (which fails offline). github.com/yalue/onnxruntime_go loads
# the library from there, or from $SGCNN_ORT_LIB.
ort_lib=third_party/ort/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1
if [ ! -f "$ort_lib" ]; then
	command -v npm >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq npm >/dev/null; }
	mkdir -p third_party/ort
	[ -f third_party/ort/package.json ] || echo '{"name": "sgcnn-ort", "private": true}' >third_party/ort/package.json
	(cd third_party/ort && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --loglevel=error onnxruntime-node@1.30.0)
	[ -f "$ort_lib" ] || { echo "setup: npm did not install $ort_lib" >&2; exit 1; }
fi
echo "setup done: ONNX Runtime at $ort_lib"
