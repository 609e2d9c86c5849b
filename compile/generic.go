package compile

import (
	"fmt"
	"slices"
	"sync"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// genericOp runs a node the compiler has no kernel for through the node's
// own evaluation-mode forward (graph's (*Node).Forward), on the worker's
// buffers wrapped as tensors. A node's layer keeps state between calls
// (cached inputs, reused outputs), so for a node with a layer the workers
// take turns: the op runs under a lock, and its outputs are copied out
// before the lock is let go. Other nodes get a fresh runner on every call
// and run concurrently, each worker with its own nn.Ctx.
type genericOp struct {
	n       *graph.Node
	in, out [][]int // per-image shapes of the inputs and outputs
	mu      sync.Mutex
}

// generic compiles n as a generic op. It runs n once on one zero image to
// check, before any work, that the node runs and gives the shapes the
// graph says.
func (c *compiler) generic(n *graph.Node) error {
	o := &genericOp{n: n}
	xs := make([]*tensor.Tensor, len(n.Inputs))
	for i, t := range n.Inputs {
		sh, ok := c.g.Shapes[t]
		if !ok {
			return &graph.Error{Node: n.Name, Op: n.Op, Msg: fmt.Sprintf("input %q has no inferred shape", t)}
		}
		o.in = append(o.in, sh)
		xs[i] = tensor.New(append([]int{1}, sh...)...)
	}
	for _, t := range n.Outputs {
		o.out = append(o.out, c.g.Shapes[t])
	}
	ys, err := n.Forward(nn.NewCtx(false), xs)
	if err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	if err := o.check(ys, 1); err != nil {
		return err
	}
	s := &step{op: o}
	for _, t := range n.Inputs {
		s.in = append(s.in, c.ids[t])
	}
	for k, t := range n.Outputs {
		s.out = append(s.out, c.newValue(t, tensor.Numel(o.out[k]...)))
	}
	c.steps = append(c.steps, s)
	c.gathered = ""
	return nil
}

// check reports whether ys are the node's outputs for m images.
func (o *genericOp) check(ys []*tensor.Tensor, m int) error {
	if len(ys) != len(o.out) {
		return &graph.Error{Node: o.n.Name, Op: o.n.Op, Msg: fmt.Sprintf("forward gave %d outputs, want %d", len(ys), len(o.out))}
	}
	for k, y := range ys {
		if want := append([]int{m}, o.out[k]...); y == nil || !slices.Equal(y.Shape, want) || len(y.Data) != tensor.Numel(want...) {
			var got []int
			if y != nil {
				got = y.Shape
			}
			return &graph.Error{Node: o.n.Name, Op: o.n.Op, Msg: fmt.Sprintf("forward gave output %d of shape %v, want %v", k, got, want)}
		}
	}
	return nil
}

func (o *genericOp) run(w *worker, xs, ys [][]float32, m int) {
	ts := make([]*tensor.Tensor, len(xs))
	for i, x := range xs {
		ts[i] = &tensor.Tensor{Shape: append([]int{m}, o.in[i]...), Data: x[:m*tensor.Numel(o.in[i]...)]}
	}
	if w.ctx == nil {
		w.ctx = &nn.Ctx{Threads: w.pool.Threads()}
	}
	if o.n.Layer != nil {
		o.mu.Lock()
		defer o.mu.Unlock()
	}
	out, err := o.n.Forward(w.ctx, ts)
	if err == nil {
		err = o.check(out, m)
	}
	if err != nil {
		if w.err == nil {
			w.err = fmt.Errorf("compile: %w", err)
		}
		for _, y := range ys {
			clear(y)
		}
		return
	}
	for k, y := range out {
		copy(ys[k], y.Data)
	}
}

// gatherOps are the ops that only move values: each output value is one
// input value or a constant.
var gatherOps = map[graph.Op]bool{graph.Slice: true, graph.Pad: true, graph.Transpose: true}

// gatherOp is a node that only moves values (Slice, Pad, Transpose, or a
// chain of them), run as a gather through an index table made once at
// compile time.
type gatherOp struct {
	// idx holds, per output value, the input value it copies; a negative
	// k stands for the constant consts[-k-1].
	idx    []int32
	consts []float32
	inN    int // floats per image of the input
}

// newGatherOp returns n as a gather, or nil when it is not one (a node
// with a layer, or an image too large for exact float32 indices). The
// index table comes from graph's own forward of n on one image whose
// values are their own 1-based indices (exact in float32 below 2^24): an
// output holding k copies input k-1; with the pad value set to 0, an
// output holding 0 is the constant.
func newGatherOp(n *graph.Node, in, out []int) *gatherOp {
	inN, outN := tensor.Numel(in...), tensor.Numel(out...)
	if !gatherOps[n.Op] || n.Layer != nil || len(n.Inputs) != 1 || len(n.Outputs) != 1 || inN >= 1<<24 {
		return nil
	}
	probe := *n
	probe.Attrs.Value = 0
	x := tensor.New(append([]int{1}, in...)...)
	for i := range x.Data {
		x.Data[i] = float32(i + 1)
	}
	ys, err := probe.Forward(nn.NewCtx(false), []*tensor.Tensor{x})
	if err != nil || len(ys) != 1 || len(ys[0].Data) != outN {
		return nil
	}
	o := &gatherOp{idx: make([]int32, outN), consts: []float32{n.Attrs.Value}, inN: inN}
	for j, v := range ys[0].Data {
		k := int(v) - 1
		if float32(k+1) != v || k < -1 || k >= inN {
			return nil
		}
		o.idx[j] = int32(k)
	}
	return o
}

// then returns the gather that runs o, then next on o's output.
func (o *gatherOp) then(next *gatherOp) *gatherOp {
	c := &gatherOp{idx: make([]int32, len(next.idx)), consts: slices.Concat(next.consts, o.consts), inN: o.inN}
	shift := int32(len(next.consts))
	for j, k := range next.idx {
		switch {
		case k < 0:
			c.idx[j] = k
		case o.idx[k] < 0:
			c.idx[j] = o.idx[k] - shift
		default:
			c.idx[j] = o.idx[k]
		}
	}
	return c
}

func (o *gatherOp) run(_ *worker, xs, ys [][]float32, m int) {
	x, y := xs[0], ys[0]
	n := len(o.idx)
	for i := range m {
		xi, yi := x[i*o.inN:(i+1)*o.inN], y[i*n:(i+1)*n]
		for j, k := range o.idx {
			if k < 0 {
				yi[j] = o.consts[-k-1]
			} else {
				yi[j] = xi[k]
			}
		}
	}
}
