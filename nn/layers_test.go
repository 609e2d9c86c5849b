package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/nn/nntest"
	"github.com/sgcnn/sgcnn/tensor"
)

// Dropout has no PyTorch fixture (the random streams differ): check its
// definition directly.
func TestDropout(t *testing.T) {
	const p = 0.3
	d := nn.NewDropout("drop", p)
	x := nntest.Randn(rng(1), 1, 100, 100)
	ctx := nn.NewCtx(false)
	y, err := d.Forward(ctx, x)
	if err != nil || y != x {
		t.Fatalf("eval: err %v, identity %v", err, y == x)
	}
	if dx, err := d.Backward(ctx, x); err != nil || dx != x {
		t.Fatalf("eval backward: err %v, identity %v", err, dx == x)
	}

	ctx = nn.NewCtx(true)
	ctx.Rand = rand.New(rand.NewPCG(3, 4))
	y, err = d.Forward(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	zeros := 0
	for i, v := range y.Data {
		switch {
		case v == 0:
			zeros++
		case v != x.Data[i]/(1-p) && math.Abs(float64(v-x.Data[i]/(1-p))) > 1e-6*math.Abs(float64(v)):
			t.Fatalf("y[%d] = %g, want 0 or x/(1-p) = %g", i, v, x.Data[i]/(1-p))
		}
	}
	if frac := float64(zeros) / float64(x.Len()); math.Abs(frac-p) > 0.02 {
		t.Errorf("dropped fraction %.4f, want %.2f +- 0.02", frac, p)
	}
	keep := make([]bool, y.Len())
	for i, v := range y.Data {
		keep[i] = v != 0
	}
	dy := nntest.Randn(rng(2), 1, 100, 100)
	dx, err := d.Backward(ctx, dy)
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range dx.Data {
		want := float32(0)
		if keep[i] {
			want = dy.Data[i] / (1 - p)
		}
		if math.Abs(float64(g-want)) > 1e-6*math.Abs(float64(want)) {
			t.Fatalf("dx[%d] = %g, want %g", i, g, want)
		}
	}

	// The same seed gives the same mask; a nil Rand gets a fixed seed.
	a, b := nn.NewCtx(true), nn.NewCtx(true)
	ya, _ := nn.NewDropout("a", p).Forward(a, x)
	yb, _ := nn.NewDropout("b", p).Forward(b, x)
	nntest.Compare(t, "fixed-seed dropout", ya, yb, nntest.Tol{})
}

// TestReuseAcrossBatchSizes runs a network on batches of 4, 3 and 4
// items, forward and backward, and compares each pass with a fresh copy
// of the network: reused output buffers must be resized correctly (an
// evaluation set's last batch is smaller).
func TestReuseAcrossBatchSizes(t *testing.T) {
	forThreads(t, func(t *testing.T) {
		build := func() nn.Layer {
			r := rng(21)
			return nn.NewSequential("",
				smallResNet(r),
				nn.NewReLU("relu"),
				nn.NewDropout("drop", 0))
		}
		reused := build()
		r := rng(22)
		for _, b := range []int{4, 3, 1, 4} {
			x := nntest.Randn(r, 1, b, 3, 8, 8)
			labels := make([]int, b)
			for i := range labels {
				labels[i] = r.IntN(10)
			}
			var outs [2][]*tensor.Tensor
			for k, net := range []nn.Layer{reused, build()} {
				nn.ZeroGrad(net)
				ctx := nn.NewCtx(true)
				y, err := net.Forward(ctx, x.Clone())
				if err != nil {
					t.Fatalf("batch %d: %v", b, err)
				}
				outs[k] = append(outs[k], y.Clone())
				_, dl, err := nn.SoftmaxCrossEntropy(y, labels, nil)
				if err != nil {
					t.Fatal(err)
				}
				dx, err := net.Backward(ctx, dl)
				if err != nil {
					t.Fatalf("batch %d: %v", b, err)
				}
				outs[k] = append(outs[k], dx.Clone())
				for _, p := range nn.AllParams(net) {
					outs[k] = append(outs[k], p.Grad.Clone())
				}
			}
			// Only the running statistics differ between the two
			// networks, and training mode does not read them.
			for i := range outs[0] {
				nntest.Compare(t, fmt.Sprintf("batch %d: reused vs fresh, output %d", b, i), outs[0][i], outs[1][i], fwdTol)
			}
		}
	})
}
