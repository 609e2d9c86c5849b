package graph

// Finite-difference gradient checks (nntest.CheckGradients) of every
// parameter-free op the graph runs itself, on small batches.

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/nn/nntest"
	"github.com/sgcnn/sgcnn/tensor"
)

func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 7)) }

// batch returns a [b, shape...] tensor of normal values.
func batch(r *rand.Rand, b int, shape ...int) *tensor.Tensor {
	return nntest.Randn(r, 1, append([]int{b}, shape...)...)
}

// awayFrom moves every value at least margin away from each kink.
func awayFrom(x *tensor.Tensor, margin float32, kinks ...float32) *tensor.Tensor {
	for i, v := range x.Data {
		for _, k := range kinks {
			if d := v - k; d >= 0 && d < margin {
				v = k + margin
			} else if d < 0 && d > -margin {
				v = k - margin
			}
		}
		x.Data[i] = v
	}
	return x
}

// runnerTarget is <outputs, dys> of a runner as a function of its inputs.
func runnerTarget(t *testing.T, mk func() runner, xs []*tensor.Tensor, train bool) nntest.Target {
	r := mk()
	ys, err := r.forward(nn.NewCtx(train), clones(xs))
	if err != nil {
		t.Fatal(err)
	}
	rr := rand.New(rand.NewPCG(9, 9))
	dys := make([]*tensor.Tensor, len(ys))
	for j, y := range ys {
		dys[j] = nntest.Randn(rr, 1, y.Shape...)
	}
	tg := nntest.Target{Inputs: xs}
	for i := range xs {
		tg.Names = append(tg.Names, fmt.Sprintf("x%d", i))
	}
	newCtx := func() *nn.Ctx { return &nn.Ctx{Train: train, Rand: rand.New(rand.NewPCG(5, 5))} }
	tg.Loss = func() (float64, error) {
		ys, err := mk().forward(newCtx(), clones(xs))
		if err != nil {
			return 0, err
		}
		var s float64
		for j, y := range ys {
			for i, v := range y.Data {
				s += float64(v) * float64(dys[j].Data[i])
			}
		}
		return s, nil
	}
	tg.Grad = func() ([]*tensor.Tensor, error) {
		ctx := newCtx()
		if _, err := r.forward(ctx, clones(xs)); err != nil {
			return nil, err
		}
		return r.backward(ctx, clones(dys))
	}
	return tg
}

func clones(xs []*tensor.Tensor) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(xs))
	for i, x := range xs {
		out[i] = x.Clone()
	}
	return out
}

// opCase is one node checked through its runner.
type opCase struct {
	name   string
	node   Node
	xs     func(r *rand.Rand) []*tensor.Tensor
	train  bool
	smooth bool
}

func checkOp(t *testing.T, c opCase) {
	t.Helper()
	xs := c.xs(rng(42))
	in := make([][]int, len(xs))
	for i, x := range xs {
		in[i] = x.Shape[1:]
	}
	n := c.node
	n.Name = c.name
	if n.Outputs == nil {
		n.Outputs = []string{"y"}
	}
	mk := func() runner {
		r, err := newRunner(&n, in)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		return r
	}
	rep := nntest.CheckGradients(t, c.name, runnerTarget(t, mk, xs, c.train), nntest.GradOptions{})
	if c.smooth && rep.Kinks > 0 {
		t.Errorf("%s: %d kinks in a smooth function", c.name, rep.Kinks)
	}
}

func one(f func(r *rand.Rand) *tensor.Tensor) func(r *rand.Rand) []*tensor.Tensor {
	return func(r *rand.Rand) []*tensor.Tensor { return []*tensor.Tensor{f(r)} }
}

