package nn_test

import (
	"math"
	"testing"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/nn/nntest"
	"github.com/sgcnn/sgcnn/tensor"
)

// TestDistillFixture compares the distillation loss and its gradient with
// PyTorch's (F.kl_div over log_softmax / softmax at temperature 4, alpha
// 0.9, plus the weighted cross-entropy).
func TestDistillFixture(t *testing.T) {
	f := nntest.LoadFixture(t, fixturePath("distill"))
	logits, teacher, labels := f.Get(t, "logits"), f.Get(t, "teacher"), f.Ints(t, "labels")
	temp, alpha := float64(f.Scalar(t, "temp")), float64(f.Scalar(t, "alpha"))
	loss, g, err := nn.DistillCrossEntropy(logits, teacher, labels, temp, float64(float32(alpha)), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := float64(f.Scalar(t, "loss"))
	if math.Abs(loss-want) > 1e-5*want {
		t.Errorf("loss %.8g, want %.8g", loss, want)
	}
	nntest.Compare(t, "dlogits", g, f.Get(t, "dlogits"), gradTol)
}

// TestDistillLimits: alpha 0 is the plain cross-entropy; alpha 1 with the
// teacher equal to the student has zero loss and zero gradient.
func TestDistillLimits(t *testing.T) {
	r := rng(5)
	logits := nntest.Randn(r, 3, 4, 6)
	teacher := nntest.Randn(r, 3, 4, 6)
	labels := []int{1, 0, 5, 3}
	ce, gce, err := nn.SoftmaxCrossEntropy(logits, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	kd, gkd, err := nn.DistillCrossEntropy(logits, teacher, labels, 4, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(kd-ce) > 1e-12 {
		t.Errorf("alpha 0: loss %g, cross-entropy %g", kd, ce)
	}
	nntest.Compare(t, "alpha 0 gradient", gkd, gce, nntest.Tol{})
	self, g, err := nn.DistillCrossEntropy(logits, logits.Clone(), labels, 2, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(self) > 1e-9 {
		t.Errorf("alpha 1, teacher = student: loss %g, want 0", self)
	}
	for i, v := range g.Data {
		if math.Abs(float64(v)) > 1e-7 {
			t.Fatalf("alpha 1, teacher = student: gradient[%d] = %g, want 0", i, v)
		}
	}
}

// TestDistillGradient checks the analytic gradient by finite differences
// at two temperatures.
func TestDistillGradient(t *testing.T) {
	r := rng(6)
	teacher := nntest.Randn(r, 2, 4, 6)
	labels := []int{0, 5, 2, 2}
	for _, temp := range []float64{1, 4} {
		logits := nntest.Randn(r, 2, 4, 6)
		tg := nntest.Target{Names: []string{"logits"}, Inputs: []*tensor.Tensor{logits},
			Loss: func() (float64, error) {
				l, _, err := nn.DistillCrossEntropy(logits, teacher, labels, temp, 0.7, nil)
				return l, err
			},
			Grad: func() ([]*tensor.Tensor, error) {
				_, g, err := nn.DistillCrossEntropy(logits, teacher, labels, temp, 0.7, nil)
				return []*tensor.Tensor{g}, err
			}}
		rep := nntest.CheckGradients(t, "distill", tg, nntest.GradOptions{Eps: 1e-3})
		if rep.Kinks > 0 || rep.Checked != 24 {
			t.Errorf("T %g: %d checked, %d kinks; want 24 and 0", temp, rep.Checked, rep.Kinks)
		}
	}
}

func TestDistillRejectsBadInput(t *testing.T) {
	logits, labels := tensor.New(2, 3), []int{0, 1}
	for _, c := range []struct {
		name        string
		teacher     *tensor.Tensor
		temp, alpha float64
	}{
		{"temperature 0", tensor.New(2, 3), 0, 0.5},
		{"alpha above 1", tensor.New(2, 3), 4, 1.5},
		{"alpha NaN", tensor.New(2, 3), 4, math.NaN()},
		{"teacher shape", tensor.New(2, 4), 4, 0.5},
		{"no teacher", nil, 4, 0.5},
	} {
		if _, _, err := nn.DistillCrossEntropy(logits, c.teacher, labels, c.temp, c.alpha, nil); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}
