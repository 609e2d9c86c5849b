package transfer

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// randomMasks gives every prunable layer of m a random mask keeping about
// half its connections (at least one per filter), and returns them by
// layer name.
func randomMasks(t *testing.T, m *models.Model, seed uint64) map[string][]float32 {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0))
	out := map[string][]float32{}
	for _, p := range nn.Prunables(m.Net) {
		n, c := p.MaskShape()
		mask := make([]float32, n*c)
		for i := range mask {
			if rng.IntN(2) == 0 || i%c == 0 {
				mask[i] = 1
			}
		}
		if err := p.SetMask(mask); err != nil {
			t.Fatal(err)
		}
		out[p.Name()] = slices.Clone(mask)
	}
	return out
}

// toyDataset is n random images of the given shape with labels in
// [0, classes).
func toyDataset(n, c, h, w, classes int, seed uint64) *data.Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	ds := &data.Dataset{Name: "toy", N: n, C: c, H: h, W: w, Pixels: make([]uint8, n*c*h*w), Labels: make([]int, n)}
	for i := range ds.Pixels {
		ds.Pixels[i] = uint8(rng.IntN(256))
	}
	for i := range ds.Labels {
		ds.Labels[i] = rng.IntN(classes)
	}
	for i := range classes {
		ds.Classes = append(ds.Classes, string(rune('a'+i)))
	}
	for range c {
		ds.Mean = append(ds.Mean, 0.5)
		ds.Std = append(ds.Std, 0.25)
	}
	return ds
}

