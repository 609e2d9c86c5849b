package nn_test

// Finite-difference gradient checks (nntest.CheckGradients: float64
// central differences of <layer(x), dy> on small shapes) for every layer,
// the containers and the loss.

import (
	"math/rand/v2"
	"testing"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/nn/nntest"
	"github.com/sgcnn/sgcnn/tensor"
)

// awayFromZero pushes every value to at least margin in magnitude, so that
// a ReLU applied to it has no kink within a finite-difference step.
func awayFromZero(x *tensor.Tensor, margin float32) *tensor.Tensor {
	for i, v := range x.Data {
		switch {
		case v >= 0 && v < margin:
			x.Data[i] = v + margin
		case v < 0 && v > -margin:
			x.Data[i] = v - margin
		}
	}
	return x
}

// distinct returns a tensor holding a random permutation of values spaced
// 0.1 apart, so that max-pooling windows have no near ties.
func distinct(r *rand.Rand, shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	for i, j := range r.Perm(x.Len()) {
		x.Data[i] = 0.1*float32(j) - 0.05*float32(x.Len())
	}
	return x
}

type gradCase struct {
	name  string
	layer func(r *rand.Rand) nn.Layer
	x     func(r *rand.Rand) *tensor.Tensor
	train bool
	// smooth: no kinks expected (linear in every input, or smooth).
	smooth bool
	newCtx func() *nn.Ctx // nil: nn.NewCtx(train)
}

func runGradCase(t *testing.T, c gradCase) {
	r := rng(42)
	layer := c.layer(r)
	nntest.RandParams(layer, r, 0.5)
	x := c.x(r)
	newCtx := c.newCtx
	if newCtx == nil {
		newCtx = func() *nn.Ctx { return nn.NewCtx(c.train) }
	}
	y, err := layer.Forward(newCtx(), x.Clone())
	if err != nil {
		t.Fatal(err)
	}
	dy := nntest.Randn(r, 1, y.Shape...)
	rep := nntest.CheckGradients(t, c.name, nntest.LayerTarget(layer, newCtx, x, dy), nntest.GradOptions{})
	t.Logf("%s: %d checked, %d kinks, max |d| %.3g", c.name, rep.Checked, rep.Kinks, rep.MaxErr)
	if c.smooth && rep.Kinks > 0 {
		t.Errorf("%s: %d kinks in a smooth function", c.name, rep.Kinks)
	}
}

func TestGradientsLayers(t *testing.T) {
	randn := func(shape ...int) func(*rand.Rand) *tensor.Tensor {
		return func(r *rand.Rand) *tensor.Tensor { return nntest.Randn(r, 1, shape...) }
	}
	conv := func(in, out, k, s, p int, bias bool) func(*rand.Rand) nn.Layer {
		return func(r *rand.Rand) nn.Layer { return nn.NewConv2d("conv", in, out, k, s, p, bias, r) }
	}
	cases := []gradCase{
		{name: "conv3x3_s1_p1_bias", layer: conv(2, 3, 3, 1, 1, true), x: randn(2, 2, 4, 4), smooth: true},
		{name: "conv3x3_s2_p1", layer: conv(2, 3, 3, 2, 1, false), x: randn(3, 2, 5, 5), smooth: true},
		{name: "conv1x1_s2", layer: conv(3, 2, 1, 2, 0, true), x: randn(2, 3, 4, 4), smooth: true},
		{name: "conv5x5_p0", layer: conv(2, 2, 5, 1, 0, true), x: randn(2, 2, 6, 6), smooth: true},
		{name: "conv3x3_mask", layer: func(r *rand.Rand) nn.Layer {
			c := nn.NewConv2d("conv", 3, 3, 3, 1, 1, true, r)
			if err := c.SetMask([]float32{1, 0, 1, 0, 0, 0, 0, 1, 1}); err != nil {
				panic(err)
			}
			return c
		}, x: randn(2, 3, 4, 4), smooth: true},
		{name: "bn_train", layer: func(*rand.Rand) nn.Layer { return nn.NewBatchNorm2d("bn", 3) },
			x: randn(2, 3, 3, 3), train: true, smooth: true},
		{name: "bn_eval", layer: func(*rand.Rand) nn.Layer {
			bn := nn.NewBatchNorm2d("bn", 3)
			copy(bn.Mean.Value.Data, []float32{0.3, -0.2, 0.1})
			copy(bn.Var.Value.Data, []float32{0.5, 1.5, 2})
			return bn
		}, x: randn(2, 3, 3, 3), smooth: true},
		{name: "linear", layer: func(r *rand.Rand) nn.Layer { return nn.NewLinear("fc", 5, 4, true, r) },
			x: randn(3, 5), smooth: true},
		{name: "linear_mask_4d", layer: func(r *rand.Rand) nn.Layer {
			l := nn.NewLinear("fc", 4, 3, false, r)
			if err := l.SetMask([]float32{1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1}); err != nil {
				panic(err)
			}
			return l
		}, x: randn(2, 1, 2, 2), smooth: true},
		{name: "relu", layer: func(*rand.Rand) nn.Layer { return nn.NewReLU("relu") },
			x: func(r *rand.Rand) *tensor.Tensor { return awayFromZero(nntest.Randn(r, 1, 2, 2, 3, 3), 0.05) }, smooth: true},
		{name: "dropout", layer: func(*rand.Rand) nn.Layer { return nn.NewDropout("drop", 0.3) },
			x: randn(4, 6), train: true, smooth: true, newCtx: func() *nn.Ctx {
				ctx := nn.NewCtx(true)
				ctx.Rand = rand.New(rand.NewPCG(7, 7))
				return ctx
			}},
		{name: "maxpool2x2", layer: func(*rand.Rand) nn.Layer { return nn.NewMaxPool2d("pool", 2, 2, 0) },
			x: func(r *rand.Rand) *tensor.Tensor { return distinct(r, 2, 2, 4, 4) }, smooth: true},
		{name: "maxpool3x3_s2_p1", layer: func(*rand.Rand) nn.Layer { return nn.NewMaxPool2d("pool", 3, 2, 1) },
			x: func(r *rand.Rand) *tensor.Tensor { return distinct(r, 2, 2, 5, 5) }, smooth: true},
		{name: "avgpool2x2", layer: func(*rand.Rand) nn.Layer { return nn.NewAvgPool2d("pool", 2, 2, 0) },
			x: randn(2, 2, 4, 4), smooth: true},
		{name: "avgpool3x3_s1_p1", layer: func(*rand.Rand) nn.Layer { return nn.NewAvgPool2d("pool", 3, 1, 1) },
			x: randn(2, 2, 4, 4), smooth: true},
		{name: "gap", layer: func(*rand.Rand) nn.Layer { return nn.NewGlobalAvgPool("gap") },
			x: randn(2, 3, 3, 3), smooth: true},
		{name: "shortcut_a", layer: func(*rand.Rand) nn.Layer { return nn.NewShortcutA("sc", 2, 4, 2) },
			x: randn(2, 2, 5, 5), smooth: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { forThreads(t, func(t *testing.T) { runGradCase(t, c) }) })
	}
}