func TestGradientsUnary(t *testing.T) {
	x := func(scale float32, kinks ...float32) func(r *rand.Rand) []*tensor.Tensor {
		return one(func(r *rand.Rand) *tensor.Tensor {
			x := batch(r, 2, 3, 4, 4)
			for i := range x.Data {
				x.Data[i] *= scale
			}
			return awayFrom(x, 0.05, kinks...)
		})
	}
	for _, c := range []opCase{
		{name: "relu", node: Node{Op: Relu}, xs: x(1, 0), smooth: true},
		{name: "leakyrelu", node: Node{Op: LeakyRelu, Attrs: Attrs{Alpha: 0.1}}, xs: x(1, 0), smooth: true},
		{name: "clip_relu6", node: Node{Op: Clip, Attrs: Attrs{Min: 0, Max: 6}}, xs: x(4, 0, 6), smooth: true},
		{name: "sigmoid", node: Node{Op: Sigmoid}, xs: x(2), smooth: true},
		{name: "hardsigmoid", node: Node{Op: HardSigmoid, Attrs: Attrs{Alpha: 0.2, Beta: 0.5}}, xs: x(4, -2.5, 2.5), smooth: true},
		{name: "hardswish", node: Node{Op: HardSwish}, xs: x(4, -3, 3), smooth: true},
		{name: "identity", node: Node{Op: Identity}, xs: x(1), smooth: true},
		{name: "flatten", node: Node{Op: Flatten}, xs: x(1), smooth: true},
		{name: "reshape", node: Node{Op: Reshape, Attrs: Attrs{Shape: []int{4, 12}}}, xs: x(1), smooth: true},
		{name: "dropout_eval", node: Node{Op: Dropout, Attrs: Attrs{Ratio: 0.5}}, xs: x(1), smooth: true},
		{name: "dropout_train", node: Node{Op: Dropout, Attrs: Attrs{Ratio: 0.5}}, xs: x(1), train: true, smooth: true},
	} {
		checkOp(t, c)
	}
}

func TestGradientsBinary(t *testing.T) {
	pair := func(sa, sb []int) func(r *rand.Rand) []*tensor.Tensor {
		return func(r *rand.Rand) []*tensor.Tensor {
			a, b := batch(r, 2, sa...), batch(r, 2, sb...)
			for i, v := range b.Data { // divisors away from zero
				if v >= 0 {
					b.Data[i] = v + 0.5
				} else {
					b.Data[i] = v - 0.5
				}
			}
			return []*tensor.Tensor{a, b}
		}
	}
	konst := func(r *rand.Rand, shape ...int) *tensor.Tensor {
		c := nntest.Randn(r, 1, shape...)
		for i := range c.Data {
			c.Data[i] += 2
		}
		return c
	}
	r := rng(3)
	for _, op := range []Op{Add, Sub, Mul, Div} {
		for _, sh := range [][2][]int{
			{{3, 4, 5}, {3, 4, 5}}, // same shape
			{{3, 4, 5}, {4, 1}},    // b broadcast over channels and width
			{{1, 4, 1}, {3, 1, 5}}, // both broadcast
			{{3, 1, 1}, {3, 4, 5}}, // a per channel
			{{5}, {}},              // scalar per image
		} {
			checkOp(t, opCase{name: fmt.Sprintf("%s_%v_%v", op, sh[0], sh[1]), node: Node{Op: op},
				xs: pair(sh[0], sh[1]), smooth: true})
		}
		x := func(r *rand.Rand) []*tensor.Tensor {
			x := batch(r, 2, 3, 4, 5)
			for i := range x.Data {
				x.Data[i] += 4 // a divisor away from zero
			}
			return []*tensor.Tensor{x}
		}
		for _, first := range []bool{false, true} {
			for _, cs := range [][]int{{3, 1, 1}, {}, {1, 3, 4, 1}} {
				checkOp(t, opCase{name: fmt.Sprintf("%s_const%v_first%v", op, cs, first),
					node: Node{Op: op, Const: konst(r, cs...), Attrs: Attrs{ConstFirst: first}}, xs: x, smooth: true})
			}
		}
	}
	// The same tensor as both operands.
	mk := func() runner {
		b, err := newBinary(&Node{Name: "square", Op: Mul}, [][]int{{3, 4}, {3, 4}})
		if err != nil {
			t.Fatal(err)
		}
		return &sameInput{b}
	}
	nntest.CheckGradients(t, "x*x", runnerTarget(t, mk, []*tensor.Tensor{batch(rng(1), 2, 3, 4)}, false), nntest.GradOptions{})
}

// sameInput feeds its one input to both operands of a binary op and sums
// the two gradients.
type sameInput struct{ b *binary }

func (s *sameInput) props() props { return s.b.props() }
func (s *sameInput) forward(ctx *nn.Ctx, xs []*tensor.Tensor) ([]*tensor.Tensor, error) {
	return s.b.forward(ctx, []*tensor.Tensor{xs[0], xs[0]})
}
func (s *sameInput) backward(ctx *nn.Ctx, dys []*tensor.Tensor) ([]*tensor.Tensor, error) {
	g, err := s.b.backward(ctx, dys)
	if err != nil {
		return nil, err
	}
	d := g[0].Clone()
	for i, v := range g[1].Data {
		d.Data[i] += v
	}
	return []*tensor.Tensor{d}, nil
}

