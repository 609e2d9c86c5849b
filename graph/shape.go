package graph

import (
	"fmt"
	"slices"

	"github.com/sgcnn/sgcnn/nn"
)

// This file is the graph's one shape inference: every reader (count,
// compile, export, training) takes its shapes from Graph.Shapes.

// maxElems bounds one image's tensor: larger shapes come from a corrupt or
// hostile file, not a network sgcnn can run.
const maxElems = 1 << 31

// Infer fills g.Shapes with every tensor's per-image shape, checking each
// node's inputs, attributes and, when its Layer is set, the layer's sizes.
// Errors are *Error values naming the node.
func (g *Graph) Infer() error {
	if g.Input == "" || g.Output == "" {
		return fmt.Errorf("graph: input or output tensor not named")
	}
	if len(g.InputShape) == 0 {
		return fmt.Errorf("graph: input %s has no shape", g.Input)
	}
	if _, err := numel(g.InputShape); err != nil {
		return fmt.Errorf("graph: input %s: %w", g.Input, err)
	}
	shapes := map[string][]int{g.Input: slices.Clone(g.InputShape)}
	names := map[string]bool{}
	for _, n := range g.Nodes {
		if names[n.Name] {
			return &Error{Node: n.Name, Op: n.Op, Msg: "node name used twice"}
		}
		names[n.Name] = true
		ins := make([][]int, len(n.Inputs))
		for i, t := range n.Inputs {
			s, ok := shapes[t]
			if !ok {
				return &Error{Node: n.Name, Op: n.Op, Msg: fmt.Sprintf("input %q is not produced by an earlier node", t)}
			}
			ins[i] = s
		}
		outs, err := n.infer(ins)
		if err != nil {
			return &Error{Node: n.Name, Op: n.Op, Msg: err.Error()}
		}
		if len(outs) != len(n.Outputs) {
			return &Error{Node: n.Name, Op: n.Op, Msg: fmt.Sprintf("%d outputs named, the op gives %d", len(n.Outputs), len(outs))}
		}
		for i, t := range n.Outputs {
			if _, dup := shapes[t]; dup {
				return &Error{Node: n.Name, Op: n.Op, Msg: fmt.Sprintf("output %q is written twice", t)}
			}
			if _, err := numel(outs[i]); err != nil {
				return &Error{Node: n.Name, Op: n.Op, Msg: fmt.Sprintf("output %q: %v", t, err)}
			}
			shapes[t] = outs[i]
		}
	}
	if _, ok := shapes[g.Output]; !ok {
		return fmt.Errorf("graph: output %q is not produced by any node", g.Output)
	}
	g.Shapes = shapes
	return nil
}

// numel returns the number of elements of shape, refusing non-positive
// dimensions and sizes beyond maxElems.
func numel(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 1 {
			return 0, fmt.Errorf("shape %v has a dimension below 1", shape)
		}
		if n > maxElems/d {
			return 0, fmt.Errorf("shape %v holds more than %d elements", shape, maxElems)
		}
		n *= d
	}
	return n, nil
}

// arity checks the number of inputs.
func arity(ins [][]int, lo, hi int) error {
	if len(ins) < lo || len(ins) > hi {
		if lo == hi {
			return fmt.Errorf("%d inputs, want %d", len(ins), lo)
		}
		return fmt.Errorf("%d inputs, want %d to %d", len(ins), lo, hi)
	}
	return nil
}

