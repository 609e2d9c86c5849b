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
		w.ctx = nn.NewCtx(false)
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
