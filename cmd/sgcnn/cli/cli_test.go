package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
)

// run runs the command line and returns its exit code and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

// sharedFile returns a file under the shared folder beside the repository
// (../shared from its root, four levels above this package), or skips the
// test; under CI=true a missing file fails it, so that the checks that need
// it cannot silently stop running.
func sharedFile(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "..", "shared", rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not present under CI: %v", p, err)
		}
		t.Skipf("%s not present: %v", p, err)
	}
	return p
}

// TestEvalPretrainedResNet20 is the acceptance check of the PyTorch import:
// the pretrained ResNet-20 scores exactly 91.73% on the 10,000 CIFAR-10
// test images.
func TestEvalPretrainedResNet20(t *testing.T) {
	if testing.Short() {
		t.Skip("evaluates 10,000 images")
	}
	w := sharedFile(t, "models/cifar10/resnet20-12fca82f.th")
	sharedFile(t, "data/cifar10/test_batch.bin.gz")
	code, out, errs := run(t, "eval", "--model", "resnet20", "--weights", w, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r struct {
		Top1   float64 `json:"top1"`
		Images int     `json:"images"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Images != 10000 || r.Top1 != 91.73 {
		t.Fatalf("top-1 %.2f%% on %d images, want 91.73%% on 10000", r.Top1, r.Images)
	}
}

// TestImportRoundTrip imports the PyTorch file, then checks that the model
// file carries the same tensors and that a wrong architecture is refused.
func TestImportRoundTrip(t *testing.T) {
	w := sharedFile(t, "models/cifar10/resnet20-12fca82f.th")
	out := filepath.Join(t.TempDir(), "r20.safetensors")
	if code, _, errs := run(t, "import", w, "--model", "resnet20", "-o", out); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	a, _, err := openModel("resnet20", w)
	if err != nil {
		t.Fatal(err)
	}
	f, err := models.LoadFile(out, "")
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := nn.AllParams(a.Net), nn.AllParams(f.Model.Net)
	for i := range pa {
		for j, v := range pa[i].Value.Data {
			if pb[i].Value.Data[j] != v {
				t.Fatalf("%s[%d] differs after import", pa[i].Name, j)
			}
		}
	}
	if code, _, errs := run(t, "import", w, "--model", "resnet56", "-o", out+"2"); code == 0 || !strings.Contains(errs, "missing") {
		t.Fatalf("importing ResNet-20 weights as resnet56: exit %d, %q", code, errs)
	}
	if _, err := os.Stat(out + "2"); err == nil {
		t.Fatal("a failed import left a file")
	}
	if code, _, errs := run(t, "eval", "--model", "resnet56", "--weights", out); code == 0 || !strings.Contains(errs, "resnet20") {
		t.Fatalf("model file for resnet20 evaluated as resnet56: exit %d, %q", code, errs)
	}
}

func TestInfoCounts(t *testing.T) {
	code, out, errs := run(t, "info", "lenet5", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r struct {
		Params int64 `json:"params"`
		FLOPs  int64 `json:"flops"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Params != 431080 || r.FLOPs != 2293560 {
		t.Fatalf("lenet5: %d params, %d FLOPs; want 431080 and 2293560", r.Params, r.FLOPs)
	}
	if code, _, _ := run(t, "info", "nosuchnet"); code != exitUsage {
		t.Fatalf("unknown model: exit %d, want %d", code, exitUsage)
	}
}

// TestPruneRejectsBadInputEarly checks that bad settings fail before any
// work, with a usage error naming the problem.
func TestPruneRejectsBadInputEarly(t *testing.T) {
	dir := t.TempDir()
	cases := [][]string{
		{"--rate", "100"},
		{"--rate", "0"},
		{"--rate", "70", "--step", "8"},
		{"--groups", "0"},
		{"--scheme", "XY"},
		{"--rule", "odd"},
		{"--shift", "-1"},
		{"--rates", "10,5,70", "--rate", "70"},
		{"--distill", "--distill-alpha", "2"},
		{"--distill", "--distill-temp", "0"},
		{"--model", "resnet20", "--weights", "/nonexistent/file.th"},
	}
	for _, c := range cases {
		args := append([]string{"prune", "--out", filepath.Join(dir, "x")}, c...)
		code, _, errs := run(t, args...)
		if code == 0 || errs == "" {
			t.Errorf("%v: exit %d, stderr %q; want a clear error", c, code, errs)
		}
		if strings.Contains(errs, "training") || strings.Contains(errs, "baseline") {
			t.Errorf("%v: work started before the error: %q", c, errs)
		}
	}
}

// TestAugmentation checks the training crop and flip per data set: CIFAR's
// pad-4 crop and flip, none on MNIST unless --shift asks for a shift, and
// --shift overriding CIFAR's padding but never adding flips to digits.
func TestAugmentation(t *testing.T) {
	cases := []struct {
		h       int
		augment bool
		shift   int
		pad     int
		flip    bool
	}{
		{32, true, 0, 4, true},
		{32, false, 0, 0, false},
		{32, true, 2, 2, true},
		{28, true, 0, 0, false},
		{28, true, 2, 2, false},
		{28, false, 3, 3, false},
	}
	for _, c := range cases {
		pad, flip := augmentation(c.h, c.augment, c.shift)
		if pad != c.pad || flip != c.flip {
			t.Errorf("augmentation(%d, %v, %d) = %d, %v; want %d, %v", c.h, c.augment, c.shift, pad, flip, c.pad, c.flip)
		}
	}
	if code, _, errs := run(t, "train", "--shift", "-2", "--out", filepath.Join(t.TempDir(), "m")); code == 0 || !strings.Contains(errs, "--shift") {
		t.Errorf("train --shift -2: exit %d, stderr %q; want an error naming --shift", code, errs)
	}
}

// TestTrainResumeIsBitIdentical trains two epochs on a small MNIST subset
// in one go, and again with a stop after the first epoch and --resume, on
// one thread: the weights must match bit for bit.
func TestTrainResumeIsBitIdentical(t *testing.T) {
	if testing.Short() {
		t.Skip("trains")
	}
	parallel.SetThreads(1)
	defer parallel.SetThreads(0)
	dir := t.TempDir()
	base := []string{"--threads", "1", "train", "--model", "lenet5", "--train-limit", "512", "--test-limit", "256",
		"--batch", "64", "--lr", "0.01", "--schedule", "step:1:0.5", "--seed", "7"}
	a := filepath.Join(dir, "a.safetensors")
	if code, _, errs := run(t, append(base, "--epochs", "2", "-o", a)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b := filepath.Join(dir, "b.safetensors")
	if code, _, errs := run(t, append(base, "--epochs", "2", "-o", b)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// Rewind b to its first epoch by training a fresh one-epoch run, then
	// resume it: the run record says 2 epochs.
	c := filepath.Join(dir, "c.safetensors")
	if code, _, errs := run(t, append(base, "--epochs", "1", "-o", c)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	patchEpochs(t, c, 2)
	if code, _, errs := run(t, "--threads", "1", "train", "--resume", "-o", c, "--train-limit", "512", "--test-limit", "256"); code != 0 {
		t.Fatalf("resume: exit %d: %s", code, errs)
	}
	wa, wb, wc := weights(t, a), weights(t, b), weights(t, c)
	for i := range wa {
		if wa[i] != wb[i] {
			t.Fatalf("two identical runs differ at weight %d: %g vs %g", i, wa[i], wb[i])
		}
		if wa[i] != wc[i] {
			t.Fatalf("resumed run differs at weight %d: %g vs %g", i, wc[i], wa[i])
		}
	}
}

func weights(t *testing.T, path string) []float32 {
	t.Helper()
	f, err := models.LoadFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	var ws []float32
	for _, p := range nn.AllParams(f.Model.Net) {
		ws = append(ws, p.Value.Data...)
	}
	return ws
}

// patchEpochs rewrites a run record's epoch count, as if the run had been
// asked for n epochs and stopped after the first.
func patchEpochs(t *testing.T, path string, n int) {
	t.Helper()
	f, err := models.LoadFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	var st trainState
	if err := json.Unmarshal(f.Info.Training, &st); err != nil {
		t.Fatal(err)
	}
	st.Config.Epochs = n
	raw, _ := json.Marshal(st)
	f.Info.Training = raw
	if err := models.SaveFile(path, f.Model, f.Info, f.Extra); err != nil {
		t.Fatal(err)
	}
}

// TestEvalInt8 evaluates a LeNet-5 file with --precision int8 (calibrated
// on MNIST's validation split) and refuses a training precision.
func TestEvalInt8(t *testing.T) {
	path := lenetFile(t)
	code, out, errs := run(t, "eval", "--weights", path, "--precision", "int8", "--calib", "64", "--test-limit", "100", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r struct {
		Precision string  `json:"precision"`
		Top1      float64 `json:"top1"`
		Images    int     `json:"images"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if r.Precision != "int8" || r.Images != 100 || !strings.Contains(errs, "int8: 2 convs calibrated on 64 images") {
		t.Errorf("%+v, stderr %q: want int8 on 100 images, the calibration on stderr", r, errs)
	}
	if code, _, errs := run(t, "eval", "--weights", path, "--precision", "bf16"); code != exitUsage || !strings.Contains(errs, "--precision") {
		t.Errorf("--precision bf16: exit %d, %q", code, errs)
	}
}
