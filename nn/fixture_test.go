package nn_test

// Layer-by-layer comparison with PyTorch. The reference values in
// testdata/*.fix come from scripts/gen_nn_fixtures.py (torch 1.13, autograd
// in float64 on float32 inputs); see testdata/README.md.

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/nn/nntest"
	"github.com/sgcnn/sgcnn/tensor"
)

// Tolerances against the float64 reference: |got - want| <= Atol +
// Rtol*|want|, elementwise. The values are O(1), so Atol only matters near
// zero. Gradients sum more terms (and BN's input gradient cancels), so they
// get a larger absolute floor.
var (
	fwdTol  = nntest.Tol{Rtol: 1e-4, Atol: 1e-5}
	gradTol = nntest.Tol{Rtol: 1e-4, Atol: 5e-5}
)

// forThreads runs f as subtests with one and two worker goroutines.
func forThreads(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	defer parallel.SetThreads(parallel.Threads())
	for _, n := range []int{1, 2} {
		parallel.SetThreads(n)
		t.Run(fmt.Sprintf("threads=%d", n), f)
	}
}

func fixturePath(name string) string { return filepath.Join("testdata", name+".fix") }

func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// fixtureKey maps a parameter's state_dict name to its name in a layer
// fixture, which stores them without the layer prefix.
func fixtureKey(name, prefix string) string { return strings.TrimPrefix(name, prefix) }

// checkLayerFixture loads the case into layer's parameters, buffers and
// mask, runs forward and backward twice, and compares with the fixture:
// output and input gradient each time, parameter gradients after the
// first pass and, as Backward accumulates, doubled after the second.
func checkLayerFixture(t *testing.T, file, prefix string, layer nn.Layer, train bool) {
	f := nntest.LoadFixture(t, fixturePath(file))
	params := nn.AllParams(layer)
	buffers := nn.AllBuffers(layer)
	for _, p := range params {
		f.SetParam(t, fixtureKey(p.Name, prefix), p.Value)
	}
	for _, b := range buffers {
		f.SetParam(t, fixtureKey(b.Name, prefix), b.Value)
	}
	if f.Has("mask") {
		pl, ok := layer.(nn.Prunable)
		if !ok {
			t.Fatalf("%s has a mask but %T is not prunable", file, layer)
		}
		if err := pl.SetMask(f.Get(t, "mask").Data); err != nil {
			t.Fatal(err)
		}
	}
	nn.ZeroGrad(layer)
	x, dy := f.Get(t, "x"), f.Get(t, "dy")
	for pass := 1; pass <= 2; pass++ {
		ctx := nn.NewCtx(train)
		y, err := layer.Forward(ctx, x.Clone())
		if err != nil {
			t.Fatalf("pass %d: forward: %v", pass, err)
		}
		nntest.Compare(t, fmt.Sprintf("pass %d: y", pass), y, f.Get(t, "y"), fwdTol)
		if pass == 1 {
			for _, b := range buffers {
				if k := fixtureKey(b.Name, prefix) + ".out"; f.Has(k) {
					nntest.Compare(t, b.Name, b.Value, f.Get(t, k), fwdTol)
				} else if !train {
					nntest.Compare(t, b.Name+" (eval: unchanged)", b.Value, f.Get(t, fixtureKey(b.Name, prefix)), nntest.Tol{})
				}
			}
		}
		dx, err := layer.Backward(ctx, dy.Clone())
		if err != nil {
			t.Fatalf("pass %d: backward: %v", pass, err)
		}
		nntest.Compare(t, fmt.Sprintf("pass %d: dx", pass), dx, f.Get(t, "dx"), gradTol)
		for _, p := range params {
			want := f.Get(t, fixtureKey(p.Name, prefix)+".grad")
			for i := range want.Data {
				want.Data[i] *= float32(pass)
			}
			nntest.Compare(t, fmt.Sprintf("pass %d: grad %s", pass, p.Name), p.Grad, want, gradTol)
		}
	}
}

