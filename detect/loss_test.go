package detect

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sgcnn/sgcnn/nn/nntest"
	"github.com/sgcnn/sgcnn/tensor"
)

func TestGaussianRadius(t *testing.T) {
	// CenterNet's gaussian_radius((10, 10), 0.7) by hand: the third case,
	// (-28 + sqrt(28^2 + 4*2.8*30)) / 2 = 2.7332.
	if r := GaussianRadius(10, 10, 0.7); math.Abs(r-2.73320) > 1e-4 {
		t.Errorf("radius %g, want 2.7332", r)
	}
}

func TestMakeTargets(t *testing.T) {
	objs := [][]Object{{{Box: Box{X0: 10, Y0: 20, X1: 30, Y1: 36}, Class: 3}}, {}}
	tg := MakeTargets(objs, 5, 16, 16, 4)
	if len(tg.Centres) != 1 {
		t.Fatalf("%d centres", len(tg.Centres))
	}
	c := tg.Centres[0]
	// Centre (20, 28) px = (5, 7) cells exactly; size 5 x 4 cells.
	if c.X != 5 || c.Y != 7 || c.OffX != 0 || c.OffY != 0 || c.W != 5 || c.H != 4 || c.Class != 3 || c.Item != 0 {
		t.Errorf("centre %+v", c)
	}
	plane := tg.Heat[3*256 : 4*256]
	if plane[7*16+5] != 1 {
		t.Errorf("peak %g, want 1", plane[7*16+5])
	}
	ones := 0
	for _, v := range tg.Heat {
		if v == 1 {
			ones++
		}
	}
	if ones != 1 {
		t.Errorf("%d cells are 1, want 1", ones)
	}
	if v := plane[7*16+6]; !(v > 0 && v < 1) {
		t.Errorf("neighbour %g, want in (0, 1)", v)
	}
}

// TestFocalKnownValues: at z = 0, p = 1/2, both the positive and the
// negative (Y = 0) terms are 1/4 * log 2.
func TestFocalKnownValues(t *testing.T) {
	want := 0.25 * math.Ln2
	for _, y := range []float64{1, 0} {
		if l, _ := focal(0, y); math.Abs(l-want) > 1e-12 {
			t.Errorf("y=%g: loss %g, want %g", y, l, want)
		}
	}
	if l, _ := focal(0, 0.5); math.Abs(l-want/16) > 1e-12 {
		t.Errorf("y=0.5: loss %g, want %g", l, want/16)
	}
	// Far from the target the loss stays finite.
	for _, z := range []float64{-80, 80} {
		for _, y := range []float64{0, 1} {
			if l, d := focal(z, y); math.IsNaN(l) || math.IsInf(l, 0) || math.IsNaN(d) {
				t.Errorf("focal(%g, %g) = %g, %g", z, y, l, d)
			}
		}
	}
}

// TestLossGradient checks the analytic gradient of Loss against central
// differences over every output element.
func TestLossGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	objs := [][]Object{
		{{Box: Box{X0: 3, Y0: 5, X1: 20, Y1: 19}, Class: 1}, {Box: Box{X0: 15, Y0: 2, X1: 31, Y1: 14}, Class: 0}},
		{{Box: Box{X0: 9, Y0: 9, X1: 23, Y1: 29}, Class: 2}},
	}
	const k, h, w = 3, 8, 8
	tg := MakeTargets(objs, k, h, w, 4)
	out := nntest.Randn(rng, 1.5, 2, k+extraChannels, h, w)
	for _, c := range tg.Centres { // keep the L1 terms away from their kinks
		for ch, v := range []float64{c.W, c.H, c.OffX, c.OffY} {
			i := ((c.Item*(k+extraChannels)+k+ch)*h+c.Y)*w + c.X
			out.Data[i] = float32(v) + 0.3*float32(1-2*(ch%2))
		}
	}
	wts := Weights{Size: 0.1, Offset: 1}
	nntest.CheckGradients(t, "detect loss", nntest.Target{
		Names:  []string{"out"},
		Inputs: []*tensor.Tensor{out},
		Loss: func() (float64, error) {
			lp, _, err := Loss(out, tg, wts, nil)
			return lp.Total, err
		},
		Grad: func() ([]*tensor.Tensor, error) {
			_, g, err := Loss(out, tg, wts, nil)
			return []*tensor.Tensor{g}, err
		},
	}, nntest.GradOptions{Eps: 1e-3, Tol: nntest.Tol{Rtol: 1e-3, Atol: 1e-5}})
	if _, _, err := Loss(tensor.New(2, k, h, w), tg, wts, nil); err == nil {
		t.Error("an output without the box channels was accepted")
	}
}