// infer returns the node's output shapes for the given input shapes.
func (n *Node) infer(ins [][]int) ([][]int, error) {
	a := &n.Attrs
	one := func(s []int, err error) ([][]int, error) {
		if err != nil {
			return nil, err
		}
		return [][]int{s}, nil
	}
	switch n.Op {
	case Conv, ConvTranspose:
		if err := arity(ins, 1, 1); err != nil {
			return nil, err
		}
		return one(n.convShape(ins[0]))
	case MaxPool, AveragePool:
		if err := arity(ins, 1, 1); err != nil {
			return nil, err
		}
		return one(poolShape(a, ins[0]))
	case BatchNorm:
		if err := arity(ins, 1, 1); err != nil {
			return nil, err
		}
		if len(ins[0]) < 1 {
			return nil, fmt.Errorf("input %v has no channel axis", ins[0])
		}
		if bn, ok := n.Layer.(*nn.BatchNorm2d); ok && bn.C != ins[0][0] {
			return nil, fmt.Errorf("input has %d channels, layer has %d", ins[0][0], bn.C)
		}
		return [][]int{slices.Clone(ins[0])}, nil
	case Gemm:
		if err := arity(ins, 1, 1); err != nil {
			return nil, err
		}
		return one(n.gemmShape(ins[0]))
	case Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish, Dropout, Identity:
		if err := arity(ins, 1, 1); err != nil {
			return nil, err
		}
		return [][]int{slices.Clone(ins[0])}, nil
	case Add, Sub, Mul, Div:
		return one(n.binaryShape(ins))
	case Concat:
		return one(concatShape(a.Axis, ins))
	case Split:
		if err := arity(ins, 1, 1); err != nil {
			return nil, err
		}
		return splitShapes(a, ins[0])
	case Slice:
		if err := arity(ins, 1, 1); err != nil {
			return nil, err
		}
		return one(sliceShape(a, ins[0]))
	case GlobalAveragePool:
		if err := arity(ins, 1, 1); err != nil {
			return nil, err
		}
		if len(ins[0]) != 3 {
			return nil, fmt.Errorf("input %v, want [C H W]", ins[0])
		}
		if a.KeepDims {
			return [][]int{{ins[0][0], 1, 1}}, nil
		}
		return [][]int{{ins[0][0]}}, nil
	case Flatten:
		if err := arity(ins, 1, 1); err != nil {
			return nil, err
		}
		s, err := numel(ins[0])
		return one([]int{s}, err)
	case Reshape:
		if err := arity(ins, 1, 1); err != nil {
			return nil, err
		}
		return one(reshapeShape(a.Shape, ins[0]))
	case Transpose:
		if err := arity(ins, 1, 1); err != nil {
			return nil, err
		}
		return one(transposeShape(a.Perm, ins[0]))
	case Pad:
		if err := arity(ins, 1, 1); err != nil {
			return nil, err
		}
		return one(padShape(a, ins[0]))
	case ShortcutA:
		if err := arity(ins, 1, 1); err != nil {
			return nil, err
		}
		return one(shortcutAShape(n, ins[0]))
	}
	return nil, fmt.Errorf("unknown op %q", n.Op)
}

// pairOr returns p with zeros replaced by def.
func pairOr(p [2]int, def int) [2]int {
	for i := range p {
		if p[i] == 0 {
			p[i] = def
		}
	}
	return p
}

// windowOut is the output length of a window of extent k (dilation
// applied) with stride s over n padded by lo and hi; ceil rounds up, as
// pools with ceil_mode do (a last window that starts in the padding after
// the input is dropped, as ONNX and PyTorch do).
func windowOut(n, k, s, lo, hi int, ceil bool) (int, error) {
	span := n + lo + hi - k
	if span < 0 {
		return 0, fmt.Errorf("padded input %d is smaller than the window %d", n+lo+hi, k)
	}
	out := span/s + 1
	if ceil && span%s != 0 {
		out++
		if (out-1)*s >= n+lo {
			out--
		}
	}
	return out, nil
}

// convShape infers a Conv or ConvTranspose output and checks the layer.
func (n *Node) convShape(in []int) ([]int, error) {
	a := &n.Attrs
	if len(in) != 3 {
		return nil, fmt.Errorf("input %v, want [C H W]", in)
	}
	if a.Kernel[0] < 1 || a.Kernel[1] < 1 || a.Out < 1 {
		return nil, fmt.Errorf("kernel %v and %d filters, want positive", a.Kernel, a.Out)
	}
	s, d := pairOr(a.Stride, 1), pairOr(a.Dilation, 1)
	g := max(a.Group, 1)
	for _, p := range a.Pads {
		if p < 0 {
			return nil, fmt.Errorf("negative padding %v", a.Pads)
		}
	}
	if in[0]%g != 0 || a.Out%g != 0 {
		return nil, fmt.Errorf("%d input channels and %d filters do not split into %d groups", in[0], a.Out, g)
	}
	if c, ok := n.Layer.(*nn.Conv2d); ok {
		if c.In != in[0] || c.Out != a.Out || c.K != a.Kernel[0] || c.K != a.Kernel[1] || g != 1 {
			return nil, fmt.Errorf("layer is %d->%d with kernel %d, attributes say %d->%d with kernel %v, group %d", c.In, c.Out, c.K, in[0], a.Out, a.Kernel, g)
		}
	}
	out := []int{a.Out, 0, 0}
	for i := range 2 {
		k := d[i]*(a.Kernel[i]-1) + 1
		if n.Op == ConvTranspose {
			o := (in[i+1]-1)*s[i] - a.Pads[i] - a.Pads[i+2] + k + a.OutputPadding[i]
			if o < 1 {
				return nil, fmt.Errorf("output size %d along axis %d", o, i+1)
			}
			out[i+1] = o
			continue
		}
		o, err := windowOut(in[i+1], k, s[i], a.Pads[i], a.Pads[i+2], false)
		if err != nil {
			return nil, err
		}
		out[i+1] = o
	}
	return out, nil
}

