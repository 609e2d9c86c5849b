package train

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/tensor"
)

// blobs is a source of nb batches of 2-D points in two classes separated
// along the first axis, shaped [B 2 1 1] so conv-free nets can take them.
func blobs(nb, bs int, seed uint64) Source {
	rng := rand.New(rand.NewPCG(seed, 1))
	var bs_ []Batch
	for range nb {
		x := tensor.New(bs, 2)
		y := make([]int, bs)
		for i := range bs {
			y[i] = rng.IntN(2)
			x.Data[2*i] = float32(2*y[i]-1) + 0.3*float32(rng.NormFloat64())
			x.Data[2*i+1] = float32(rng.NormFloat64())
		}
		bs_ = append(bs_, Batch{X: x, Y: y})
	}
	return func(_ int, yield func(Batch) bool) error {
		for _, b := range bs_ {
			if !yield(b) {
				return nil
			}
		}
		return nil
	}
}

func linearNet(seed uint64) nn.Layer {
	return nn.NewSequential("net", nn.NewLinear("fc", 2, 2, true, rand.New(rand.NewPCG(seed, 2))))
}

func TestFitLearns(t *testing.T) {
	net := linearNet(1)
	opt := optim.NewSGD(nn.AllParams(net), 0.1, 0.9, 0, false)
	hist, err := Fit(NewStepper(net, opt, nn.NewCtx(true)), Plan{Epochs: 5, Schedule: optim.Constant{Base: 0.1},
		TrainLen: 320, Train: blobs(10, 32, 1), Test: blobs(4, 50, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 5 {
		t.Fatalf("%d epochs recorded, want 5", len(hist))
	}
	if hist[4].TrainLoss >= hist[0].TrainLoss || hist[4].TestTop1 < 95 {
		t.Fatalf("did not learn: first %+v, last %+v", hist[0], hist[4])
	}
}

func TestEvaluateCountsTopK(t *testing.T) {
	// Identity "network": the inputs are the logits.
	id := nn.NewSequential("id")
	x := &tensor.Tensor{Shape: []int{3, 3}, Data: []float32{
		3, 2, 1, // label 0: top-1
		1, 3, 2, // label 2: top-2
		3, 2, 1, // label 2: top-3
	}}
	r, err := Evaluate(id, func(yield func(Batch) bool) error {
		yield(Batch{X: x, Y: []int{0, 2, 2}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.Top1-100.0/3) > 1e-9 || r.Top5 != 100 || r.N != 3 {
		t.Fatalf("got %+v", r)
	}
}

// TestStepStopsOnNaN checks that a non-finite weight stops training with
// an error naming the layer, and that no parameter is changed.
func TestStepStopsOnNaN(t *testing.T) {
	net := linearNet(3)
	fc := net.(*nn.Sequential).Layers[0].(*nn.Linear)
	fc.W.Value.Data[0] = float32(math.Inf(1))
	before := append([]float32(nil), fc.B.Value.Data...)
	s := NewStepper(net, optim.NewSGD(nn.AllParams(net), 0.1, 0, 0, false), nn.NewCtx(true))
	var b Batch
	_ = blobs(1, 8, 1)(0, func(x Batch) bool { b = x; return false })
	_, _, err := s.Step(b)
	var nf *nn.NonFiniteError
	if !errors.As(err, &nf) || nf.Where != "fc" {
		t.Fatalf("err %v, want a NonFiniteError naming fc", err)
	}
	for i, v := range fc.B.Value.Data {
		if v != before[i] {
			t.Fatal("bias changed by a diverged step")
		}
	}
	if _, _, err := s.Step(Batch{}); err == nil {
		t.Fatal("empty batch accepted")
	}
}

func TestLimit(t *testing.T) {
	n := 0
	_ = Limit(blobs(10, 32, 1), 70)(0, func(b Batch) bool { n += len(b.Y); return true })
	if n != 96 {
		t.Fatalf("Limit(70) over batches of 32 gave %d images, want 96 (3 batches)", n)
	}
	n = 0
	_ = Limit(blobs(10, 32, 1), 0)(0, func(b Batch) bool { n += len(b.Y); return true })
	if n != 320 {
		t.Fatalf("Limit(0) gave %d images, want all 320", n)
	}
}

// TestDistillFollowsTeacher trains on blobs with a teacher that always
// names the wrong class: with alpha 1 the student learns the teacher's
// answers (test top-1 against the true labels near 0), with alpha 0 the
// labels (near 100), so the teacher is really in the loss.
func TestDistillFollowsTeacher(t *testing.T) {
	liar := func(x *tensor.Tensor) (*tensor.Tensor, error) {
		out := tensor.New(x.Shape[0], 2)
		for i := range x.Shape[0] {
			if x.Data[2*i] > 0 { // class 1 by construction: say 0
				out.Data[2*i] = 3
			} else {
				out.Data[2*i+1] = 3
			}
		}
		return out, nil
	}
	for _, c := range []struct {
		alpha    float64
		min, max float64
	}{{1, 0, 10}, {0, 90, 100}} {
		net := linearNet(1)
		opt := optim.NewSGD(nn.AllParams(net), 0.1, 0.9, 0, false)
		s := NewStepper(net, opt, nn.NewCtx(true))
		s.Distill = &Distill{Teacher: liar, Temp: 2, Alpha: c.alpha}
		hist, err := Fit(s, Plan{Epochs: 5, Schedule: optim.Constant{Base: 0.1},
			TrainLen: 320, Train: blobs(10, 32, 1), Test: blobs(4, 50, 2)})
		if err != nil {
			t.Fatal(err)
		}
		if got := hist[4].TestTop1; got < c.min || got > c.max {
			t.Errorf("alpha %g: test top-1 %.1f%%, want in [%g, %g]", c.alpha, got, c.min, c.max)
		}
	}
	// A failing teacher stops the step with its error.
	net := linearNet(1)
	s := NewStepper(net, optim.NewSGD(nn.AllParams(net), 0.1, 0, 0, false), nn.NewCtx(true))
	s.Distill = &Distill{Teacher: func(*tensor.Tensor) (*tensor.Tensor, error) { return nil, errors.New("boom") }, Temp: 2, Alpha: 0.5}
	var err error
	_ = blobs(1, 4, 3)(0, func(b Batch) bool { _, _, err = s.Step(b); return false })
	if err == nil || !strings.Contains(err.Error(), "teacher: boom") {
		t.Errorf("failing teacher: err %v", err)
	}
}
