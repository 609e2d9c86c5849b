#!/usr/bin/env bash
# Runs sgcnn's checks: gofmt, go mod tidy, go vet, the layering (check_imports.sh), staticcheck, then the test suite
# (the asm kernels and, with -tags noasm, the pure-Go fallback).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:$(go env GOPATH)/bin"

unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go mod tidy -diff
go vet ./...
bash scripts/check_imports.sh
staticcheck ./...
go test -count=1 -timeout 25m ./...
go test -count=1 -timeout 5m -tags noasm ./internal/kernel/ ./nn/ ./compile/