// poolShape infers a MaxPool or AveragePool output.
func poolShape(a *Attrs, in []int) ([]int, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("input %v, want [C H W]", in)
	}
	if a.Kernel[0] < 1 || a.Kernel[1] < 1 {
		return nil, fmt.Errorf("kernel %v, want positive", a.Kernel)
	}
	s, d := pairOr(a.Stride, 1), pairOr(a.Dilation, 1)
	out := []int{in[0], 0, 0}
	for i := range 2 {
		if a.Pads[i] < 0 || a.Pads[i+2] < 0 {
			return nil, fmt.Errorf("negative padding %v", a.Pads)
		}
		o, err := windowOut(in[i+1], d[i]*(a.Kernel[i]-1)+1, s[i], a.Pads[i], a.Pads[i+2], a.CeilMode)
		if err != nil {
			return nil, err
		}
		out[i+1] = o
	}
	return out, nil
}

// gemmShape infers a Gemm output: the input is read flattened.
func (n *Node) gemmShape(in []int) ([]int, error) {
	c, err := numel(in)
	if err != nil {
		return nil, err
	}
	if n.Attrs.Out < 1 {
		return nil, fmt.Errorf("%d output features, want positive", n.Attrs.Out)
	}
	if l, ok := n.Layer.(*nn.Linear); ok && (l.In != c || l.Out != n.Attrs.Out) {
		return nil, fmt.Errorf("input has %d features, layer is %d->%d", c, l.In, l.Out)
	}
	return []int{n.Attrs.Out}, nil
}

// binaryShape infers an elementwise op's output with numpy broadcasting.
func (n *Node) binaryShape(ins [][]int) ([]int, error) {
	switch {
	case len(ins) == 2 && n.Const == nil:
		return broadcast(ins[0], ins[1])
	case len(ins) == 1 && n.Const != nil:
		out, err := broadcast(ins[0], n.Const.Shape)
		if err != nil {
			return nil, fmt.Errorf("constant operand: %w", err)
		}
		if !slices.Equal(out, ins[0]) {
			return nil, fmt.Errorf("constant operand %v would enlarge the input %v", n.Const.Shape, ins[0])
		}
		return out, nil
	}
	return nil, fmt.Errorf("%d activation inputs and a constant: %v, want two inputs or one and a constant", len(ins), n.Const != nil)
}