func TestHeadNames(t *testing.T) {
	for arch, want := range map[string]string{"lenet5": "fc2", "resnet20": "linear", "vgg16": "classifier", "densenet40": "classifier"} {
		m, err := models.New(arch, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		h, err := Head(m)
		if err != nil {
			t.Fatal(err)
		}
		if h.Name() != want {
			t.Errorf("%s: head %q, want %q", arch, h.Name(), want)
		}
	}
}

func TestReplaceHeadKeepsMasks(t *testing.T) {
	for _, arch := range []string{"lenet5", "resnet20"} {
		t.Run(arch, func(t *testing.T) {
			m, err := models.New(arch, 0, 1)
			if err != nil {
				t.Fatal(err)
			}
			masks := randomMasks(t, m, 3)
			old, _ := Head(m)
			head, err := ReplaceHead(m, 7, 5)
			if err != nil {
				t.Fatal(err)
			}
			if head == old || head.Name() != old.Name() || head.In != old.In || head.Out != 7 || m.Classes != 7 {
				t.Fatalf("new head %s %dx%d (classes %d), old %s %dx%d", head.Name(), head.In, head.Out, m.Classes, old.Name(), old.In, old.Out)
			}
			if head.Mask() != nil {
				t.Error("the new head carries a mask")
			}
			if h2, _ := Head(m); h2 != head {
				t.Error("Head does not find the new head in the network")
			}
			for _, p := range nn.Prunables(m.Net) {
				if p == nn.Prunable(head) {
					continue
				}
				if !slices.Equal(p.Mask(), masks[p.Name()]) {
					t.Errorf("mask of %s changed", p.Name())
				}
			}
			c, h, w := m.InputShape[0], m.InputShape[1], m.InputShape[2]
			y, err := m.Net.Forward(nn.NewCtx(false), tensor.New(2, c, h, w))
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(y.Shape, []int{2, 7}) {
				t.Errorf("output %v, want [2 7]", y.Shape)
			}
		})
	}
}

// TestFineTuneKeepsPrunedWeightsZero fine-tunes a masked LeNet-5 with a
// new head for a few batches: the pruned weights must stay exactly zero
// while the others move, and the result must survive a model file round
// trip with its new class count.
func TestFineTuneKeepsPrunedWeightsZero(t *testing.T) {
	m, err := models.New("lenet5", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	masks := randomMasks(t, m, 4)
	if _, err := ReplaceHead(m, 4, 2); err != nil {
		t.Fatal(err)
	}
	before := map[string][]float32{}
	for _, p := range nn.AllParams(m.Net) {
		before[p.Name] = slices.Clone(p.Value.Data)
	}
	trainSet, testSet := toyDataset(96, 1, 28, 28, 4, 1), toyDataset(40, 1, 28, 28, 4, 2)
	cfg := DefaultConfig()
	cfg.Epochs, cfg.Batch, cfg.LR, cfg.Milestones = 2, 32, 0.01, []int{1}
	res, err := Run(context.Background(), m, Data{Train: trainSet, Test: testSet, Norm: trainSet.Norm()}, cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.History) != 2 || res.Final.N != 40 || res.History[1].LR != 0.001 {
		t.Fatalf("result %+v", res)
	}
	for _, p := range nn.Prunables(m.Net) {
		w := p.Weight().Value.Data
		mask := masks[p.Name()]
		if p.Name() == "fc2" {
			if p.Mask() != nil {
				t.Error("fc2 got a mask")
			}
			continue
		}
		kk := len(w) / len(mask)
		moved := 0
		for i, v := range w {
			if mask[i/kk] == 0 && v != 0 {
				t.Fatalf("%s: pruned weight %d is %g after fine-tuning", p.Name(), i, v)
			}
			if mask[i/kk] == 1 && v != before[p.Name()+".weight"][i] {
				moved++
			}
		}
		if moved == 0 {
			t.Errorf("%s: no kept weight moved", p.Name())
		}
	}

	path := filepath.Join(t.TempDir(), "t.safetensors")
	if err := models.SaveFile(path, m, modelfile.Info{Dataset: "toy"}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := models.LoadFile(path, "lenet5")
	if err != nil {
		t.Fatal(err)
	}
	if f.Model.Classes != 4 {
		t.Fatalf("loaded classes %d, want 4", f.Model.Classes)
	}
	for _, p := range nn.Prunables(f.Model.Net) {
		if p.Name() != "fc2" && !slices.Equal(p.Mask(), masks[p.Name()]) {
			t.Errorf("loaded mask of %s differs", p.Name())
		}
	}
	x := tensor.New(3, 1, 28, 28)
	for i := range x.Data {
		x.Data[i] = float32(i%17) / 17
	}
	y1, _ := m.Net.Forward(nn.NewCtx(false), x.Clone())
	y1 = y1.Clone()
	y2, err := f.Model.Net.Forward(nn.NewCtx(false), x.Clone())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(y1.Data, y2.Data) {
		t.Error("the reloaded model computes other outputs")
	}
}

func TestFit(t *testing.T) {
	r20, _ := models.New("resnet20", 0, 1)
	lenet, _ := models.New("lenet5", 0, 1)
	grey := toyDataset(3, 1, 28, 28, 10, 1)
	got, err := Fit(r20, grey)
	if err != nil {
		t.Fatal(err)
	}
	if c, h, w := got.Dims(); c != 3 || h != 32 || w != 32 {
		t.Errorf("resnet20 data %dx%dx%d, want 3x32x32", c, h, w)
	}
	if got, err := Fit(lenet, grey); err != nil || got != grey {
		t.Errorf("lenet5: %v, %v; want the data set unchanged", got, err)
	}
	if _, err := Fit(lenet, toyDataset(1, 3, 32, 32, 10, 1)); err == nil {
		t.Error("lenet5 accepted 3x32x32 images")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	s := DefaultConfig().Schedule()
	for e, want := range map[int]float64{0: 1e-3, 6: 1e-3, 7: 1e-4, 13: 1e-4, 14: 1e-5, 20: 1e-5} {
		if got := s.LR(e); got < want*0.999 || got > want*1.001 {
			t.Errorf("epoch %d: lr %g, want %g", e, got, want)
		}
	}
	for _, c := range []func(*Config){
		func(c *Config) { c.Epochs = 0 },
		func(c *Config) { c.LR = 0 },
		func(c *Config) { c.Milestones = []int{7, 7} },
		func(c *Config) { c.Momentum = 1 },
	} {
		cfg := DefaultConfig()
		c(&cfg)
		if cfg.Validate() == nil {
			t.Errorf("%+v validated", cfg)
		}
	}
}
