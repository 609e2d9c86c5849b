package sgcnn

import (
	"context"
	"encoding/json"
	"errors"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sgcnn/sgcnn/data"
	onnxexport "github.com/sgcnn/sgcnn/export/onnx"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/pipeline"
	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/selfgroup"
	"github.com/sgcnn/sgcnn/tensor"
)

// smallMNIST loads a slice of MNIST small enough for a test.
func smallMNIST(t *testing.T) (trainSet, testSet *data.Dataset) {
	t.Helper()
	trainSet, testSet, err := OpenDataFirst("mnist", "", 1200, 300)
	if err != nil {
		t.Fatal(err)
	}
	return trainSet, testSet
}

// smallConfig is a two-step schedule with a local and a global epoch.
func smallConfig(trainSet, testSet *data.Dataset, dir string) PruneConfig {
	cfg := PruneConfig{Config: pipeline.DefaultConfig(selfgroup.LG, 60), Train: trainSet, Test: testSet, Dir: dir}
	cfg.Step, cfg.LocalEpochs, cfg.GlobalEpochs, cfg.GlobalSchedule = 30, 1, 2, "cosine"
	cfg.Batch, cfg.Augment, cfg.ValSplit = 64, false, 200
	return cfg
}

func TestOpenRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.th")
	bad := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("not a safetensors file at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		opts []OpenOption
		want string
	}{
		{dir, nil, "is a folder"},
		{empty, nil, "empty (0 bytes)"},
		{bad, nil, "not a valid safetensors file"},
		{filepath.Join(dir, "missing.th"), nil, "no such file"},
		{filepath.Join(dir, "bad.safetensors"), []OpenOption{WithDataset("imagenet21k")}, `dataset "imagenet21k"`},
	} {
		_, err := Open(c.path, c.opts...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%s): error %v, want one containing %q", c.path, err, c.want)
		}
	}
}

func TestOpenPyTorchNeedsArch(t *testing.T) {
	path := "../shared/models/cifar10/resnet20-12fca82f.th"
	if _, err := os.Stat(path); err != nil {
		t.Skip("no pretrained ResNet-20 in ../shared/models")
	}
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "WithArch") {
		t.Fatalf("Open without WithArch: error %v, want one asking for it", err)
	}
	m, err := Open(path, WithArch("resnet20"), WithDataset("cifar10"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Model.Arch != "resnet20" || len(m.Info.Mean) != 3 {
		t.Fatalf("opened %s with mean %v, want resnet20 with CIFAR-10's normalisation", m.Model.Arch, m.Info.Mean)
	}
}

// TestPredictMatchesNetwork checks Predict on raw pixels against the
// uncompiled network fed by the data loader's normalisation.
func TestPredictMatchesNetwork(t *testing.T) {
	_, testSet := smallMNIST(t)
	m, err := New("lenet5", "mnist")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	imgs := make([][]uint8, n)
	for i := range imgs {
		imgs[i] = testSet.Image(i)
	}
	got, err := c.Predict(imgs...)
	if err != nil {
		t.Fatal(err)
	}
	l, err := data.NewLoader(testSet, data.Config{BatchSize: n, Norm: data.MNISTNorm})
	if err != nil {
		t.Fatal(err)
	}
	var x *tensor.Tensor
	for b, err := range l.Epoch(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		x = tensor.New(n, 1, 28, 28)
		copy(x.Data, b.X.Data)
		break
	}
	y, err := m.Model.Net.Forward(nn.NewCtx(false), x)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		want := softmax(y.Data[i*10 : (i+1)*10])
		if got[i].Class != want.Class || got[i].Name != mnistName(want.Class) {
			t.Errorf("image %d: class %d (%q), want %d", i, got[i].Class, got[i].Name, want.Class)
		}
		for j := range want.Probs {
			if math.Abs(got[i].Probs[j]-want.Probs[j]) > 1e-4 {
				t.Fatalf("image %d class %d: probability %g, want %g", i, j, got[i].Probs[j], want.Probs[j])
			}
		}
	}
	if _, err := c.Predict(make([]uint8, 10)); err == nil || !strings.Contains(err.Error(), "image 0 has 10 bytes") {
		t.Errorf("Predict on a short image: error %v", err)
	}
}