// block returns a CIFAR basic block: relu(bn(conv(relu(bn(conv(x))))) +
// shortcut(x)).
func block(name string, in, out, stride int, r *rand.Rand) nn.Layer {
	var sc nn.Layer
	if stride != 1 || in != out {
		sc = nn.NewShortcutA(name+".shortcut", in, out, stride)
	}
	body := nn.NewSequential(name,
		nn.NewConv2d(name+".conv1", in, out, 3, stride, 1, false, r),
		nn.NewBatchNorm2d(name+".bn1", out),
		nn.NewReLU(name+".relu1"),
		nn.NewConv2d(name+".conv2", out, out, 3, 1, 1, false, r),
		nn.NewBatchNorm2d(name+".bn2", out))
	return nn.NewSequential(name, nn.NewResidual(name, body, sc), nn.NewReLU(name+".relu"))
}

func TestGradientsContainers(t *testing.T) {
	randn := func(shape ...int) func(*rand.Rand) *tensor.Tensor {
		return func(r *rand.Rand) *tensor.Tensor { return nntest.Randn(r, 1, shape...) }
	}
	cases := []gradCase{
		{name: "sequential", layer: func(r *rand.Rand) nn.Layer {
			return nn.NewSequential("seq",
				nn.NewConv2d("conv", 2, 3, 3, 1, 1, true, r),
				nn.NewBatchNorm2d("bn", 3),
				nn.NewAvgPool2d("pool", 2, 2, 0),
				nn.NewGlobalAvgPool("gap"),
				nn.NewLinear("fc", 3, 4, true, r))
		}, x: randn(3, 2, 4, 4), train: true, smooth: true},
		{name: "residual_identity", layer: func(r *rand.Rand) nn.Layer {
			return nn.NewResidual("res", nn.NewSequential("body",
				nn.NewConv2d("conv", 2, 2, 3, 1, 1, false, r),
				nn.NewBatchNorm2d("bn", 2)), nil)
		}, x: randn(2, 2, 4, 4), train: true, smooth: true},
		{name: "residual_shortcut_a", layer: func(r *rand.Rand) nn.Layer {
			return nn.NewResidual("res", nn.NewSequential("body",
				nn.NewConv2d("conv", 2, 4, 3, 2, 1, false, r),
				nn.NewBatchNorm2d("bn", 4)), nn.NewShortcutA("sc", 2, 4, 2))
		}, x: randn(2, 2, 5, 5), train: true, smooth: true},
		{name: "basic_blocks_relu", layer: func(r *rand.Rand) nn.Layer {
			return nn.NewSequential("net", block("b1", 2, 2, 1, r), block("b2", 2, 4, 2, r))
		}, x: randn(2, 2, 4, 4), train: true},
		{name: "dense_concat", layer: func(r *rand.Rand) nn.Layer {
			return nn.NewDenseConcat("dense", nn.NewSequential("body",
				nn.NewBatchNorm2d("norm", 2),
				nn.NewConv2d("conv", 2, 3, 3, 1, 1, false, r)))
		}, x: randn(2, 2, 3, 3), train: true, smooth: true},
		{name: "dense_concat_twice", layer: func(r *rand.Rand) nn.Layer {
			return nn.NewSequential("block",
				nn.NewDenseConcat("d1", nn.NewConv2d("c1", 2, 1, 3, 1, 1, true, r)),
				nn.NewDenseConcat("d2", nn.NewConv2d("c2", 3, 2, 1, 1, 0, true, r)))
		}, x: randn(2, 2, 3, 3), smooth: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { forThreads(t, func(t *testing.T) { runGradCase(t, c) }) })
	}
}

func TestGradientsLoss(t *testing.T) {
	r := rng(3)
	logits := nntest.Randn(r, 2, 4, 6)
	labels := []int{0, 5, 2, 2}
	rep := nntest.CheckGradients(t, "cross_entropy", nntest.LossTarget(logits, labels), nntest.GradOptions{Eps: 1e-3})
	if rep.Kinks > 0 || rep.Checked != 24 {
		t.Errorf("cross entropy: %d checked, %d kinks; want 24 and 0", rep.Checked, rep.Kinks)
	}
}
