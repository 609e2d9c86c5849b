package sgcnn

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sgcnn/sgcnn/budget"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/pipeline"
	"github.com/sgcnn/sgcnn/selfgroup"
	"github.com/sgcnn/sgcnn/train"
)

// imageFolderFixture writes an ImageNet-style folder (train/ and val/)
// of w x h PNGs in the classes r, g and b, whose brightest channel is the
// class: perClass[0] training and perClass[1] evaluation images each.
func imageFolderFixture(t *testing.T, perClass [2]int, w, h int) string {
	t.Helper()
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	for s, split := range []string{"train", "val"} {
		for c, name := range []string{"r", "g", "b"} {
			dir := filepath.Join(root, split, name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for i := range perClass[s] {
				img := image.NewNRGBA(image.Rect(0, 0, w, h))
				for y := range h {
					for x := range w {
						v := [3]uint8{uint8(rng.IntN(30)), uint8(rng.IntN(30)), uint8(rng.IntN(30))}
						v[c] += uint8(60 + (x+y)%60)
						img.SetNRGBA(x, y, color.NRGBA{v[0], v[1], v[2], 255})
					}
				}
				f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%02d.png", i)))
				if err != nil {
					t.Fatal(err)
				}
				if err := png.Encode(f, img); err != nil {
					t.Fatal(err)
				}
				f.Close()
			}
		}
	}
	return root
}

// folderConfig is one self-grouping step to Conv-50 with Taylor importance
// (it reads training batches) and one global epoch of a 3-class ResNet-20
// on the folder at root.
func folderConfig(root, dir string) PruneConfig {
	cfg := PruneConfig{Config: pipeline.DefaultConfig(selfgroup.G, 50), Dir: dir, ValSplitCapped: true}
	cfg.Step, cfg.GlobalEpochs, cfg.GlobalLR, cfg.GlobalSchedule = 50, 1, 0.02, "constant"
	cfg.Importance, cfg.TaylorBatches = "taylor", 2
	cfg.Batch, cfg.Augment, cfg.Threads = 8, false, 2
	cfg.Dataset, cfg.DataDir = ImageFolderDataset, root
	return cfg
}

// newFolderModel is a fresh 3-class ResNet-20 for 32 x 32 crops.
func newFolderModel(t *testing.T) *Model {
	t.Helper()
	mm, err := models.New("resnet20", 3, 11)
	if err != nil {
		t.Fatal(err)
	}
	return &Model{Model: mm}
}

// checkFolderRun checks a finished run on the folder at root: its report
// (one step, one epoch; on the val folder, or with split images held out
// of train/ on them and the val folder once at the end), its checkpoint,
// every pruned connection zero, and the val folder's accuracy recomputed
// here in Go from the checkpoint equal to the report's.
func checkFolderRun(t *testing.T, root string, res *Result, split int) {
	t.Helper()
	rep := res.Report
	if rep.Dataset != ImageFolderDataset || len(rep.Steps) != 1 || len(rep.Epochs) != 1 || rep.Final == nil {
		t.Fatalf("report: dataset %q, %d steps, %d epochs, final %v", rep.Dataset, len(rep.Steps), len(rep.Epochs), rep.Final)
	}
	want := rep.Final.AccTuned
	if split == 0 && (rep.Validation != nil || rep.OnValidation() || rep.FinalTest != nil) {
		t.Errorf("a folder run without a split reports on %q, split %v, final test %v; want the val folder only", rep.Eval, rep.Validation, rep.FinalTest)
	}
	if split > 0 {
		if v := rep.Validation; v == nil || v.Images != split || v.Of != 24 || !rep.OnValidation() || rep.FinalTest == nil {
			t.Fatalf("a run holding out %d of 24 training images reports on %q, split %+v, final test %v", split, rep.Eval, v, rep.FinalTest)
		}
		want = *rep.FinalTest
	}
	ck, err := ReadCheckpoint(res.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	m := ck.Model.Model
	pruned := 0
	for _, p := range m.PrunableLayers() {
		mask, w := p.Mask(), p.Weight().Value.Data
		if mask == nil {
			t.Fatalf("%s: no mask after the step", p.Name())
		}
		k := len(w) / len(mask)
		for i, on := range mask {
			if on != 0 {
				continue
			}
			pruned++
			for _, v := range w[i*k : (i+1)*k] {
				if v != 0 {
					t.Fatalf("%s: pruned connection %d holds %g", p.Name(), i, v)
				}
			}
		}
	}
	if pruned == 0 {
		t.Fatal("nothing was pruned")
	}
	val, err := data.LoadImageFolder(filepath.Join(root, "val"), 32)
	if err != nil {
		t.Fatal(err)
	}
	l, err := data.NewLoader(val, data.Config{BatchSize: 5, Norm: data.ImageNetNorm})
	if err != nil {
		t.Fatal(err)
	}
	src := train.FromLoader(context.Background(), l)
	got, err := train.Evaluate(m.Net, func(y func(train.Batch) bool) error { return src(0, y) })
	if err != nil {
		t.Fatal(err)
	}
	if got.N != val.Len() || got.Top1 != want {
		t.Errorf("Go evaluates the checkpoint at %.4f%% on %d images; the report says %.4f%%", got.Top1, got.N, want)
	}
	if _, err := modelfile.Load(res.Checkpoint, "resnet20"); err != nil {
		t.Fatal(err)
	}
}

// TestPruneImageFolder runs one pruning step and one epoch on an image
// folder under the Go trainer, stops a second run after its step and
// resumes it: both end with the same report, the same weights and the
// report's accuracy recomputed from the checkpoint.
func TestPruneImageFolder(t *testing.T) {
	root := imageFolderFixture(t, [2]int{8, 4}, 40, 36)
	whole, err := Prune(context.Background(), newFolderModel(t), folderConfig(root, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	checkFolderRun(t, root, whole, 0)

	// The same run, stopped after its step's checkpoint, then resumed.
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := folderConfig(root, dir)
	cfg.Log = cancelOn{cancel: cancel, at: "global"}
	if _, err := Prune(ctx, newFolderModel(t), cfg); !errors.Is(err, context.Canceled) {
		t.Fatalf("the stopped run: %v, want context.Canceled", err)
	}
	resumed, err := Prune(context.Background(), &Model{}, PruneConfig{Dir: dir, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	checkFolderRun(t, root, resumed, 0)
	if a, b := whole.Report.Final.AccTuned, resumed.Report.Final.AccTuned; a != b {
		t.Errorf("resumed run ends at %g%%, the whole run at %g%%", b, a)
	}
	a, _ := ReadCheckpoint(whole.Checkpoint)
	b, _ := ReadCheckpoint(resumed.Checkpoint)
	if d := maxWeightDiff(a.Model.Model, b.Model.Model); d != 0 {
		t.Errorf("resumed weights differ from the whole run's by up to %g", d)
	}

	// A validation split asked for: 6 training images held out.
	cfg = folderConfig(root, t.TempDir())
	cfg.ValSplit, cfg.ValSplitCapped = 6, false
	split, err := Prune(context.Background(), newFolderModel(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkFolderRun(t, root, split, 6)

	// The split and the training images left are disjoint and make up
	// train/, the same on every opening (a resumed run holds out the same).
	fs, err := openImageFolders(newFolderModel(t), root, 0, 0, 6)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := openImageFolders(newFolderModel(t), root, 0, 0, 6)
	seen := map[string]bool{}
	for _, f := range append(slices.Clone(fs.train.Files), fs.val.Files...) {
		seen[f] = true
	}
	if fs.train.Len() != 18 || fs.val.Len() != 6 || len(seen) != 24 || !slices.Equal(fs.val.Files, again.val.Files) || fs.val.RandomResized {
		t.Errorf("split %d + %d images, %d distinct, stable %v, random crops %v", fs.train.Len(), fs.val.Len(), len(seen),
			slices.Equal(fs.val.Files, again.val.Files), fs.val.RandomResized)
	}
}

// maxWeightDiff is the largest difference between two networks' tensors.
func maxWeightDiff(a, b *models.Model) float64 {
	na, ta := models.StateDict(a)
	_, tb := models.StateDict(b)
	var d float64
	for _, n := range na {
		for i, v := range ta[n].Data {
			d = max(d, float64(v-tb[n].Data[i]), float64(tb[n].Data[i]-v))
		}
	}
	return d
}

// cancelOn cancels when a progress line contains at.
type cancelOn struct {
	cancel func()
	at     string
}

func (c cancelOn) Write(p []byte) (int, error) {
	if strings.Contains(string(p), c.at) {
		c.cancel()
	}
	return len(p), nil
}

// TestPruneImageFolderTorch is TestPruneImageFolder's step and epoch with
// the epoch on PyTorch DDP (two gloo processes reading the folder with
// torchvision): the pruned connections come back zero and Go's accuracy
// of the checkpoint is the report's.
func TestPruneImageFolderTorch(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import torch, torchvision").Run(); err != nil {
		t.Skip("PyTorch or torchvision not installed")
	}
	if testing.Short() {
		t.Skip("starts torchrun")
	}
	root := imageFolderFixture(t, [2]int{8, 4}, 40, 36)
	cfg := folderConfig(root, t.TempDir())
	cfg.Engine.Trainer, cfg.Engine.NProc = "torch", 2
	cfg.ValSplit, cfg.ValSplitCapped = 6, false // held out of train/ by both trainers
	var log strings.Builder
	cfg.Log = &syncWriter{w: &log}
	res, err := Prune(context.Background(), newFolderModel(t), cfg)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	checkFolderRun(t, root, res, 6)
	if !strings.Contains(log.String(), "PyTorch DDP") || !strings.Contains(log.String(), "images 18 ") {
		t.Errorf("no torch phase on the 18 images left in train/ in the log:\n%s", log.String())
	}
}

// syncWriter serialises writes from the trainer's output readers.
type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestPruneImageFolderRefuses checks the settings a folder run refuses
// before any work, each naming its setting.
func TestPruneImageFolderRefuses(t *testing.T) {
	root := imageFolderFixture(t, [2]int{1, 1}, 36, 36)
	for _, c := range []struct {
		set   func(*PruneConfig)
		field string
	}{
		{func(c *PruneConfig) { c.ValSplit, c.ValSplitCapped = 3, false }, "ValSplit"},                                          // all 3 training images
		{func(c *PruneConfig) { c.ValSplit, c.ValSplitCapped, c.DataDir = 1, false, filepath.Join(root, "train") }, "ValSplit"}, // no train/ and val/
		{func(c *PruneConfig) { c.TrainLimit = 2 }, "TrainLimit"},
		{func(c *PruneConfig) { c.Shift = 2 }, "Shift"},
		{func(c *PruneConfig) { c.DataDir = "" }, "DataDir"},
		{func(c *PruneConfig) {
			b, _ := budget.ParseBudget("flops=0.5")
			c.Budget = &BudgetRun{Ask: &BudgetAsk{Budget: b}}
		}, "Budget"},
	} {
		cfg := folderConfig(root, t.TempDir())
		c.set(&cfg)
		_, err := Prune(context.Background(), newFolderModel(t), cfg)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != c.field {
			t.Errorf("%s: got %v, want a ConfigError naming it", c.field, err)
		}
	}
	mm, err := models.New("resnet20", 5, 1) // 5 outputs, 3 class folders
	if err != nil {
		t.Fatal(err)
	}
	_, err = Prune(context.Background(), &Model{Model: mm}, folderConfig(root, t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "3 class folders") {
		t.Errorf("5 outputs on 3 classes: %v", err)
	}
}
