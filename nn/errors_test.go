package nn_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/nn/nntest"
	"github.com/sgcnn/sgcnn/tensor"
)

// namedLayers returns one fresh layer of every kind, each named after its
// kind, with the input shape it accepts.
func namedLayers() []struct {
	l  nn.Layer
	ok []int
} {
	r := rng(9)
	return []struct {
		l  nn.Layer
		ok []int
	}{
		{nn.NewConv2d("conv", 3, 4, 3, 1, 1, true, r), []int{2, 3, 5, 5}},
		{nn.NewBatchNorm2d("bn", 3), []int{2, 3, 5, 5}},
		{nn.NewLinear("fc", 12, 4, true, r), []int{2, 3, 2, 2}},
		{nn.NewReLU("relu"), []int{2, 3, 5, 5}},
		{nn.NewDropout("drop", 0.5), []int{2, 3, 5, 5}},
		{nn.NewMaxPool2d("maxpool", 2, 2, 0), []int{2, 3, 5, 5}},
		{nn.NewAvgPool2d("avgpool", 3, 1, 1), []int{2, 3, 5, 5}},
		{nn.NewGlobalAvgPool("gap"), []int{2, 3, 5, 5}},
		{nn.NewShortcutA("shortcut", 3, 5, 2), []int{2, 3, 5, 5}},
		{nn.NewDenseConcat("dense", nn.NewConv2d("dense.conv", 3, 2, 3, 1, 1, false, r)), []int{2, 3, 5, 5}},
		{nn.NewResidual("res", nn.NewConv2d("res.conv", 3, 3, 3, 1, 1, false, r), nil), []int{2, 3, 5, 5}},
		{nn.NewSequential("seq", nn.NewConv2d("seq.conv", 3, 3, 1, 1, 0, false, r)), []int{2, 3, 5, 5}},
	}
}

// wantShapeError checks that err is a *ShapeError naming layer.
func wantShapeError(t *testing.T, what string, err error, layer string) {
	t.Helper()
	var se *nn.ShapeError
	if !errors.As(err, &se) {
		t.Errorf("%s: error %v (%T), want *nn.ShapeError", what, err, err)
		return
	}
	if se.Layer != layer || !strings.Contains(se.Error(), layer) {
		t.Errorf("%s: ShapeError names %q (%q), want %q", what, se.Layer, se.Error(), layer)
	}
}

func TestWrongShape(t *testing.T) {
	wrongC := map[string][]int{ // inputs with the wrong channel or feature count
		"conv": {2, 4, 5, 5}, "bn": {2, 2, 5, 5}, "fc": {2, 11}, "shortcut": {2, 4, 5, 5},
		"res": {2, 4, 5, 5}, "seq": {2, 2, 5, 5},
	}
	// the layer that must be named: containers report the inner layer
	inner := map[string]string{"res": "res.conv", "seq": "seq.conv", "dense": "dense"}
	for _, c := range namedLayers() {
		name := c.l.Name()
		want := name
		if n, ok := inner[name]; ok {
			want = n
		}
		// The accepted shape works.
		if _, err := c.l.Forward(nn.NewCtx(true), tensor.New(c.ok...)); err != nil {
			t.Errorf("%s: input %v: %v", name, c.ok, err)
		}
		if s, ok := wrongC[name]; ok {
			_, err := c.l.Forward(nn.NewCtx(true), tensor.New(s...))
			wantShapeError(t, name+" "+tensor.ShapeString(s), err, want)
		}
		// Rank 3 for the NCHW layers (Linear, ReLU and Dropout take any
		// rank).
		if name != "fc" && name != "relu" && name != "drop" {
			_, err := c.l.Forward(nn.NewCtx(true), tensor.New(3, 5, 5))
			wantShapeError(t, name+" rank 3", err, want)
		}
		_, err := c.l.Forward(nn.NewCtx(true), nil)
		if name == "dense" {
			want = "dense"
		}
		wantShapeError(t, name+" nil input", err, want)
	}
}

func TestEmptyBatch(t *testing.T) {
	for _, c := range namedLayers() {
		s := append([]int(nil), c.ok...)
		s[0] = 0
		for _, train := range []bool{true, false} {
			if _, err := c.l.Forward(nn.NewCtx(train), tensor.New(s...)); err == nil {
				t.Errorf("%s: empty batch %v (train %v): no error", c.l.Name(), s, train)
			}
		}
	}
	if _, _, err := nn.SoftmaxCrossEntropy(tensor.New(0, 10), nil, nil); err == nil {
		t.Error("SoftmaxCrossEntropy: empty batch: no error")
	}
}

func TestBackwardWithoutForward(t *testing.T) {
	for _, c := range namedLayers() {
		dy := tensor.New(2, 3, 5, 5)
		dx, err := c.l.Backward(nn.NewCtx(true), dy)
		if err == nil {
			t.Errorf("%s: backward without forward: no error (dx %v)", c.l.Name(), dx)
		}
		if _, err := c.l.Backward(nn.NewCtx(true), nil); err == nil {
			t.Errorf("%s: backward with nil dy: no error", c.l.Name())
		}
	}
}

func TestBackwardWrongShape(t *testing.T) {
	for _, c := range namedLayers() {
		ctx := nn.NewCtx(true)
		y, err := c.l.Forward(ctx, nntest.Randn(rng(1), 1, c.ok...))
		if err != nil {
			t.Fatalf("%s: %v", c.l.Name(), err)
		}
		bad := tensor.New(append([]int{y.Shape[0] + 1}, y.Shape[1:]...)...)
		if _, err := c.l.Backward(ctx, bad); err == nil {
			t.Errorf("%s: backward with dy %v after output %v: no error", c.l.Name(), bad.Shape, y.Shape)
		}
	}
}