func TestConvFixtures(t *testing.T) {
	cases := []struct {
		file             string
		in, out, k, s, p int
		bias             bool
	}{
		{"conv3x3_s1_p1_bias", 3, 4, 3, 1, 1, true},
		{"conv3x3_s1_p1_nobias", 3, 4, 3, 1, 1, false},
		{"conv3x3_s2_p1", 3, 4, 3, 2, 1, true},
		{"conv1x1", 4, 6, 1, 1, 0, false},
		{"conv5x5_p0", 2, 3, 5, 1, 0, true},
		{"conv3x3_mask", 3, 4, 3, 1, 1, true},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			forThreads(t, func(t *testing.T) {
				conv := nn.NewConv2d("conv", c.in, c.out, c.k, c.s, c.p, c.bias, rng(1))
				checkLayerFixture(t, c.file, "conv.", conv, true)
			})
		})
	}
}

func TestBatchNormFixtures(t *testing.T) {
	for _, train := range []bool{true, false} {
		file := map[bool]string{true: "bn_train", false: "bn_eval"}[train]
		t.Run(file, func(t *testing.T) {
			forThreads(t, func(t *testing.T) {
				checkLayerFixture(t, file, "bn.", nn.NewBatchNorm2d("bn", 4), train)
			})
		})
	}
}

func TestLinearFixtures(t *testing.T) {
	cases := []struct {
		file    string
		in, out int
		bias    bool
	}{
		{"linear_bias", 7, 5, true},
		{"linear_nobias", 7, 5, false},
		{"linear_mask", 8, 5, true}, // input [3 2 2 2], flattened
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			forThreads(t, func(t *testing.T) {
				checkLayerFixture(t, c.file, "fc.", nn.NewLinear("fc", c.in, c.out, c.bias, rng(1)), true)
			})
		})
	}
}

func TestParameterFreeFixtures(t *testing.T) {
	cases := []struct {
		file  string
		layer func() nn.Layer
	}{
		{"relu", func() nn.Layer { return nn.NewReLU("relu") }},
		{"maxpool2x2", func() nn.Layer { return nn.NewMaxPool2d("pool", 2, 2, 0) }},
		{"maxpool3x3_s2_p1", func() nn.Layer { return nn.NewMaxPool2d("pool", 3, 2, 1) }},
		{"avgpool2x2", func() nn.Layer { return nn.NewAvgPool2d("pool", 2, 2, 0) }},
		{"avgpool3x3_s1_p1", func() nn.Layer { return nn.NewAvgPool2d("pool", 3, 1, 1) }},
		{"gap", func() nn.Layer { return nn.NewGlobalAvgPool("pool") }},
		{"shortcut_a", func() nn.Layer { return nn.NewShortcutA("shortcut", 4, 8, 2) }},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			forThreads(t, func(t *testing.T) { checkLayerFixture(t, c.file, "", c.layer(), true) })
		})
	}
}

func TestDenseConcatFixture(t *testing.T) {
	forThreads(t, func(t *testing.T) {
		body := nn.NewSequential("body",
			nn.NewBatchNorm2d("norm", 3),
			nn.NewReLU("relu"),
			nn.NewConv2d("conv", 3, 2, 3, 1, 1, false, rng(1)))
		checkLayerFixture(t, "dense_concat", "", nn.NewDenseConcat("dense", body), true)
	})
}

func TestCrossEntropyFixture(t *testing.T) {
	f := nntest.LoadFixture(t, fixturePath("cross_entropy"))
	logits, labels := f.Get(t, "logits"), f.Ints(t, "labels")
	before := logits.Clone()
	grad := tensor.New(1, 1) // wrong shape: must be replaced
	loss, g, err := nn.SoftmaxCrossEntropy(logits, labels, grad)
	if err != nil {
		t.Fatal(err)
	}
	want := float64(f.Scalar(t, "loss"))
	if d := loss - want; d > 1e-5*want || d < -1e-5*want {
		t.Errorf("loss %.8g, want %.8g", loss, want)
	}
	nntest.Compare(t, "dlogits", g, f.Get(t, "dlogits"), gradTol)
	nntest.Compare(t, "logits (unchanged)", logits, before, nntest.Tol{})
	// A grad buffer of the right shape is reused and overwritten.
	for i := range g.Data {
		g.Data[i] = 7
	}
	_, g2, err := nn.SoftmaxCrossEntropy(logits, labels, g)
	if err != nil || g2 != g {
		t.Fatalf("reuse: err %v, same buffer %v", err, g2 == g)
	}
	nntest.Compare(t, "dlogits (reused buffer)", g2, f.Get(t, "dlogits"), gradTol)
}
