package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSingleFileOutputsNotOverwritten: import, export (both formats) and
// average refuse an existing output, naming the flag and --force, and
// leave the file as it was; --force replaces it.
func TestSingleFileOutputsNotOverwritten(t *testing.T) {
	dir := t.TempDir()
	model := prunedModelFile(t, dir)
	taken := filepath.Join(dir, "taken")
	const keep = "a result that must survive"
	cases := []struct {
		name string
		args []string
		// sidecar, when set, is a second output that must not exist either.
		sidecar string
	}{
		{"import", []string{"import", sharedFile(t, "models/cifar10/resnet20-12fca82f.th"), "--model", "resnet20", "-o", taken}, ""},
		{"export onnx", []string{"export", "--weights", model, "--format", "onnx", "-o", taken}, ""},
		{"export torch", []string{"export", "--weights", model, "--format", "torch", "-o", taken}, ".groups.json"},
		{"average", []string{"average", "-o", taken, model, model}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range []string{taken, taken + ".groups.json"} {
				os.Remove(p)
			}
			if err := os.WriteFile(taken, []byte(keep), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errs := run(t, c.args...)
			if code != exitUsage || !strings.Contains(errs, taken+" exists") || !strings.Contains(errs, "--force") {
				t.Fatalf("exit %d, stderr %q: want a usage error naming the file and --force", code, errs)
			}
			if b, _ := os.ReadFile(taken); string(b) != keep {
				t.Fatal("the refused command changed the file")
			}
			if c.name == "average" {
				return // averaging needs data; its refusal is what this test is for
			}
			if code, _, errs := run(t, append(c.args, "--force")...); code != 0 {
				t.Fatalf("--force: exit %d: %s", code, errs)
			}
			if b, _ := os.ReadFile(taken); string(b) == keep {
				t.Fatal("--force did not replace the file")
			}
			if c.sidecar != "" {
				os.Remove(taken)
				code, _, errs := run(t, c.args...)
				if code != exitUsage || !strings.Contains(errs, c.sidecar+" exists") {
					t.Fatalf("existing sidecar: exit %d, stderr %q", code, errs)
				}
			}
		})
	}
}
