#!/usr/bin/env bash
# Regenerates internal/onnxpb/onnx.pb.go from internal/onnxpb/onnx.proto
# (run by `go generate ./internal/onnxpb`). Needs Debian's protoc
# (apt-get install protobuf-compiler; 3.21.12 made the committed file) and
# protoc-gen-go at the version of google.golang.org/protobuf in go.mod.
set -euo pipefail
cd "$(dirname "$0")/../internal/onnxpb"
gen_version=v1.36.11
bin="$(go env GOPATH)/bin"
if ! "$bin/protoc-gen-go" --version 2>/dev/null | grep -q "$gen_version"; then
	go install "google.golang.org/protobuf/cmd/protoc-gen-go@$gen_version"
fi
command -v protoc >/dev/null || { echo "protoc missing: apt-get install protobuf-compiler" >&2; exit 1; }
PATH="$bin:$PATH" protoc --go_out=. --go_opt=paths=source_relative onnx.proto
