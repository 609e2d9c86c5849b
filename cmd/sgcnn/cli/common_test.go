package cli

import (
	"testing"

	"github.com/sgcnn/sgcnn/models"
)

// TestRunName checks the names default output paths get: the architecture
// for a built-in one, else the file's base name, or its run's folder for a
// run's checkpoint.
func TestRunName(t *testing.T) {
	for _, c := range []struct{ arch, path, want string }{
		{"resnet20", "runs/x/checkpoint.safetensors", "resnet20"},
		{models.GraphArch, "", models.GraphArch},
		{models.GraphArch, "models/mobilenet.safetensors", "mobilenet"},
		{models.GraphArch, "runs/prune-a/checkpoint.safetensors", "prune-a"},
	} {
		if got := runName(c.arch, c.path); got != c.want {
			t.Errorf("runName(%q, %q) = %q, want %q", c.arch, c.path, got, c.want)
		}
	}
	for path, want := range map[string]string{"a/b/net.onnx": "net", "runs/r1/checkpoint.safetensors": "r1", "m.th": "m"} {
		if got := fileName(path); got != want {
			t.Errorf("fileName(%q) = %q, want %q", path, got, want)
		}
	}
}
