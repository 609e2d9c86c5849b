package compile

import (
	"fmt"
	"slices"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// This file holds the compiler's walk over the graph: fusion chains, one
// step per chain or node, and buffer slots by liveness.

// compiler carries state through one Compile.
type compiler struct {
	opt    Options
	g      *graph.Graph
	cons   map[string][]*graph.Node
	layers []*LayerInfo
	nbuf   int
	vals   []*value
	ids    map[string]int // tensor name -> value id (aliases share one)
	steps  []*step
	chain  map[*graph.Node]*chain // every node absorbed into a chain
	byOut  map[string]*chain      // chains by output tensor
	// gathered names the tensor the last step computes when that step is
	// a gather (a later gather that alone reads it may fold into it).
	gathered string
	// hint is how the conv being compiled will run, for measure (tune.go).
	hint runHint
}

// value is one activation tensor of the program.
type value struct {
	size int // floats per image, in its layout
	// padded, when non-nil, is the conv whose zero-padded input layout
	// the value is written in (a conv-to-conv handoff): it lives in slots
	// of that layout only, whose halos nothing else writes.
	padded *kernel.Conv
	// flat: the padded conv's plan takes the flat layout (no halos;
	// kernel.GroupPlan.Flat), which shares no slots with the padded one.
	flat bool
	// from is the conv that computes the value when its only reader is a
	// compiled conv: that conv folds from.consts and may take the value
	// in its padded layout.
	from *convOp
	last int // the last step that reads it
	slot int
}

// chain is a run of nodes compiled as one step: a conv with its
// BatchNorm, ReLU or residual Add (and ReLU); or a BatchNorm, linear
// layer or Add with the ReLU after it.
type chain struct {
	nodes []*graph.Node // head first, in graph order
	conv  *nn.Conv2d
	bn    *nn.BatchNorm2d
	relu  bool
	add   string // the operand a conv's epilogue adds ("": none)
	out   string // the output tensor
}

func newCompiler(g *graph.Graph, opt Options) *compiler {
	return &compiler{opt: opt, g: g, cons: g.Consumers(), ids: map[string]int{},
		chain: map[*graph.Node]*chain{}, byOut: map[string]*chain{}}
}

// only returns the single node that reads tensor t, or nil when t is read
// by several nodes, by none, or is the network's output.
func (c *compiler) only(t string) *graph.Node {
	if r := c.cons[t]; len(r) == 1 && t != c.g.Output {
		return r[0]
	}
	return nil
}

// fastConv returns n's layer when n is a conv with a compiled fast path.
func fastConv(n *graph.Node) *nn.Conv2d {
	if n == nil || n.Op != graph.Conv || len(n.Inputs) != 1 || len(n.Outputs) != 1 {
		return nil
	}
	l, _ := n.Layer.(*nn.Conv2d)
	return l
}

// plainAdd reports whether n adds two distinct tensors of one shape.
func (c *compiler) plainAdd(n *graph.Node) bool {
	return n.Op == graph.Add && n.Const == nil && len(n.Inputs) == 2 && len(n.Outputs) == 1 &&
		n.Inputs[0] != n.Inputs[1] && slices.Equal(c.g.Shapes[n.Inputs[0]], c.g.Shapes[n.Inputs[1]]) &&
		slices.Equal(c.g.Shapes[n.Inputs[0]], c.g.Shapes[n.Outputs[0]])
}

// register records ch, after absorbing a ReLU that alone reads its output.
func (c *compiler) register(ch *chain, relu bool) {
	if r := c.only(ch.out); relu && r != nil && r.Op == graph.Relu && len(r.Outputs) == 1 && c.chain[r] == nil {
		ch.relu, ch.out = true, r.Outputs[0]
		ch.nodes = append(ch.nodes, r)
	}
	for _, n := range ch.nodes {
		c.chain[n] = ch
	}
	c.byOut[ch.out] = ch
}

// chains finds the fusion chains. A conv takes the BatchNorm that alone
// reads its output, then the ReLU or the residual Add that alone reads
// that; an Add whose operands are both such convs fuses into the later one
// (the other is computed first, as a shortcut).
func (c *compiler) chains() {
	for _, n := range c.g.Nodes {
		if c.chain[n] != nil {
			continue
		}
		switch n.Op {
		case graph.Conv:
			l := fastConv(n)
			if l == nil {
				continue
			}
			ch := &chain{nodes: []*graph.Node{n}, conv: l, out: n.Outputs[0]}
			if b := c.only(ch.out); b != nil && b.Op == graph.BatchNorm && len(b.Outputs) == 1 {
				if bn, ok := b.Layer.(*nn.BatchNorm2d); ok && bn.C == l.Out {
					ch.bn, ch.out = bn, b.Outputs[0]
					ch.nodes = append(ch.nodes, b)
				}
			}
			r := c.only(ch.out)
			c.register(ch, r != nil && r.Op == graph.Relu)
		case graph.BatchNorm:
			if _, ok := n.Layer.(*nn.BatchNorm2d); ok && len(n.Outputs) == 1 && len(c.g.Shapes[n.Inputs[0]]) == 3 {
				c.register(&chain{nodes: []*graph.Node{n}, out: n.Outputs[0]}, true)
			}
		case graph.Gemm:
			if _, ok := n.Layer.(*nn.Linear); ok && len(n.Inputs) == 1 && len(n.Outputs) == 1 {
				c.register(&chain{nodes: []*graph.Node{n}, out: n.Outputs[0]}, true)
			}
		}
	}
	for _, n := range c.g.Nodes {
		if c.chain[n] != nil || !c.plainAdd(n) {
			continue
		}
		var best *chain
		for _, in := range n.Inputs {
			ch := c.byOut[in]
			if ch == nil || ch.conv == nil || ch.relu || ch.add != "" || c.only(in) != n {
				continue
			}
			if best == nil || c.index(ch) > c.index(best) {
				best = ch
			}
		}
		if best == nil {
			c.register(&chain{nodes: []*graph.Node{n}, out: n.Outputs[0]}, true)
			continue
		}
		delete(c.byOut, best.out)
		best.add = n.Inputs[0]
		if best.add == best.out {
			best.add = n.Inputs[1]
		}
		best.out = n.Outputs[0]
		best.nodes = append(best.nodes, n)
		c.register(best, true)
	}
}

// index returns the position in the graph of ch's last node.
func (c *compiler) index(ch *chain) int {
	return slices.Index(c.g.Nodes, ch.nodes[len(ch.nodes)-1])
}

// walk compiles the graph's nodes in order into steps: a chain where its
// last node stands.
func (c *compiler) walk() error {
	c.vals = []*value{{size: tensor.Numel(c.g.Shapes[c.g.Input]...)}}
	c.ids[c.g.Input] = 0
	c.chains()
	for _, n := range c.g.Nodes {
		for _, in := range n.Inputs {
			if _, ok := c.ids[in]; !ok && c.chain[n] == nil {
				return &graph.Error{Node: n.Name, Op: n.Op, Msg: fmt.Sprintf("input %q is not computed before the node", in)}
			}
		}
		var err error
		if ch := c.chain[n]; ch != nil {
			if n != ch.nodes[len(ch.nodes)-1] {
				continue
			}
			err = c.compileChain(ch)
		} else {
			err = c.node(n)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// newValue adds a value of n floats per image named t.
func (c *compiler) newValue(t string, n int) int {
	c.vals = append(c.vals, &value{size: n})
	c.ids[t] = len(c.vals) - 1
	return len(c.vals) - 1
}

// emit appends a step computing one output tensor t from inputs.
func (c *compiler) emit(o op, inputs []string, t string) *value {
	s := &step{op: o}
	for _, in := range inputs {
		s.in = append(s.in, c.ids[in])
	}
	s.out = []int{c.newValue(t, tensor.Numel(c.g.Shapes[t]...))}
	c.steps = append(c.steps, s)
	c.gathered = ""
	return c.vals[s.out[0]]
}

// compileChain compiles a chain into one step.
func (c *compiler) compileChain(ch *chain) error {
	head := ch.nodes[0]
	x := head.Inputs[0]
	in := c.g.Shapes[x]
	switch {
	case ch.conv != nil:
		nextConv := ch.add == "" && fastConv(c.only(ch.out)) != nil
		src := c.vals[c.ids[x]]
		var consts map[int]float32
		if src.from != nil {
			consts = src.from.consts
		}
		c.hint = c.runHint(ch, src, nextConv)
		co, _, err := c.conv(head.Name, ch.conv, ch.bn, ch.relu, in, consts, nextConv)
		if err != nil {
			return err
		}
		if src.from != nil {
			c.handoff(src, co)
		}
		inputs := []string{x}
		if ch.add != "" {
			co.residual = true
			inputs = append(inputs, ch.add)
		}
		v := c.emit(co, inputs, ch.out)
		if nextConv {
			v.from = co
		}
		return nil
	case head.Op == graph.BatchNorm:
		bn := head.Layer.(*nn.BatchNorm2d)
		if in[0] != bn.C {
			return &graph.Error{Node: head.Name, Op: head.Op, Msg: fmt.Sprintf("input %v, want %d channels", in, bn.C)}
		}
		c.emit(newBNOp(bn, in, ch.relu), []string{x}, ch.out)
	case head.Op == graph.Gemm:
		o, err := c.linear(head.Name, head.Layer.(*nn.Linear), in, ch.relu)
		if err != nil {
			return err
		}
		c.emit(o, []string{x}, ch.out)
	default: // Add
		c.emit(&addOp{relu: ch.relu}, head.Inputs, ch.out)
	}
	return nil
}

// node compiles a node outside any chain.
func (c *compiler) node(n *graph.Node) error {
	var in []int
	if len(n.Inputs) > 0 {
		in = c.g.Shapes[n.Inputs[0]]
	}
	single := len(n.Inputs) == 1 && len(n.Outputs) == 1
	switch {
	case single && (n.Op == graph.Dropout || n.Op == graph.Identity || n.Op == graph.Flatten || n.Op == graph.Reshape):
		c.ids[n.Outputs[0]] = c.ids[n.Inputs[0]] // the same data
		return nil
	case single && n.Op == graph.Relu:
		c.emit(&reluOp{}, n.Inputs, n.Outputs[0])
		return nil
	case single && (n.Op == graph.MaxPool || n.Op == graph.AveragePool):
		if o := newPoolOp(n, in); o != nil {
			c.emit(o, n.Inputs, n.Outputs[0])
			return nil
		}
	case single && n.Op == graph.GlobalAveragePool && len(in) == 3:
		c.emit(&gapOp{c: in[0], hw: in[1] * in[2]}, n.Inputs, n.Outputs[0])
		return nil
	case single && n.Op == graph.ShortcutA && len(in) == 3 && n.Attrs.Out >= in[0] && n.Attrs.Stride[0] >= 1:
		c.emit(newShortcutAOp(n, in), n.Inputs, n.Outputs[0])
		return nil
	case single && gatherOps[n.Op]:
		if o := newGatherOp(n, in, c.g.Shapes[n.Outputs[0]]); o != nil {
			c.gather(n, o)
			return nil
		}
	case n.Op == graph.Concat && n.Attrs.Axis == 0 && len(n.Outputs) == 1 && len(n.Inputs) > 0:
		o := &concatOp{}
		for _, t := range n.Inputs {
			o.sizes = append(o.sizes, tensor.Numel(c.g.Shapes[t]...))
		}
		c.emit(o, n.Inputs, n.Outputs[0])
		return nil
	}
	return c.generic(n)
}

// gather emits the gather o of node n, or, when n alone reads the output
// of the gather just emitted, folds o into that one (ONNX's form of the
// option-A shortcut, a Slice then a Pad, becomes one pass).
func (c *compiler) gather(n *graph.Node, o *gatherOp) {
	x := n.Inputs[0]
	if k := len(c.steps) - 1; k >= 0 && c.gathered == x && c.only(x) == n {
		s := c.steps[k]
		s.op = s.op.(*gatherOp).then(o)
		c.vals[s.out[0]].size = len(o.idx)
		c.ids[n.Outputs[0]] = s.out[0]
		c.gathered = n.Outputs[0]
		return
	}
	c.emit(o, n.Inputs, n.Outputs[0])
	c.gathered = n.Outputs[0]
}

// handoff makes src's producer, a conv whose output only co reads, write
// straight into co's padded input layout when co runs stride 1, so that
// co copies no padding; between int8 convs, into co's quantized packed
// input, so that the output never exists in fp32.
func (c *compiler) handoff(src *value, co *convOp) {
	if co.q8 != nil && src.from.q8 != nil { // int8 to int8: into co's packed input (kernel.Int8Plan.HandOff)
		if src.from.q8.HandOff(co.q8) {
			src.size = co.q8.PackedLen()
		}
		return
	}
	if co.plan.PaddedLen() == 0 || co.q8 != nil || src.from.q8 != nil { // int8 packs its own layout
		return
	}
	src.from.next = co.plan
	src.padded, src.size, src.flat = &co.p, co.plan.PaddedLen(), co.plan.Flat()
	co.padIn = true
}

// splitPoint returns where the per-worker-share part of the program
// starts: at the first linear layer, when a single value crosses there
// (and that value); else len(steps). A product over many images at once
// reads the weights once, where micro-batches would pack them again each
// time.
func (c *compiler) splitPoint(out int) (int, int) {
	for i, s := range c.steps {
		if _, ok := s.op.(*linearOp); !ok {
			continue
		}
		made := map[int]bool{0: true}
		for _, t := range c.steps[:i] {
			for _, v := range t.out {
				made[v] = true
			}
		}
		crossing := map[int]bool{}
		for _, t := range c.steps[i:] {
			for _, v := range t.in {
				if made[v] {
					crossing[v] = true
				}
			}
		}
		if made[out] {
			crossing[out] = true
		}
		if len(crossing) != 1 {
			return len(c.steps), 0
		}
		for v := range crossing {
			if c.vals[v].padded != nil {
				return len(c.steps), 0
			}
			return i, v
		}
	}
	return len(c.steps), 0
}

// allocate gives every step's outputs buffer slots: a value's slot is
// reused once the last step that reads it has run, so that a worker's
// activations stay in cache (a slot per op would stream through
// megabytes per micro-batch). Slots of a padded layout hold only values
// of that layout, so their halos stay zero.
func (c *compiler) allocate(out int) {
	type layout struct {
		padded, flat bool
		p            kernel.Conv
	}
	key := func(v *value) layout {
		if v.padded == nil {
			return layout{}
		}
		return layout{true, v.flat, *v.padded}
	}
	for _, v := range c.vals {
		v.last = -1
	}
	for i, s := range c.steps {
		for _, v := range s.in {
			c.vals[v].last = i
		}
		for _, v := range s.out {
			c.vals[v].last = max(c.vals[v].last, i)
		}
	}
	c.vals[out].last = len(c.steps) // read after the last step
	free := map[layout][]int{}
	for i, s := range c.steps {
		for _, v := range s.out {
			k := key(c.vals[v])
			if f := free[k]; len(f) > 0 {
				c.vals[v].slot, free[k] = f[0], f[1:]
			} else {
				c.vals[v].slot = c.slot()
			}
			s.slots = append(s.slots, c.vals[v].slot)
			s.sizes = append(s.sizes, c.vals[v].size)
		}
		for _, v := range slices.Concat(s.in, s.out) {
			if val := c.vals[v]; v != 0 && val.last == i {
				val.last = -2 // released
				k := key(val)
				free[k] = append(free[k], val.slot)
				slices.Sort(free[k])
			}
		}
	}
}

// slot allocates a worker buffer slot of its own.
func (c *compiler) slot() int {
	c.nbuf++
	return c.nbuf - 1
}