func TestGradientsShapeOps(t *testing.T) {
	three := func(shapes ...[]int) func(r *rand.Rand) []*tensor.Tensor {
		return func(r *rand.Rand) []*tensor.Tensor {
			var xs []*tensor.Tensor
			for _, s := range shapes {
				xs = append(xs, batch(r, 2, s...))
			}
			return xs
		}
	}
	x := func(shape ...int) func(r *rand.Rand) []*tensor.Tensor { return three(shape) }
	for _, c := range []opCase{
		{name: "concat_c", node: Node{Op: Concat}, xs: three([]int{2, 3, 3}, []int{1, 3, 3}, []int{3, 3, 3})},
		{name: "concat_w", node: Node{Op: Concat, Attrs: Attrs{Axis: 2}}, xs: three([]int{2, 3, 1}, []int{2, 3, 4})},
		{name: "concat_neg", node: Node{Op: Concat, Attrs: Attrs{Axis: -2}}, xs: three([]int{2, 1, 3}, []int{2, 2, 3})},
		{name: "split_c", node: Node{Op: Split, Attrs: Attrs{Sizes: []int{1, 2, 1}}, Outputs: []string{"a", "b", "c"}}, xs: x(4, 3, 3)},
		{name: "split_h", node: Node{Op: Split, Attrs: Attrs{Axis: 1, Sizes: []int{2, 1}}, Outputs: []string{"a", "b"}}, xs: x(2, 3, 3)},
		{name: "slice", node: Node{Op: Slice, Attrs: Attrs{Axes: []int{0, 2}, Starts: []int{1, -4}, Ends: []int{3, 100}, Steps: []int{1, 2}}}, xs: x(4, 3, 5)},
		{name: "slice_stride", node: Node{Op: Slice, Attrs: Attrs{Axes: []int{1, 2}, Starts: []int{0, 1}, Ends: []int{5, 5}, Steps: []int{2, 3}}}, xs: x(2, 5, 5)},
		{name: "transpose", node: Node{Op: Transpose, Attrs: Attrs{Perm: []int{1, 0, 2}}}, xs: x(2, 3, 4)},
		{name: "transpose_rot", node: Node{Op: Transpose, Attrs: Attrs{Perm: []int{2, 0, 1}}}, xs: x(2, 3, 4)},
		{name: "pad", node: Node{Op: Pad, Attrs: Attrs{PadBefore: []int{1, 0, 2}, PadAfter: []int{0, 2, 1}, Value: 0.5}}, xs: x(2, 3, 3)},
		{name: "gap", node: Node{Op: GlobalAveragePool}, xs: x(3, 4, 5)},
		{name: "gap_keep", node: Node{Op: GlobalAveragePool, Attrs: Attrs{KeepDims: true}}, xs: x(3, 4, 5)},
		{name: "shortcut_a", node: Node{Op: ShortcutA, Attrs: Attrs{Out: 8, Stride: [2]int{2, 2}}}, xs: x(4, 5, 5)},
	} {
		c.smooth = true
		checkOp(t, c)
	}
}

// TestGradientsPools checks the general pool (and nn's where the
// attributes fit) against finite differences.
func TestGradientsPools(t *testing.T) {
	distinct := func(shape ...int) func(r *rand.Rand) []*tensor.Tensor {
		return one(func(r *rand.Rand) *tensor.Tensor {
			x := tensor.New(append([]int{2}, shape...)...)
			for i, j := range r.Perm(x.Len()) {
				x.Data[i] = 0.1*float32(j) - 0.05*float32(x.Len())
			}
			return x
		})
	}
	for _, c := range []opCase{
		{name: "max_simple", node: Node{Op: MaxPool, Attrs: Attrs{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}}},
		{name: "max_ceil", node: Node{Op: MaxPool, Attrs: Attrs{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, CeilMode: true}}},
		{name: "max_asym", node: Node{Op: MaxPool, Attrs: Attrs{Kernel: [2]int{2, 3}, Stride: [2]int{1, 2}, Pads: [4]int{0, 1, 1, 0}}}},
		{name: "max_dil", node: Node{Op: MaxPool, Attrs: Attrs{Kernel: [2]int{2, 2}, Dilation: [2]int{2, 2}, Stride: [2]int{1, 1}}}},
		{name: "avg_simple", node: Node{Op: AveragePool, Attrs: Attrs{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}, CountIncludePad: true}}},
		{name: "avg_nopad", node: Node{Op: AveragePool, Attrs: Attrs{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}}},
		{name: "avg_ceil", node: Node{Op: AveragePool, Attrs: Attrs{Kernel: [2]int{3, 2}, Stride: [2]int{2, 2}, Pads: [4]int{1, 0, 1, 1}, CeilMode: true, CountIncludePad: true}}},
	} {
		c.xs = distinct(2, 7, 6)
		checkOp(t, c)
	}
}
