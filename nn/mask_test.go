package nn_test

import (
	"testing"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/nn/nntest"
	"github.com/sgcnn/sgcnn/tensor"
)

// TestMaskedWeightsStayZero trains masked Conv2d and Linear layers for a
// few SGD steps (momentum and weight decay on) and checks that pruned
// weights get exactly zero gradient and stay exactly zero, while the kept
// ones move.
func TestMaskedWeightsStayZero(t *testing.T) {
	forThreads(t, func(t *testing.T) {
		r := rng(5)
		conv := nn.NewConv2d("conv", 3, 4, 3, 1, 1, true, r)
		fc := nn.NewLinear("fc", 4, 3, true, r)
		net := nn.NewSequential("", conv, nn.NewBatchNorm2d("bn", 4), nn.NewReLU("relu"), nn.NewGlobalAvgPool("gap"), fc)
		convMask := []float32{1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0} // filter 1 fully pruned
		fcMask := []float32{1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0, 1}
		if err := conv.SetMask(convMask); err != nil {
			t.Fatal(err)
		}
		if err := fc.SetMask(fcMask); err != nil {
			t.Fatal(err)
		}
		for _, p := range []nn.Prunable{conv, fc} {
			n, c := p.MaskShape()
			if len(p.Mask()) != n*c {
				t.Fatalf("%s: mask len %d, want %d", p.Name(), len(p.Mask()), n*c)
			}
		}
		start := map[*nn.Param][]float32{}
		for _, p := range nn.AllParams(net) {
			start[p] = append([]float32(nil), p.Value.Data...)
		}
		opt := &sgd{lr: 0.1, momentum: 0.9, wd: 1e-2}
		labels := []int{0, 2, 1, 2}
		for step := range 3 {
			nn.ZeroGrad(net)
			ctx := nn.NewCtx(true)
			logits, err := net.Forward(ctx, nntest.Randn(r, 1, 4, 3, 5, 5))
			if err != nil {
				t.Fatal(err)
			}
			_, dl, err := nn.SoftmaxCrossEntropy(logits, labels, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := net.Backward(ctx, dl); err != nil {
				t.Fatal(err)
			}
			for _, p := range []*nn.Param{conv.W, fc.W} {
				kk := p.Value.Len() / len(p.Mask)
				for i, g := range p.Grad.Data {
					if p.Mask[i/kk] == 0 && g != 0 {
						t.Fatalf("step %d: %s.grad[%d] = %g at a pruned connection", step, p.Name, i, g)
					}
				}
			}
			opt.step(nn.AllParams(net))
		}
		for _, p := range []*nn.Param{conv.W, fc.W} {
			kk := p.Value.Len() / len(p.Mask)
			moved := 0
			for i, v := range p.Value.Data {
				switch {
				case p.Mask[i/kk] == 0 && v != 0:
					t.Errorf("%s[%d] = %g after training, pruned", p.Name, i, v)
				case p.Mask[i/kk] != 0 && v != start[p][i]:
					moved++
				}
			}
			if moved == 0 {
				t.Errorf("%s: no kept weight moved", p.Name)
			}
		}
	})
}

// TestMaskMatchesZeroedWeights checks that a masked layer computes what a
// dense layer with the pruned weights zeroed computes, and that SetMask(nil)
// makes it dense again.
func TestMaskMatchesZeroedWeights(t *testing.T) {
	r := rng(6)
	masked := nn.NewConv2d("conv", 2, 3, 3, 2, 1, false, r)
	dense := nn.NewConv2d("conv", 2, 3, 3, 2, 1, false, r)
	mask := []float32{1, 0, 0, 1, 1, 1}
	copy(dense.W.Value.Data, masked.W.Value.Data)
	if err := masked.SetMask(mask); err != nil {
		t.Fatal(err)
	}
	for i := range dense.W.Value.Data {
		if mask[i/9] == 0 {
			dense.W.Value.Data[i] = 0
		}
	}
	x, dy := nntest.Randn(r, 1, 2, 2, 5, 5), nntest.Randn(r, 1, 2, 3, 3, 3)
	run := func(l *nn.Conv2d) (y, dx, dw *tensor.Tensor) {
		nn.ZeroGrad(l)
		ctx := nn.NewCtx(true)
		y, err := l.Forward(ctx, x.Clone())
		if err != nil {
			t.Fatal(err)
		}
		y = y.Clone()
		dx, err = l.Backward(ctx, dy.Clone())
		if err != nil {
			t.Fatal(err)
		}
		return y, dx.Clone(), l.W.Grad.Clone()
	}
	ym, dxm, dwm := run(masked)
	yd, dxd, dwd := run(dense)
	exact := nntest.Tol{}
	nntest.Compare(t, "y", ym, yd, exact)
	nntest.Compare(t, "dx", dxm, dxd, exact)
	for i := range dwd.Data {
		if mask[i/9] == 0 {
			dwd.Data[i] = 0
		}
	}
	nntest.Compare(t, "dW", dwm, dwd, exact)

	// Dense again: the pruned weights stay zero but now get gradients.
	if err := masked.SetMask(nil); err != nil || masked.Mask() != nil {
		t.Fatalf("SetMask(nil): err %v, mask %v", err, masked.Mask())
	}
	_, _, dw := run(masked)
	if dw.Data[9] == 0 {
		t.Error("after SetMask(nil) a formerly pruned weight still gets zero gradient")
	}
}

func TestSetMaskErrors(t *testing.T) {
	r := rng(7)
	for _, p := range []nn.Prunable{nn.NewConv2d("conv", 2, 3, 3, 1, 1, false, r), nn.NewLinear("fc", 2, 3, false, r)} {
		before := append([]float32(nil), p.Weight().Value.Data...)
		for _, m := range [][]float32{{1, 0, 1}, make([]float32, 7), {1, 0, 0.5, 1, 1, 1}, {1, 0, -1, 1, 1, 1}} {
			if err := p.SetMask(m); err == nil {
				t.Errorf("%s: SetMask(%v): no error", p.Name(), m)
			}
		}
		if p.Mask() != nil {
			t.Errorf("%s: a rejected mask was installed", p.Name())
		}
		nntest.Compare(t, p.Name()+" weights after rejected masks", p.Weight().Value,
			&tensor.Tensor{Shape: p.Weight().Value.Shape, Data: before}, nntest.Tol{})
	}
}