func mnistName(class int) string { return data.MNISTClasses[class] }

// cancelWriter cancels a context once the log shows a line with key.
type cancelWriter struct {
	mu     sync.Mutex
	key    string
	cancel context.CancelFunc
}

func (w *cancelWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if strings.Contains(string(p), w.key) {
		w.cancel()
	}
	return len(p), nil
}

// TestPruneResumes stops a run after its first global epoch (where the
// momentum matters), resumes it, and checks the result against the same
// run done at once.
func TestPruneResumes(t *testing.T) {
	resumed, got := checkResumeMatches(t, func(*PruneConfig) {})
	out := t.TempDir()
	if err := WriteReports(out, resumed, got.Report); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Run
	if err := json.Unmarshal(raw, &rep); err != nil || len(rep.Steps) != 2 || rep.FinalTest == nil {
		t.Fatalf("report.json: %v, %d steps, want the run's 2 and its final test", err, len(rep.Steps))
	}
	for _, name := range []string{"report.md", "accuracy_vs_flops.png", "training.png", "groups_conv2.png"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("WriteReports: %v", err)
		}
	}
}

// TestPruneResumesDistilledAveraged is TestPruneResumes for a run that
// distils from the dense model (its teacher read back on resume) and
// averages the ends of two global cycles (the first kept in the folder).
func TestPruneResumesDistilledAveraged(t *testing.T) {
	_, got := checkResumeMatches(t, func(c *PruneConfig) {
		c.Distill, c.DistillTemp, c.DistillAlpha = true, 4, 0.5
		c.Cycles, c.Average = 2, true
	})
	if len(got.Report.Choices) != 1 || got.Report.Choices[0].What != AveragingChoice || got.Report.Choices[0].On != report.EvalValidation {
		t.Errorf("choices %+v, want the average against the last model, on validation", got.Report.Choices)
	}
}

// checkResumeMatches runs smallConfig edited by edit at once and again
// cancelled after its first global epoch and resumed, and checks that both
// end with the same weights and final test accuracy; it returns the
// resumed run.
func checkResumeMatches(t *testing.T, edit func(*PruneConfig)) (*Model, *Result) {
	t.Helper()
	trainSet, testSet := smallMNIST(t)
	SetThreads(1) // one thread: the same sums in the same order
	defer SetThreads(0)
	whole, err := New("lenet5", "mnist")
	if err != nil {
		t.Fatal(err)
	}
	cfg := smallConfig(trainSet, testSet, t.TempDir())
	edit(&cfg)
	want, err := Prune(context.Background(), whole, cfg)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	m, err := New("lenet5", "mnist")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg = smallConfig(trainSet, testSet, dir)
	edit(&cfg)
	cfg.Log = &cancelWriter{key: "global step 2 epoch 1/2", cancel: cancel}
	if _, err := Prune(ctx, m, cfg); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: error %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, CheckpointFile)); err != nil {
		t.Fatalf("the cancelled run left no checkpoint: %v", err)
	}
	resumed := &Model{}
	got, err := Prune(context.Background(), resumed, PruneConfig{Train: trainSet, Test: testSet, Dir: dir, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Report.Steps) != 2 || got.Report.FinalTest == nil || *got.Report.FinalTest != *want.Report.FinalTest {
		t.Fatalf("resumed run: %d steps, final test %v; want 2 steps and %v as in one go", len(got.Report.Steps), got.Report.FinalTest, *want.Report.FinalTest)
	}
	names, a := models.StateDict(whole.Model)
	_, b := models.StateDict(resumed.Model)
	for _, n := range names {
		if b[n] == nil || !slices.Equal(a[n].Data, b[n].Data) {
			t.Fatalf("tensor %s differs between the resumed run and the run in one go", n)
		}
	}
	return resumed, got
}

