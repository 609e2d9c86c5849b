//go:build amd64 && !noasm

package kernel

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGenerated reruns the avo generator in _asm, once per -set, and fails
// when a committed output (micro_amd64.s, micro_decl_amd64.go,
// epilogue_amd64.s, deint_amd64.s, row3_amd64.s,
// dot_amd64.s, int8_amd64.s, flat8_amd64.s, bf16_amd64.s,
// int8amx_amd64.s) differs from its output, i.e. when
// someone edited it by hand or forgot go generate. It skips under -short
// and where the generator cannot be built offline, except under CI=true
// (scripts/setup.sh downloads the generator's modules), where it fails.
func TestGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, c := range []struct {
		set, out, stubs string // stubs: "" when the set declares nothing
	}{
		{"micro", "micro_amd64.s", "micro_decl_amd64.go"},
		{"epilogue", "epilogue_amd64.s", ""},
		{"deint", "deint_amd64.s", ""},
		{"row3", "row3_amd64.s", ""},
		{"dot", "dot_amd64.s", ""},
		{"int8", "int8_amd64.s", ""},
		{"flat8", "flat8_amd64.s", ""},
		{"bf16", "bf16_amd64.s", ""},
		{"int8amx", "int8amx_amd64.s", ""},
	} {
		dir := t.TempDir()
		files := [][2]string{{c.out, filepath.Join(dir, c.out)}}
		args := []string{"run", ".", "-set", c.set, "-pkg", "kernel", "-out", files[0][1]}
		if c.stubs != "" {
			files = append(files, [2]string{c.stubs, filepath.Join(dir, c.stubs)})
			args = append(args, "-stubs", files[1][1])
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = "_asm"
		cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			skipUnlessCI(t, "cannot run the generator offline (cd internal/kernel/_asm && go mod download): %v\n%s", err, out)
		}
		for _, f := range files {
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
				t.Errorf("%s differs from the generator's output (-set %s): run go generate ./internal/kernel", f[0], c.set)
			}
		}
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

func dropLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}
