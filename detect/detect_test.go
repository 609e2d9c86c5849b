package detect

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

func TestNewNeedsGlobalPooling(t *testing.T) {
	m, _ := models.New("lenet5", 0, 1)
	if _, err := New(m, 10, 16, 1); err == nil {
		t.Error("a detector on LeNet-5 (no global pooling) was built")
	}
}

// TestTinyEndToEnd trains a detector on a masked ResNet-20 for one epoch
// on a few 32x32 canvases: the pruned backbone weights must stay zero, the
// loss must fall, the compiled executor must agree with the layers, and
// evaluation must give scores in [0, 1].
func TestTinyEndToEnd(t *testing.T) {
	start := time.Now()
	m, err := models.New("resnet20", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Prune every other input channel of every prunable conv.
	for _, p := range m.PrunableLayers() {
		n, c := p.MaskShape()
		mask := make([]float32, n*c)
		for i := range mask {
			if (i/c+i%c)%2 == 0 {
				mask[i] = 1
			}
		}
		if err := p.SetMask(mask); err != nil {
			t.Fatal(err)
		}
	}
	d, err := New(m, 10, 16, 1)
	if err != nil {
		t.Fatal(err)
	}
	if d.Stride != 4 || d.Features != 64 {
		t.Fatalf("stride %d, features %d; want 4, 64", d.Stride, d.Features)
	}
	gen := DefaultGenConfig(48, 1)
	gen.Size, gen.MinScale, gen.MaxScale, gen.MaxObjects = 32, 12, 20, 2
	set, err := Generate(toySource(40), gen)
	if err != nil {
		t.Fatal(err)
	}
	cfg := TrainConfig{Epochs: 3, Batch: 8, LR: 0.01, Momentum: 0.9, WeightDecay: 1e-4, Weights: DefaultWeights, Seed: 1}
	hist, err := Train(context.Background(), d, set, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || !(hist[2].Loss.Total < hist[0].Loss.Total) {
		t.Errorf("loss did not fall: %+v", hist)
	}
	for _, p := range m.PrunableLayers() {
		w, mask := p.Weight().Value.Data, p.Mask()
		kk := len(w) / len(mask)
		for i, v := range w {
			if mask[i/kk] == 0 && v != 0 {
				t.Fatalf("%s: pruned weight %d is %g after training", p.Name(), i, v)
			}
		}
	}
	met, err := EvaluateSet(d, set)
	if err != nil {
		t.Fatal(err)
	}
	if met.Images != 48 || !(met.AP50 >= 0 && met.AP50 <= 1 && met.AP <= met.AP50) {
		t.Errorf("metrics %+v", met)
	}

	// The compiled executor computes what the layers compute.
	x, _ := set.Batch([]int{0, 1, 2})
	want, err := d.Net.Forward(nn.NewCtx(false), x.Clone())
	if err != nil {
		t.Fatal(err)
	}
	want = want.Clone()
	cn, err := compile.Compile(d.Net, []int{3, 32, 32}, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := cn.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(got.Shape, want.Shape) {
		t.Fatalf("compiled output %v, want %v", got.Shape, want.Shape)
	}
	for i := range want.Data {
		if math.Abs(float64(got.Data[i]-want.Data[i])) > 1e-3*(1+math.Abs(float64(want.Data[i]))) {
			t.Fatalf("compiled output %d: %g, layers %g", i, got.Data[i], want.Data[i])
		}
	}
	for _, f := range []func() (float64, error){
		func() (float64, error) { return Speed(d, set, 4, 2) },
		func() (float64, error) { return CompiledSpeed(d, set, 4, 2, compile.Options{}) },
	} {
		if s, err := f(); err != nil || !(s > 0) {
			t.Errorf("speed %g, %v", s, err)
		}
	}
	if el := time.Since(start); el > 20*time.Second {
		t.Errorf("took %v, want < 20s", el)
	}
}
