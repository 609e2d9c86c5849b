//go:build amd64 && !noasm

package kernel

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGenerated reruns the avo generator in _asm and fails when the
// committed micro_amd64.s or micro_decl_amd64.go differ from its output,
// i.e. when someone edited them by hand or forgot go generate. It skips
// under -short and where the generator cannot be built offline.
func TestGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	outS, outGo := filepath.Join(dir, "micro_amd64.s"), filepath.Join(dir, "micro_decl_amd64.go")
	cmd := exec.Command("go", "run", ".", "-pkg", "kernel", "-out", outS, "-stubs", outGo)
	cmd.Dir = "_asm"
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot run the generator offline: %v\n%s", err, out)
	}
	for _, f := range [][2]string{{"micro_amd64.s", outS}, {"micro_decl_amd64.go", outGo}} {
		want, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(f[1])
		if err != nil {
			t.Fatal(err)
		}
		// The first line records the command line, which names other paths.
		if !bytes.Equal(dropLine(got), dropLine(want)) {
			t.Errorf("%s differs from the generator's output: run go generate ./internal/kernel", f[0])
		}
	}
}

func dropLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}
