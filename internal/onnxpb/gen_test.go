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
// and skips elsewhere, except under CI=true (scripts/setup.sh installs
// them), where it fails.
func TestGeneratedUpToDate(t *testing.T) {
	committed, err := os.ReadFile("onnx.pb.go")
	if err != nil {
		t.Fatal(err)
	}
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		skipUnlessCI(t, "protoc not installed (apt-get install protobuf-compiler)")
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		skipUnlessCI(t, "%v", err)
	}
	plugin := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "protoc-gen-go")
	ver, err := exec.Command(plugin, "--version").Output()
	if err != nil || !bytes.Contains(committed, []byte("protoc-gen-go "+strings.TrimPrefix(strings.TrimSpace(string(ver)), "protoc-gen-go "))) {
		skipUnlessCI(t, "protoc-gen-go at the committed version not installed (%s: %q, %v)", plugin, ver, err)
	}
	pv, err := exec.Command(protoc, "--version").Output()
	if err != nil || !bytes.Contains(committed, []byte("protoc        v"+strings.TrimPrefix(strings.TrimSpace(string(pv)), "libprotoc "))) {
		skipUnlessCI(t, "protoc %q is not the version the committed file names", pv)
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

// skipUnlessCI skips the test, or fails it under CI=true, where a check
// that silently never runs is a bug.
func skipUnlessCI(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true: "+format, args...)
	}
	t.Skipf(format, args...)
}
