package optim

import (
	"math"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

func param(w, g []float32, decay bool) *nn.Param {
	return &nn.Param{Name: "p", Value: &tensor.Tensor{Shape: []int{len(w)}, Data: w}, Grad: &tensor.Tensor{Shape: []int{len(g)}, Data: g}, Decay: decay}
}

// TestSGDMatchesTorch checks two steps against torch.optim.SGD(lr=0.1,
// momentum=0.9, weight_decay=0.01) computed by hand from its update rule:
// v1 = g + wd*w0; w1 = w0 - lr*v1; v2 = 0.9*v1 + g + wd*w1; w2 = w1 - lr*v2.
func TestSGDMatchesTorch(t *testing.T) {
	p := param([]float32{1, -2}, []float32{0.5, 0.25}, true)
	s := NewSGD([]*nn.Param{p}, 0.1, 0.9, 0.01, false)
	for range 2 {
		if err := s.Step(); err != nil {
			t.Fatal(err)
		}
	}
	want := func(w0, g float64) float64 {
		v1 := g + 0.01*w0
		w1 := w0 - 0.1*v1
		v2 := 0.9*v1 + g + 0.01*w1
		return w1 - 0.1*v2
	}
	for i, w0 := range []float64{1, -2} {
		g := []float64{0.5, 0.25}[i]
		if got := float64(p.Value.Data[i]); math.Abs(got-want(w0, g)) > 1e-6 {
			t.Errorf("w[%d] = %v, want %v", i, got, want(w0, g))
		}
	}
}

func TestSGDKeepsMaskedWeightsZero(t *testing.T) {
	// 2 filters x 1 channel x 2 kernel values; filter 1 pruned.
	p := param([]float32{1, 1, 0, 0}, []float32{0.1, 0.1, 0, 0}, true)
	p.Mask = []float32{1, 0}
	s := NewSGD([]*nn.Param{p}, 0.1, 0.9, 0.1, true)
	// A stray gradient on a masked weight must not move it either.
	p.Grad.Data[2] = 5
	for range 3 {
		if err := s.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if p.Value.Data[2] != 0 || p.Value.Data[3] != 0 {
		t.Fatalf("masked weights moved: %v", p.Value.Data)
	}
	if p.Value.Data[0] == 1 {
		t.Fatalf("unmasked weights did not move: %v", p.Value.Data)
	}
}

func TestSGDRejectsNaN(t *testing.T) {
	p := param([]float32{1}, []float32{float32(math.NaN())}, false)
	p.Name = "layer3.2.conv1.weight"
	err := NewSGD([]*nn.Param{p}, 0.1, 0, 0, false).Step()
	if err == nil || p.Value.Data[0] != 1 {
		t.Fatalf("got err %v, w %v; want an error and an untouched weight", err, p.Value.Data)
	}
	if want := "layer3.2.conv1.weight"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name %s", err, want)
	}
}

func TestSchedules(t *testing.T) {
	cases := []struct {
		spec  string
		epoch int
		want  float64
	}{
		{"constant", 50, 0.1},
		{"step:30", 29, 0.1},
		{"step:30", 30, 0.01},
		{"step:30:0.5", 61, 0.025},
		{"multistep:100,150", 99, 0.1},
		{"multistep:100,150", 100, 0.01},
		{"multistep:100,150", 150, 0.001},
		{"cosine", 0, 0.1},
		{"cosine", 100, 0.05},
		{"cosine", 200, 0},
	}
	for _, c := range cases {
		s, err := Parse(c.spec, 0.1, 200)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.LR(c.epoch); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s at epoch %d: %g, want %g", c.spec, c.epoch, got, c.want)
		}
	}
	for _, bad := range []string{"", "step", "step:0", "multistep:a", "cosine:3", "linear"} {
		if _, err := Parse(bad, 0.1, 10); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	if _, err := Parse("constant", -1, 10); err == nil {
		t.Error("negative rate accepted")
	}
}

// TestLRAt checks the fractional-epoch rates: cosine against PyTorch's
// CosineAnnealingLR(T_max=4) stepped per iteration at 0.1 (iterations 1
// and 3 of 4, i.e. epochs 0.25 and 0.75 of one epoch of 4 iterations, with
// T_max in epochs = 1), the others held through each epoch.
func TestLRAt(t *testing.T) {
	cases := []struct {
		spec string
		at   float64
		want float64
	}{
		{"cosine", 0.25, 0.08535533905932738}, // torch, T_max 4, after 1 step
		{"cosine", 0.75, 0.014644660940672627},
		{"constant", 0.6, 0.1},
		{"step:1", 0.99, 0.1},
		{"step:1", 1.01, 0.01},
		{"multistep:1", 0.5, 0.1},
		{"multistep:1", 1.5, 0.01},
	}
	for _, c := range cases {
		s, err := Parse(c.spec, 0.1, 1)
		if err != nil {
			t.Fatal(err)
		}
		cs, ok := s.(Continuous)
		if !ok {
			t.Fatalf("%s: no LRAt", c.spec)
		}
		if got := cs.LRAt(c.at); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s at %g: %.17g, want %.17g", c.spec, c.at, got, c.want)
		}
		if got, want := cs.LRAt(1), s.LR(1); got != want {
			t.Errorf("%s: LRAt(1) %g, LR(1) %g", c.spec, got, want)
		}
	}
}
