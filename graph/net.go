package graph

import (
	"fmt"

	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// Net runs a graph for training and evaluation. It implements nn.Layer and
// nn.Container (Children: the nodes' layers in node order), so nn's
// helpers (AllParams, AllBuffers, Prunables, masks), the trainer and the
// pruning pipeline work on it unchanged.
//
// Forward runs the nodes in order; Backward walks them in reverse,
// summing the gradients of a tensor read by several nodes. Memory follows
// nn's conventions (see package nn): layers reuse their buffers, ReLU and
// the residual Add work in place. Net plans once, in NewNet, which tensors
// may be overwritten: a tensor is overwritten in place only by its one
// consumer, never when another node reads it or when its producer's
// backward needs it; otherwise the in-place node gets a copy. In the
// backward pass a gradient buffer shared by several tensors (Add hands dy
// to both inputs) is copied before a node that changes its gradient in
// place, or before a sum is formed in it.
type Net struct {
	name   string
	g      *Graph
	steps  []*step
	layers []nn.Layer
	ntens  int
	input  int
	output int
	acts   []*tensor.Tensor
	grads  []*tensor.Tensor
	accum  []*tensor.Tensor // per tensor: the buffer a shared gradient is summed in
	refs   map[*float32]int // gradient buffers: how many tensors' gradients they hold
	dx0    *tensor.Tensor   // zero input gradient when the input gets none
}

// step is one node with its runner and the tensor ids it reads and writes.
type step struct {
	node    *Node
	r       runner
	p       props
	in, out []int
	copyIn  []bool           // input i is copied before forward (an in-place node reading a shared tensor)
	scratch []*tensor.Tensor // the copies
	xs, dys []*tensor.Tensor
	gcopy   []*tensor.Tensor // copies of shared output gradients, for nodes that change them
	zeros   []*tensor.Tensor // zero gradients of outputs nobody reads
}

// NewNet returns a Net that runs g. Every node that has parameters must
// have its Layer (Build or Lower create them); parameter-free nodes get
// their runners here. g's shapes are inferred if they are not yet.
func NewNet(name string, g *Graph) (*Net, error) {
	if g.Shapes == nil {
		if err := g.Infer(); err != nil {
			return nil, err
		}
	}
	n := &Net{name: name, g: g, refs: map[*float32]int{}}
	ids := map[string]int{g.Input: 0}
	n.ntens = 1
	for _, nd := range g.Nodes {
		for _, t := range nd.Outputs {
			ids[t] = n.ntens
			n.ntens++
		}
	}
	n.input, n.output = 0, ids[g.Output]
	consumers := make([]int, n.ntens)
	producer := make([]*step, n.ntens)
	for _, nd := range g.Nodes {
		for _, t := range nd.Inputs {
			consumers[ids[t]]++
		}
	}
	consumers[n.output]++ // the caller reads the output
	mutable := make([]bool, n.ntens)
	for _, nd := range g.Nodes {
		ins := make([][]int, len(nd.Inputs))
		s := &step{node: nd}
		for i, t := range nd.Inputs {
			ins[i] = g.Shapes[t]
			s.in = append(s.in, ids[t])
		}
		r, err := newRunner(nd, ins)
		if err != nil {
			return nil, &Error{Node: nd.Name, Op: nd.Op, Msg: err.Error()}
		}
		if b, ok := r.(*binary); ok {
			for i := range 2 {
				if b.canInPlace(i) && mutable[s.in[i]] {
					b.inplace = i
					break
				}
			}
		}
		s.r, s.p = r, r.props()
		s.copyIn = make([]bool, len(s.in))
		for i, t := range s.in {
			s.copyIn[i] = s.p.mutates && !mutable[t]
		}
		s.scratch = make([]*tensor.Tensor, len(s.in))
		s.xs = make([]*tensor.Tensor, len(s.in))
		s.dys = make([]*tensor.Tensor, len(nd.Outputs))
		s.gcopy = make([]*tensor.Tensor, len(nd.Outputs))
		s.zeros = make([]*tensor.Tensor, len(nd.Outputs))
		for _, t := range nd.Outputs {
			id := ids[t]
			s.out = append(s.out, id)
			producer[id] = s
			// The output may be overwritten by its one consumer unless the
			// producer needs it, or it shares memory with an input that may
			// not be overwritten.
			ok := consumers[id] == 1 && !s.p.needsOutput
			if ok && s.p.aliases {
				for i, u := range s.in {
					if b, isB := r.(*binary); !isB || b.inplace == i {
						ok = ok && mutable[u]
					}
				}
			}
			mutable[id] = ok
		}
		n.steps = append(n.steps, s)
		if nd.Layer != nil {
			n.layers = append(n.layers, nd.Layer)
		}
	}
	n.acts = make([]*tensor.Tensor, n.ntens)
	n.grads = make([]*tensor.Tensor, n.ntens)
	n.accum = make([]*tensor.Tensor, n.ntens)
	return n, nil
}

// Name returns the network's name.
func (n *Net) Name() string { return n.name }

// Params returns nil; nn.AllParams finds the parameters in the children.
func (n *Net) Params() []*nn.Param { return nil }

// Children returns the nodes' layers in node order.
func (n *Net) Children() []nn.Layer { return n.layers }

// Graph returns the graph the network runs.
func (n *Net) Graph() *Graph { return n.g }

// Forward runs every node on the batch x ([B, InputShape...]) and returns
// the output tensor, valid until the next Forward. With ctx.CheckFinite it
// fails naming the first node whose output holds a NaN or an Inf.
func (n *Net) Forward(ctx *nn.Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	if _, err := batchOf(n.name, x, n.g.InputShape); err != nil {
		return nil, err
	}
	clear(n.acts)
	n.acts[n.input] = x
	for _, s := range n.steps {
		for i, t := range s.in {
			a := n.acts[t]
			if s.copyIn[i] {
				c := reuseShape(&s.scratch[i], a.Shape)
				copy(c.Data, a.Data)
				a = c
			}
			s.xs[i] = a
		}
		ys, err := s.r.forward(ctx, s.xs)
		if err != nil {
			return nil, nodeErr(s.node, err)
		}
		for j, t := range s.out {
			n.acts[t] = ys[j]
			if ctx.CheckFinite && nn.HasNonFinite(ys[j].Data) {
				return nil, &nn.NonFiniteError{Where: s.node.Name, What: "output"}
			}
		}
	}
	return n.acts[n.output], nil
}

// nodeErr names the node in a runner's error unless it names it already.
func nodeErr(nd *Node, err error) error {
	switch err.(type) {
	case *nn.ShapeError, *nn.NonFiniteError, *Error:
		return err
	}
	return &Error{Node: nd.Name, Op: nd.Op, Msg: err.Error()}
}

// key identifies a gradient buffer by its memory.
func key(t *tensor.Tensor) *float32 { return &t.Data[0] }

// Backward takes the gradient of the loss with respect to the output and
// returns the gradient with respect to the input, accumulating parameter
// gradients. It may change dy.
func (n *Net) Backward(ctx *nn.Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	out := n.acts[n.output]
	if out == nil || dy == nil || !tensor.SameShape(dy.Shape, out.Shape) {
		return nil, fmt.Errorf("network %s: backward without a matching forward", n.name)
	}
	clear(n.grads)
	clear(n.refs)
	n.grads[n.output] = dy
	n.refs[key(dy)]++
	for k := len(n.steps) - 1; k >= 0; k-- {
		s := n.steps[k]
		flows := false
		for _, t := range s.out {
			flows = flows || n.grads[t] != nil
		}
		if !flows {
			continue // no gradient reaches this node: it adds nothing
		}
		for j, t := range s.out {
			d := n.grads[t]
			n.grads[t] = nil
			if d == nil {
				d = reuseShape(&s.zeros[j], n.acts[t].Shape)
				d.Zero()
			} else {
				n.refs[key(d)]--
				if s.p.changesGrad && n.refs[key(d)] > 0 {
					c := reuseShape(&s.gcopy[j], d.Shape)
					copy(c.Data, d.Data)
					d = c
				}
			}
			s.dys[j] = d
		}
		dxs, err := s.r.backward(ctx, s.dys)
		if err != nil {
			return nil, nodeErr(s.node, err)
		}
		for i, t := range s.in {
			n.accumulate(ctx, t, dxs[i])
		}
	}
	dx := n.grads[n.input]
	if dx == nil {
		dx = reuseShape(&n.dx0, n.acts[n.input].Shape)
		dx.Zero()
	}
	return dx, nil
}

// accumulate adds dx to tensor t's gradient.
func (n *Net) accumulate(ctx *nn.Ctx, t int, dx *tensor.Tensor) {
	cur := n.grads[t]
	if cur == nil {
		n.grads[t] = dx
		n.refs[key(dx)]++
		return
	}
	if n.refs[key(cur)] > 1 {
		// cur is also another tensor's gradient: sum in a buffer of t's own.
		a := reuseShape(&n.accum[t], cur.Shape)
		copy(a.Data, cur.Data)
		n.refs[key(cur)]--
		n.refs[key(a)]++
		n.grads[t] = a
		cur = a
	}
	forChunks(ctx.Pool(), cur.Len(), func(lo, hi int) { kernel.AddTo(cur.Data[lo:hi], dx.Data[lo:hi]) })
}

// Forward runs this one node on a batch: xs[i] is [B, per-image shape of
// input i...]. It returns the node's outputs, in evaluation mode when
// ctx.Train is false. The node's Layer, when set, runs (and keeps its
// state); other nodes get a fresh runner on every call. Inputs are never
// changed; outputs may share memory with them (views, Identity).
func (n *Node) Forward(ctx *nn.Ctx, xs []*tensor.Tensor) ([]*tensor.Tensor, error) {
	in := make([][]int, len(xs))
	for i, x := range xs {
		if x == nil || len(x.Shape) < 1 {
			return nil, &Error{Node: n.Name, Op: n.Op, Msg: fmt.Sprintf("input %d is not a batch", i)}
		}
		in[i] = x.Shape[1:]
	}
	r, err := newRunner(n, in)
	if err != nil {
		return nil, &Error{Node: n.Name, Op: n.Op, Msg: err.Error()}
	}
	if r.props().mutates {
		cp := make([]*tensor.Tensor, len(xs))
		for i, x := range xs {
			cp[i] = x.Clone()
		}
		xs = cp
	}
	ys, err := r.forward(ctx, xs)
	if err != nil {
		return nil, nodeErr(n, err)
	}
	return append([]*tensor.Tensor(nil), ys...), nil
}
