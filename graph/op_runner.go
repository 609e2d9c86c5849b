package graph

import (
	"fmt"

	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// runner runs one node on batches: xs[i] is [B, per-image shape of input
// i...]. Like nn's layers, a runner caches what its backward needs and
// reuses its output buffers from one batch to the next; backward follows
// the forward of the same batch and returns one gradient per input.
type runner interface {
	forward(ctx *nn.Ctx, xs []*tensor.Tensor) ([]*tensor.Tensor, error)
	backward(ctx *nn.Ctx, dys []*tensor.Tensor) ([]*tensor.Tensor, error)
	props() props
}

// props tell Net how a runner treats the memory it is given, so that it
// copies a tensor only where sharing would corrupt it.
type props struct {
	// mutates: forward may overwrite its inputs (nn.ReLU works in place).
	mutates bool
	// aliases: an output may share memory with an input (views, in-place
	// ops, identity).
	aliases bool
	// needsOutput: backward reads the node's own output (nn.ReLU), so no
	// consumer may overwrite it.
	needsOutput bool
	// changesGrad: backward may overwrite the gradient it is given.
	changesGrad bool
}

// layerRunner runs a single-input, single-output nn.Layer.
type layerRunner struct {
	l      nn.Layer
	p      props
	inView []int // when set, the input is viewed as [B, inView...] (BatchNorm of a [B C] tensor)
	xv, yv tensor.Tensor
	dyv    tensor.Tensor
	dxv    tensor.Tensor
	xshape []int
	out    [1]*tensor.Tensor
}

// layerProps returns what nn's layers are known to do with their memory;
// layers it does not know are assumed to do everything.
func layerProps(l nn.Layer) props {
	if p, ok := l.(interface{ props() props }); ok {
		return p.props()
	}
	switch l.(type) {
	case *nn.Conv2d, *nn.BatchNorm2d, *nn.Linear, *nn.MaxPool2d, *nn.AvgPool2d, *nn.GlobalAvgPool, *nn.ShortcutA:
		return props{}
	case *nn.Dropout:
		return props{aliases: true} // the identity in evaluation mode
	case *nn.ReLU:
		return props{mutates: true, aliases: true, needsOutput: true, changesGrad: true}
	}
	return props{mutates: true, aliases: true, needsOutput: true, changesGrad: true}
}

func newLayerRunner(l nn.Layer, op Op, in []int) *layerRunner {
	r := &layerRunner{l: l, p: layerProps(l)}
	if op == BatchNorm && len(in) != 3 && len(in) > 0 {
		r.inView = []int{in[0], tensor.Numel(in[1:]...), 1}
	}
	return r
}

func (r *layerRunner) props() props { return r.p }

func (r *layerRunner) forward(ctx *nn.Ctx, xs []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(xs) != 1 {
		return nil, fmt.Errorf("layer %s: %d inputs, want 1", r.l.Name(), len(xs))
	}
	x := xs[0]
	if r.inView != nil {
		r.xshape = x.Shape
		x = view(&r.xv, x.Data, x.Shape[0], r.inView)
	}
	y, err := r.l.Forward(ctx, x)
	if err != nil {
		return nil, err
	}
	if r.inView != nil {
		y = view(&r.yv, y.Data, r.xshape[0], r.xshape[1:])
	}
	r.out[0] = y
	return r.out[:], nil
}

func (r *layerRunner) backward(ctx *nn.Ctx, dys []*tensor.Tensor) ([]*tensor.Tensor, error) {
	dy := dys[0]
	if r.inView != nil {
		dy = view(&r.dyv, dy.Data, dy.Shape[0], r.inView)
	}
	dx, err := r.l.Backward(ctx, dy)
	if err != nil {
		return nil, err
	}
	if r.inView != nil {
		dx = view(&r.dxv, dx.Data, r.xshape[0], r.xshape[1:])
	}
	r.out[0] = dx
	return r.out[:], nil
}

// view sets t to data viewed as [b, shape...], reusing t's shape slice, and
// returns t.
func view(t *tensor.Tensor, data []float32, b int, shape []int) *tensor.Tensor {
	t.Shape = append(append(t.Shape[:0], b), shape...)
	t.Data = data
	return t
}

// batchOf returns a batch tensor's per-image length and checks that its
// per-image shape is want.
func batchOf(name string, x *tensor.Tensor, want []int) (b int, err error) {
	if x == nil || len(x.Shape) != len(want)+1 || x.Shape[0] < 1 || !tensor.SameShape(x.Shape[1:], want) {
		var got []int
		if x != nil {
			got = x.Shape
		}
		return 0, &nn.ShapeError{Layer: name, Got: got, Want: "[B " + tensor.ShapeString(want)[1:] + " with B >= 1"}
	}
	return x.Shape[0], nil
}

// reuse returns *buf if it has shape [b, shape...], else a new zero tensor
// stored in *buf.
func reuse(buf **tensor.Tensor, b int, shape []int) *tensor.Tensor {
	t := *buf
	if t != nil && len(t.Shape) == len(shape)+1 && t.Shape[0] == b && tensor.SameShape(t.Shape[1:], shape) {
		return t
	}
	*buf = tensor.New(append([]int{b}, shape...)...)
	return *buf
}

// noForward is the error of a backward pass without a forward pass.
func noForward(name string) error {
	return fmt.Errorf("node %s: backward without a matching forward", name)
}

// reuseShape returns *buf if it has the given full shape, else a new zero
// tensor stored in *buf.
func reuseShape(buf **tensor.Tensor, shape []int) *tensor.Tensor {
	if *buf == nil || !tensor.SameShape((*buf).Shape, shape) {
		*buf = tensor.New(shape...)
	}
	return *buf
}

// minChunk is the fewest floats worth a goroutine of an elementwise loop.
const minChunk = 1 << 14

// forChunks calls fn on contiguous chunks [lo, hi) covering [0, n), on
// p's workers when n is large.
func forChunks(p *parallel.Pool, n int, fn func(lo, hi int)) {
	t := min(p.Threads(), n/minChunk)
	if t <= 1 {
		fn(0, n)
		return
	}
	p.For(t, func(_, w int) { fn(w*n/t, (w+1)*n/t) })
}

// newRunner returns the runner of node n whose inputs have the per-image
// shapes in. A node's Layer runs when set; parameter-free nodes without
// one get the graph's own implementation.
func newRunner(n *Node, in [][]int) (runner, error) {
	if n.Layer != nil {
		if len(in) != 1 || len(n.Outputs) != 1 {
			return nil, fmt.Errorf("a layer runs one input to one output, the node has %d and %d", len(in), len(n.Outputs))
		}
		return newLayerRunner(n.Layer, n.Op, in[0]), nil
	}
	switch n.Op {
	case Add, Sub, Mul, Div:
		return newBinary(n, in)
	case Concat:
		return newConcat(n.Name, n.Attrs.Axis, in)
	case Split:
		if len(in) != 1 {
			return nil, fmt.Errorf("%d inputs, want 1", len(in))
		}
		return newSplit(n.Name, n.Attrs.Axis, n.Attrs.Sizes, in[0])
	}
	if len(in) != 1 || len(n.Outputs) != 1 {
		return nil, fmt.Errorf("%d inputs and %d outputs, want 1 and 1", len(in), len(n.Outputs))
	}
	l, err := paramFreeLayer(n, in[0])
	if err != nil {
		return nil, err
	}
	return newLayerRunner(l, n.Op, in[0]), nil
}

// paramFreeLayer returns the layer that runs a parameter-free
// single-input node.
func paramFreeLayer(n *Node, in []int) (nn.Layer, error) {
	a := &n.Attrs
	switch n.Op {
	case Relu:
		return nn.NewReLU(n.Name), nil
	case LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish:
		return newUnary(n.Name, n.Op, *a), nil
	case Identity:
		return newView(n.Name, in, in)
	case Flatten:
		return newView(n.Name, in, []int{tensor.Numel(in...)})
	case Reshape:
		return newView(n.Name, in, a.Shape)
	case Dropout:
		return nn.NewDropout(n.Name, a.Ratio), nil
	case ShortcutA:
		if len(in) != 3 {
			return nil, fmt.Errorf("input %s, want [C H W]", tensor.ShapeString(in))
		}
		return nn.NewShortcutA(n.Name, in[0], a.Out, max(a.Stride[0], 1)), nil
	case GlobalAveragePool:
		return newGAP(n.Name, in, a.KeepDims)
	case Slice:
		return newSlice(n.Name, a, in)
	case Transpose:
		return newTranspose(n.Name, a.Perm, in)
	case Pad:
		return newPad(n.Name, a, in)
	case MaxPool, AveragePool:
		return newPool(n, in)
	case Conv, ConvTranspose, BatchNorm, Gemm:
		return nil, fmt.Errorf("no layer: build the graph first (graph.Build) or load it")
	}
	return nil, fmt.Errorf("unknown op %q", n.Op)
}