// TestTooSmallInput checks that inputs smaller than the kernel fail, as in
// PyTorch, also when (H + 2*Pad - K) / Stride truncates to zero.
func TestTooSmallInput(t *testing.T) {
	r := rng(2)
	for _, l := range []nn.Layer{
		nn.NewConv2d("conv", 1, 1, 5, 1, 0, false, r),
		nn.NewConv2d("conv_s2", 1, 1, 5, 2, 0, false, r),
		nn.NewMaxPool2d("maxpool", 5, 2, 0),
		nn.NewAvgPool2d("avgpool", 5, 3, 0),
	} {
		if y, err := l.Forward(nn.NewCtx(true), tensor.New(1, 1, 4, 4)); err == nil {
			t.Errorf("%s on 4x4: no error, output %v", l.Name(), y)
		} else if !strings.Contains(err.Error(), l.Name()) {
			t.Errorf("%s: error %q does not name the layer", l.Name(), err)
		}
	}
	bn := nn.NewBatchNorm2d("bn", 2)
	if _, err := bn.Forward(nn.NewCtx(true), tensor.New(1, 2, 1, 1)); err == nil {
		t.Error("bn: training on one value per channel: no error")
	}
	if _, err := bn.Forward(nn.NewCtx(false), tensor.New(1, 2, 1, 1)); err != nil {
		t.Errorf("bn: evaluating one value per channel: %v", err)
	}
}

func TestCheckFinite(t *testing.T) {
	r := rng(4)
	net := func() nn.Layer {
		return nn.NewSequential("",
			nn.NewMaxPool2d("pool0", 2, 1, 0),
			nn.NewConv2d("conv1", 2, 3, 3, 1, 1, false, r),
			nn.NewBatchNorm2d("bn1", 3),
			nn.NewReLU("relu1"),
			nn.NewSequential("layer1", nn.NewResidual("layer1.0", nn.NewSequential("layer1.0",
				nn.NewConv2d("layer1.0.conv1", 3, 3, 3, 1, 1, false, r),
				nn.NewBatchNorm2d("layer1.0.bn1", 3)), nil)),
			nn.NewGlobalAvgPool("pool"),
			nn.NewLinear("fc", 3, 2, true, r))
	}
	x := nntest.Randn(r, 1, 2, 2, 5, 5)
	x.Data[24] = float32(math.NaN()) // last element of its only pooling window
	cases := []struct {
		name  string
		x     *tensor.Tensor
		setup func(l nn.Layer)
		where string
	}{
		{"NaN input", x, nil, "pool0"},
		{"Inf weight inside a block", nntest.Randn(r, 1, 2, 2, 5, 5), func(l nn.Layer) {
			nn.Walk(l, func(c nn.Layer) {
				if c.Name() == "layer1.0.conv1" {
					c.Params()[0].Value.Data[4] = float32(math.Inf(1))
				}
			})
		}, "layer1.0.conv1"},
		{"NaN bias of the head", nntest.Randn(r, 1, 2, 2, 5, 5), func(l nn.Layer) {
			nn.Walk(l, func(c nn.Layer) {
				if c.Name() == "fc" {
					c.Params()[1].Value.Data[1] = float32(math.NaN())
				}
			})
		}, "fc"},
	}
	for _, c := range cases {
		l := net()
		if c.setup != nil {
			c.setup(l)
		}
		ctx := nn.NewCtx(true)
		ctx.CheckFinite = true
		_, err := l.Forward(ctx, c.x.Clone())
		var nf *nn.NonFiniteError
		if !errors.As(err, &nf) || nf.Where != c.where || nf.What != "output" {
			t.Errorf("%s: error %v, want NonFiniteError in output of %s", c.name, err, c.where)
		} else if !strings.Contains(err.Error(), c.where) {
			t.Errorf("%s: message %q does not name %s", c.name, err, c.where)
		}
		// Without the check the NaN goes through to the logits.
		y, err := l.Forward(nn.NewCtx(true), c.x.Clone())
		if err != nil || !nn.HasNonFinite(y.Data) {
			t.Errorf("%s: unchecked forward: err %v, non-finite logits %v", c.name, err, y != nil && nn.HasNonFinite(y.Data))
		}
	}
	logits := tensor.New(2, 3)
	logits.Data[4] = float32(math.NaN())
	_, _, err := nn.SoftmaxCrossEntropy(logits, []int{0, 1}, nil)
	var nf *nn.NonFiniteError
	if !errors.As(err, &nf) || nf.What != "loss" {
		t.Errorf("loss of NaN logits: error %v, want NonFiniteError for the loss", err)
	}
}

func TestLossErrors(t *testing.T) {
	logits := tensor.New(2, 3)
	for _, c := range []struct {
		logits *tensor.Tensor
		labels []int
	}{
		{logits, []int{0}},
		{logits, []int{0, 3}},
		{logits, []int{-1, 0}},
		{tensor.New(6), []int{0, 1}},
		{nil, nil},
	} {
		if _, _, err := nn.SoftmaxCrossEntropy(c.logits, c.labels, nil); err == nil {
			t.Errorf("logits %v, labels %v: no error", c.logits, c.labels)
		}
	}
}

func TestTopK(t *testing.T) {
	logits, _ := tensor.From([]float32{
		0.1, 0.5, 0.4, // label 1: top-1
		0.3, 0.3, 0.4, // label 0: tied second, top-2
		0.9, 0.2, 0.1, // label 2: third
	}, 3, 3)
	labels := []int{1, 0, 2}
	for k, want := range map[int]int{1: 1, 2: 2, 3: 3} {
		if got := nn.TopK(logits, labels, k); got != want {
			t.Errorf("TopK k=%d: %d, want %d", k, got, want)
		}
	}
}