func TestPruneRefusesBadRuns(t *testing.T) {
	trainSet, testSet := smallMNIST(t)
	m, err := New("lenet5", "mnist")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(filepath.Join(dir, CheckpointFile)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name string
		ctx  context.Context
		edit func(*PruneConfig)
		want string
	}{
		{"used folder", context.Background(), func(c *PruneConfig) { c.Dir = dir }, "holds a run"},
		{"resume without a run", context.Background(), func(c *PruneConfig) { c.Dir, c.Resume = dir, true }, "holds no pruning run"},
		{"big split", context.Background(), func(c *PruneConfig) { c.ValSplit = 5000 }, "ValSplit 5000"},
		{"bad method", context.Background(), func(c *PruneConfig) { c.Method = "magic" }, "magic"},
		{"distill without Dir", context.Background(), func(c *PruneConfig) { c.Distill, c.DistillTemp, c.DistillAlpha = true, 4, 0.5 }, "Distill"},
		{"cancelled", ctx, func(*PruneConfig) {}, "context canceled"},
	} {
		cfg := smallConfig(trainSet, testSet, "")
		c.edit(&cfg)
		_, err := Prune(c.ctx, m, cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestOpenONNX exports LeNet-5 to ONNX (package export/onnx), opens the
// file and checks its predictions against the network it came from.
func TestOpenONNX(t *testing.T) {
	_, testSet := smallMNIST(t)
	m, err := New("lenet5", "mnist")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "lenet5.onnx")
	if err := onnxexport.ExportFile(path, m.Model, onnxexport.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, WithArch("lenet5")); err == nil || !strings.Contains(err.Error(), "ONNX") {
		t.Errorf("Open(ONNX, WithArch): error %v, want one saying ONNX brings its network", err)
	}
	o, err := Open(path, WithDataset("mnist"))
	if err != nil {
		t.Fatal(err)
	}
	if o.Model.Arch != models.GraphArch || o.Model.Classes != 10 || len(o.Info.Mean) != 1 {
		t.Fatalf("opened %s with %d classes and mean %v, want an imported graph of 10 classes with MNIST's normalisation", o.Model.Arch, o.Model.Classes, o.Info.Mean)
	}
	imgs := [][]uint8{testSet.Image(0), testSet.Image(1), testSet.Image(2)}
	want := predict(t, m, imgs)
	got := predict(t, o, imgs)
	for i := range want {
		for j := range want[i].Probs {
			if math.Abs(got[i].Probs[j]-want[i].Probs[j]) > 1e-4 {
				t.Fatalf("image %d class %d: %g from the ONNX file, %g from the network", i, j, got[i].Probs[j], want[i].Probs[j])
			}
		}
	}
}

func predict(t *testing.T, m *Model, imgs [][]uint8) []Prediction {
	t.Helper()
	c, err := Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Predict(imgs...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPredictImages checks that a decoded grey image classifies as its
// raw pixels do, and that a wrong size is refused.
func TestPredictImages(t *testing.T) {
	_, testSet := smallMNIST(t)
	m, err := New("lenet5", "mnist")
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	copy(img.Pix, testSet.Image(0))
	c, err := Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.PredictImages(img)
	if err != nil {
		t.Fatal(err)
	}
	want := predict(t, m, [][]uint8{testSet.Image(0)})
	if !slices.Equal(got[0].Probs, want[0].Probs) {
		t.Fatalf("image.Image: %v, raw pixels: %v", got[0].Probs, want[0].Probs)
	}
	if _, err := c.PredictImages(image.NewGray(image.Rect(0, 0, 32, 32))); err == nil || !strings.Contains(err.Error(), "32x32") {
		t.Errorf("PredictImages on 32x32: error %v", err)
	}
}
