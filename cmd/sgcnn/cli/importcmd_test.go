package cli

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/export/onnx"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// onnxFile exports a built-in ResNet-20 with random weights to ONNX (by
// sgcnn's own exporter: the ONNX files of networks sgcnn did not write are
// tested in package e2e) and returns the file and the model.
func onnxFile(t *testing.T, dir string) (string, *models.Model) {
	t.Helper()
	m, err := models.New("resnet20", 0, 7)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "r20.onnx")
	if err := onnx.ExportFile(path, m, onnx.Options{}); err != nil {
		t.Fatal(err)
	}
	return path, m
}

func logitsOf(t *testing.T, m *models.Model) []float32 {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 1))
	x := tensor.New(2, 3, 32, 32)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	y, err := m.Net.Forward(nn.NewCtx(false), x)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clone(y.Data)
}

// TestImportONNX imports an ONNX file: the model file records the
// normalisation and data set, holds a graph model with every group-1 conv
// and the classifier prunable, and computes the exported network's logits.
func TestImportONNX(t *testing.T) {
	dir := t.TempDir()
	in, m := onnxFile(t, dir)
	out := filepath.Join(dir, "imported.safetensors")
	code, stdout, stderr := run(t, "import", in, "--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225",
		"--classes", "10", "--dataset", "cifar10", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "20 prunable layers") {
		t.Errorf("import says %q, want 20 (every conv and the classifier)", stdout)
	}
	f, err := models.LoadFile(out, models.GraphArch)
	if err != nil {
		t.Fatal(err)
	}
	if f.Info.Dataset != "cifar10" || !slices.Equal(f.Info.Mean, []float32{0.485, 0.456, 0.406}) || f.Info.Std[2] != 0.225 {
		t.Errorf("info %+v", f.Info)
	}
	if len(f.Model.Prunable) != 20 {
		t.Errorf("%d prunable layers, want 20: %v", len(f.Model.Prunable), f.Model.Prunable)
	}
	got, want := logitsOf(t, f.Model), logitsOf(t, m)
	for i := range want {
		if d := got[i] - want[i]; d > 1e-4 || d < -1e-4 {
			t.Fatalf("logit %d: imported %g, exported model %g", i, got[i], want[i])
		}
	}
	if code, stdout, stderr := run(t, "info", out); code != 0 || !strings.Contains(stdout, "imported network imported.safetensors (20 prunable layers)") {
		t.Errorf("info: exit %d: %s%s", code, stdout, stderr)
	}
}

// TestImportBadFlags checks that wrong flags are refused before any work,
// naming the flag.
func TestImportBadFlags(t *testing.T) {
	dir := t.TempDir()
	in, _ := onnxFile(t, dir)
	th := filepath.Join(dir, "x.th")
	if err := os.WriteFile(th, []byte("PK\x03\x04 not really a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := filepath.Join(dir, "o.safetensors")
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{in}, exitUsage, "--out is required"},
		{[]string{in, "--mean", "0.5,0.5,0.5", "-o", o}, exitUsage, "--mean and --std go together"},
		{[]string{in, "--mean", "0.5,0.5", "--std", "1,1,1", "-o", o}, exitUsage, "--mean has 2 values, --std 3"},
		{[]string{in, "--mean", "0.5,x,0.5", "--std", "1,1,1", "-o", o}, exitUsage, `"x" is not a number`},
		{[]string{in, "--mean", "0.5,0.5,0.5", "--std", "1,0,1", "-o", o}, exitUsage, "want a positive number"},
		{[]string{in, "--mean", "0.5", "--std", "1", "-o", o}, exitUsage, "give 1 channels, but"},
		{[]string{in, "--input-shape", "3,32", "-o", o}, exitUsage, "want C,H,W"},
		{[]string{in, "--input-shape", "3,0,32", "-o", o}, exitUsage, "not a positive integer"},
		{[]string{in, "--classes", "-1", "-o", o}, exitUsage, "--classes -1"},
		{[]string{in, "--classes", "100", "-o", o}, exitError, "100 classes"},
		{[]string{in, "--dataset", "imagenet", "-o", o}, exitUsage, `--dataset "imagenet"`},
		{[]string{in, "--model", "resnet20", "-o", o}, exitUsage, "brings its own network"},
		{[]string{th, "--mean", "0.5,0.5,0.5", "--std", "1,1,1", "-o", o}, exitUsage, "not an ONNX file"},
		{[]string{th, "-o", o}, exitUsage, "--model is required"},
		{[]string{filepath.Join(dir, "missing.onnx"), "-o", o}, exitError, "missing.onnx"},
	} {
		code, _, stderr := run(t, append([]string{"import"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d, %q; want exit %d and %q", c.args, code, stderr, c.code, c.msg)
		}
	}
	if _, err := os.Stat(o); err == nil {
		t.Error("a refused import wrote its output")
	}
}