// broadcast applies numpy's broadcasting rule to two shapes.
func broadcast(a, b []int) ([]int, error) {
	if len(a) < len(b) {
		a, b = b, a
	}
	out := slices.Clone(a)
	off := len(a) - len(b)
	for i, d := range b {
		switch o := out[off+i]; {
		case o == d, d == 1:
		case o == 1:
			out[off+i] = d
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// axisOf normalises a possibly negative axis.
func axisOf(axis, rank int) (int, error) {
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return axis, nil
}

// concatShape infers Concat's output.
func concatShape(axis int, ins [][]int) ([]int, error) {
	if len(ins) < 1 {
		return nil, fmt.Errorf("no inputs")
	}
	ax, err := axisOf(axis, len(ins[0]))
	if err != nil {
		return nil, err
	}
	out := slices.Clone(ins[0])
	for _, s := range ins[1:] {
		if len(s) != len(out) {
			return nil, fmt.Errorf("inputs %v and %v differ in rank", ins[0], s)
		}
		for i := range s {
			if i != ax && s[i] != out[i] {
				return nil, fmt.Errorf("inputs %v and %v differ off axis %d", ins[0], s, axis)
			}
		}
		out[ax] += s[ax]
	}
	return out, nil
}

// splitShapes infers Split's outputs.
func splitShapes(a *Attrs, in []int) ([][]int, error) {
	ax, err := axisOf(a.Axis, len(in))
	if err != nil {
		return nil, err
	}
	total := 0
	outs := make([][]int, len(a.Sizes))
	for i, s := range a.Sizes {
		if s < 1 {
			return nil, fmt.Errorf("split size %d, want positive", s)
		}
		total += s
		outs[i] = slices.Clone(in)
		outs[i][ax] = s
	}
	if total != in[ax] {
		return nil, fmt.Errorf("split sizes %v add up to %d, axis %d has %d", a.Sizes, total, a.Axis, in[ax])
	}
	return outs, nil
}

// SliceRange returns the clamped start, the step and the number of
// elements Slice takes along an axis of length n.
func SliceRange(start, end, step, n int) (lo, count int, err error) {
	if step < 1 {
		return 0, 0, fmt.Errorf("step %d, want positive", step)
	}
	clamp := func(v int) int {
		if v < 0 {
			v += n
		}
		return min(max(v, 0), n)
	}
	lo, hi := clamp(start), clamp(end)
	if hi <= lo {
		return lo, 0, nil
	}
	return lo, (hi - lo + step - 1) / step, nil
}

// sliceShape infers Slice's output.
func sliceShape(a *Attrs, in []int) ([]int, error) {
	if len(a.Starts) != len(a.Axes) || len(a.Ends) != len(a.Axes) || len(a.Steps) != len(a.Axes) {
		return nil, fmt.Errorf("axes %v, starts %v, ends %v and steps %v differ in length", a.Axes, a.Starts, a.Ends, a.Steps)
	}
	out := slices.Clone(in)
	for i, axis := range a.Axes {
		ax, err := axisOf(axis, len(in))
		if err != nil {
			return nil, err
		}
		_, c, err := SliceRange(a.Starts[i], a.Ends[i], a.Steps[i], in[ax])
		if err != nil {
			return nil, err
		}
		if c == 0 {
			return nil, fmt.Errorf("slice of axis %d is empty", axis)
		}
		out[ax] = c
	}
	return out, nil
}

// reshapeShape checks a static Reshape target.
func reshapeShape(target, in []int) ([]int, error) {
	want, err := numel(target)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	have, _ := numel(in)
	if want != have {
		return nil, fmt.Errorf("target %v holds %d elements, input %v holds %d", target, want, in, have)
	}
	return slices.Clone(target), nil
}

// transposeShape checks a permutation and applies it.
func transposeShape(perm, in []int) ([]int, error) {
	if len(perm) != len(in) {
		return nil, fmt.Errorf("permutation %v for an input of rank %d", perm, len(in))
	}
	seen := make([]bool, len(in))
	out := make([]int, len(in))
	for i, p := range perm {
		if p < 0 || p >= len(in) || seen[p] {
			return nil, fmt.Errorf("%v is not a permutation of the per-image axes", perm)
		}
		seen[p] = true
		out[i] = in[p]
	}
	return out, nil
}

// padShape infers a constant Pad's output.
func padShape(a *Attrs, in []int) ([]int, error) {
	if len(a.PadBefore) != len(in) || len(a.PadAfter) != len(in) {
		return nil, fmt.Errorf("pads %v/%v for an input of rank %d", a.PadBefore, a.PadAfter, len(in))
	}
	out := slices.Clone(in)
	for i := range in {
		if a.PadBefore[i] < 0 || a.PadAfter[i] < 0 {
			return nil, fmt.Errorf("negative pads %v/%v", a.PadBefore, a.PadAfter)
		}
		out[i] += a.PadBefore[i] + a.PadAfter[i]
	}
	return out, nil
}

// shortcutAShape infers the option-A shortcut's output.
func shortcutAShape(n *Node, in []int) ([]int, error) {
	a := &n.Attrs
	s := a.Stride[0]
	if len(in) != 3 {
		return nil, fmt.Errorf("input %v, want [C H W]", in)
	}
	if s < 1 || a.Out < in[0] || (a.Out-in[0])%2 != 0 {
		return nil, fmt.Errorf("%d -> %d channels with stride %d", in[0], a.Out, s)
	}
	if l, ok := n.Layer.(*nn.ShortcutA); ok && (l.In != in[0] || l.Out != a.Out || l.Stride != s) {
		return nil, fmt.Errorf("layer is %d->%d stride %d, attributes %d->%d stride %d", l.In, l.Out, l.Stride, in[0], a.Out, s)
	}
	return []int{a.Out, (in[1] + s - 1) / s, (in[2] + s - 1) / s}, nil
}
