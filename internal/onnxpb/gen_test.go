package onnxpb

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedUpToDate regenerates onnx.pb.go from onnx.proto in a
// temporary folder and compares it with the committed file. It runs where
// protoc and protoc-gen-go (at the committed file's version) are installed
// and skips elsewhere.
func TestGeneratedUpToDate(t *testing.T) {
	committed, err := os.ReadFile("onnx.pb.go")
	if err != nil {
		t.Fatal(err)
	}
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		t.Skip("protoc not installed (apt-get install protobuf-compiler)")
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		t.Skip(err)
	}
	plugin := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "protoc-gen-go")
	ver, err := exec.Command(plugin, "--version").Output()
	if err != nil || !bytes.Contains(committed, []byte("protoc-gen-go "+strings.TrimPrefix(strings.TrimSpace(string(ver)), "protoc-gen-go "))) {
		t.Skipf("protoc-gen-go at the committed version not installed (%s: %q, %v)", plugin, ver, err)
	}
	pv, err := exec.Command(protoc, "--version").Output()
	if err != nil || !bytes.Contains(committed, []byte("protoc        v"+strings.TrimPrefix(strings.TrimSpace(string(pv)), "libprotoc "))) {
		t.Skipf("protoc %q is not the version the committed file names", pv)
	}
	dir := t.TempDir()
	cmd := exec.Command(protoc, "--plugin=protoc-gen-go="+plugin, "--go_out="+dir, "--go_opt=paths=source_relative", "onnx.proto")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("protoc: %v\n%s", err, out)
	}
	fresh, err := os.ReadFile(filepath.Join(dir, "onnx.pb.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, committed) {
		t.Error("onnx.pb.go is stale: run go generate ./internal/onnxpb")
	}
}
