package onnx

import (
	"fmt"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/onnxpb"
)

// emit writes one graph node as the ONNX nodes of the same computation in
// eval mode; the op names are ONNX's, so most nodes are one ONNX node.
func (b *builder) emit(n *graph.Node) error {
	switch n.Op {
	case graph.Conv:
		return b.conv(n, b.bnOf[n])
	case graph.ConvTranspose:
		return b.convTranspose(n)
	case graph.BatchNorm:
		return b.batchNorm(n)
	case graph.Gemm:
		return b.gemm(n)
	case graph.Relu, graph.Sigmoid, graph.Identity, graph.Flatten:
		var attrs []*onnxpb.AttributeProto
		if n.Op == graph.Flatten {
			attrs = append(attrs, attrInt("axis", 1))
		}
		return b.unary(n, string(n.Op), nil, attrs...)
	case graph.LeakyRelu:
		return b.unary(n, "LeakyRelu", nil, attrFloat("alpha", n.Attrs.Alpha))
	case graph.HardSigmoid:
		return b.unary(n, "HardSigmoid", nil, attrFloat("alpha", n.Attrs.Alpha), attrFloat("beta", n.Attrs.Beta))
	case graph.HardSwish:
		return b.hardSwish(n)
	case graph.Clip:
		// Opset 11 on: min and max are inputs, scalars.
		return b.unary(n, "Clip", []string{b.floats(n.Name+".min", []float32{n.Attrs.Min}), b.floats(n.Name+".max", []float32{n.Attrs.Max})})
	case graph.Add, graph.Sub, graph.Mul, graph.Div:
		return b.binary(n)
	case graph.Concat:
		return b.concat(n)
	case graph.Split:
		return b.split(n)
	case graph.Slice:
		return b.slice(n)
	case graph.MaxPool, graph.AveragePool:
		return b.pool(n)
	case graph.GlobalAveragePool:
		return b.globalPool(n)
	case graph.Reshape:
		x, err := b.in(n, 0)
		if err != nil {
			return err
		}
		// 0 copies the batch dimension (allowzero is 0 at opset 13).
		shape := b.ints(n.Name+".shape", append([]int{0}, n.Attrs.Shape...)...)
		b.out(n, 0, b.op("Reshape", n.Name, []string{x.name, shape}))
		return nil
	case graph.Transpose:
		perm := []int{0}
		for _, p := range n.Attrs.Perm {
			perm = append(perm, p+1)
		}
		return b.unary(n, "Transpose", nil, attrInts("perm", perm...))
	case graph.Dropout:
		// Eval mode: the identity, written as nothing.
		x, err := b.in(n, 0)
		if err != nil {
			return err
		}
		b.vals[n.Outputs[0]] = x
		return nil
	case graph.Pad:
		return b.pad(n)
	case graph.ShortcutA:
		return b.shortcutA(n)
	}
	return unsupported(n, "no ONNX translation for this op")
}

// unary writes op over the node's first input and extra initializer
// inputs.
func (b *builder) unary(n *graph.Node, op string, extra []string, attrs ...*onnxpb.AttributeProto) error {
	x, err := b.in(n, 0)
	if err != nil {
		return err
	}
	b.out(n, 0, b.op(op, n.Name, append([]string{x.name}, extra...), attrs...))
	return nil
}

// hardSwish writes x * HardSigmoid(x) with alpha 1/6 and beta 0.5: ONNX
// has HardSwish only from opset 14, and this is its definition (PyTorch
// exports it the same way at opset 13).
func (b *builder) hardSwish(n *graph.Node) error {
	x, err := b.in(n, 0)
	if err != nil {
		return err
	}
	hs := b.op("HardSigmoid", n.Name+".hardsigmoid", []string{x.name}, attrFloat("alpha", 1.0/6), attrFloat("beta", 0.5))
	b.out(n, 0, b.op("Mul", n.Name, []string{x.name, hs}))
	return nil
}

// binary writes Add, Sub, Mul or Div of two inputs, or of one input and
// the node's Const (an initializer, broadcast by numpy's rules as in the
// graph: its trailing axes meet the image's).
func (b *builder) binary(n *graph.Node) error {
	x, err := b.in(n, 0)
	if err != nil {
		return err
	}
	var ins []string
	switch {
	case n.Const != nil:
		if len(n.Inputs) != 1 {
			return unsupported(n, fmt.Sprintf("%d inputs and a constant, want 1", len(n.Inputs)))
		}
		c := b.floats(n.Name+".const", n.Const.Data, n.Const.Shape...)
		ins = []string{x.name, c}
		if n.Attrs.ConstFirst {
			ins = []string{c, x.name}
		}
	case len(n.Inputs) == 2:
		y, err := b.in(n, 1)
		if err != nil {
			return err
		}
		ins = []string{x.name, y.name}
	default:
		return unsupported(n, fmt.Sprintf("%d inputs and no constant, want 2", len(n.Inputs)))
	}
	b.out(n, 0, b.op(string(n.Op), n.Name, ins))
	return nil
}

func (b *builder) concat(n *graph.Node) error {
	ins := make([]string, len(n.Inputs))
	for i := range n.Inputs {
		x, err := b.in(n, i)
		if err != nil {
			return err
		}
		ins[i] = x.name
	}
	b.out(n, 0, b.op("Concat", n.Name, ins, attrInt("axis", axis(n.Attrs.Axis))))
	return nil
}

// split writes Split with the sizes as its second input (opset 13).
func (b *builder) split(n *graph.Node) error {
	x, err := b.in(n, 0)
	if err != nil {
		return err
	}
	if len(n.Attrs.Sizes) != len(n.Outputs) {
		return unsupported(n, fmt.Sprintf("%d sizes for %d outputs", len(n.Attrs.Sizes), len(n.Outputs)))
	}
	outs := make([]string, len(n.Outputs))
	for i, o := range n.Outputs {
		outs[i] = b.unique(o)
		b.out(n, i, outs[i])
	}
	b.node("Split", n.Name, []string{x.name, b.ints(n.Name+".split", n.Attrs.Sizes...)}, outs, attrInt("axis", axis(n.Attrs.Axis)))
	return nil
}

// slice writes Slice with starts, ends, axes and steps as inputs.
func (b *builder) slice(n *graph.Node) error {
	a := n.Attrs
	if len(a.Starts) != len(a.Axes) || len(a.Ends) != len(a.Axes) || (a.Steps != nil && len(a.Steps) != len(a.Axes)) {
		return unsupported(n, fmt.Sprintf("axes %v, starts %v, ends %v, steps %v differ in length", a.Axes, a.Starts, a.Ends, a.Steps))
	}
	axes := make([]int, len(a.Axes))
	for i, ax := range a.Axes {
		axes[i] = axis(ax)
	}
	extra := []string{b.ints(n.Name+".starts", a.Starts...), b.ints(n.Name+".ends", a.Ends...), b.ints(n.Name+".axes", axes...)}
	if a.Steps != nil {
		extra = append(extra, b.ints(n.Name+".steps", a.Steps...))
	}
	return b.unary(n, "Slice", extra)
}

// pool writes MaxPool or AveragePool.
func (b *builder) pool(n *graph.Node) error {
	a := n.Attrs
	s, d := pair(a.Stride), pair(a.Dilation)
	attrs := []*onnxpb.AttributeProto{attrInts("kernel_shape", a.Kernel[:]...), attrInts("strides", s[:]...), attrInts("pads", a.Pads[:]...)}
	if a.CeilMode {
		attrs = append(attrs, attrInt("ceil_mode", 1))
	}
	if n.Op == graph.MaxPool {
		if d != [2]int{1, 1} {
			attrs = append(attrs, attrInts("dilations", d[:]...))
		}
	} else {
		if d != [2]int{1, 1} {
			return unsupported(n, fmt.Sprintf("dilation %v: AveragePool has none at opset %d", d, Opset))
		}
		if a.CountIncludePad {
			attrs = append(attrs, attrInt("count_include_pad", 1))
		}
	}
	return b.unary(n, string(n.Op), nil, attrs...)
}

// globalPool writes GlobalAveragePool, and a Flatten when the graph's
// output is [C] (ONNX keeps [C 1 1]).
func (b *builder) globalPool(n *graph.Node) error {
	x, err := b.in(n, 0)
	if err != nil {
		return err
	}
	if n.Attrs.KeepDims {
		b.out(n, 0, b.op("GlobalAveragePool", n.Name, []string{x.name}))
		return nil
	}
	p := b.op("GlobalAveragePool", n.Name+".pool", []string{x.name})
	b.out(n, 0, b.op("Flatten", n.Name, []string{p}, attrInt("axis", 1)))
	return nil
}

// pad writes a constant Pad, the batch axis unpadded.
func (b *builder) pad(n *graph.Node) error {
	x, err := b.in(n, 0)
	if err != nil {
		return err
	}
	a := n.Attrs
	r := len(x.shape)
	if len(a.PadBefore) != r || len(a.PadAfter) != r {
		return unsupported(n, fmt.Sprintf("pads %v / %v for an input of rank %d", a.PadBefore, a.PadAfter, r))
	}
	pads := make([]int, 2*(r+1))
	copy(pads[1:], a.PadBefore)
	copy(pads[r+2:], a.PadAfter)
	ins := []string{x.name, b.ints(n.Name+".pads", pads...)}
	if a.Value != 0 {
		ins = append(ins, b.floats(n.Name+".value", []float32{a.Value}))
	}
	b.out(n, 0, b.op("Pad", n.Name, ins))
	return nil
}

// shortcutA writes x[:, :, ::s, ::s] zero-padded to Attrs.Out channels:
// a Slice (left out at stride 1) and a Pad (left out when the channels
// stay).
func (b *builder) shortcutA(n *graph.Node) error {
	x, err := b.in(n, 0)
	if err != nil {
		return err
	}
	if len(x.shape) != 3 {
		return unsupported(n, fmt.Sprintf("input shape %v (without batch), want [C H W]", x.shape))
	}
	in, out, s := x.shape[0], n.Attrs.Out, pair(n.Attrs.Stride)[0]
	if out < in {
		return unsupported(n, fmt.Sprintf("%d -> %d channels", in, out))
	}
	h, w := x.shape[1], x.shape[2]
	y := x.name
	if s != 1 {
		y = b.op("Slice", n.Name+".slice", []string{x.name,
			b.ints(n.Name+".starts", 0, 0), b.ints(n.Name+".ends", h, w),
			b.ints(n.Name+".axes", 2, 3), b.ints(n.Name+".steps", s, s)})
	}
	if out != in {
		pad := (out - in) / 2
		y = b.op("Pad", n.Name, []string{y, b.ints(n.Name+".pads", 0, pad, 0, 0, 0, out-in-pad, 0, 0)})
	}
	b.out(n, 0, y)
	return nil
}

// batchNorm writes BatchNormalization with the running statistics.
func (b *builder) batchNorm(n *graph.Node) error {
	x, err := b.in(n, 0)
	if err != nil {
		return err
	}
	if len(x.shape) < 1 {
		return unsupported(n, "input has no channel axis")
	}
	c := x.shape[0]
	ins := []string{x.name}
	for _, s := range []string{".weight", ".bias", ".running_mean", ".running_var"} {
		p, err := needParam(n, s, c)
		if err != nil {
			return err
		}
		ins = append(ins, b.floats(p.Name, p.Value.Data, c))
	}
	b.out(n, 0, b.op("BatchNormalization", n.Name, ins, attrFloat("epsilon", float32(n.Attrs.Eps))))
	return nil
}

// gemm writes a Flatten (for inputs of rank other than 1) and Gemm with
// transB=1 and the masked weight.
func (b *builder) gemm(n *graph.Node) error {
	x, err := b.in(n, 0)
	if err != nil {
		return err
	}
	if len(x.shape) != 1 {
		x = value{b.op("Flatten", n.Name+".flatten", []string{x.name}, attrInt("axis", 1)), []int{prod(x.shape)}}
	}
	nOut, nIn := n.Attrs.Out, x.shape[0]
	w, err := needParam(n, ".weight", nOut*nIn)
	if err != nil {
		return err
	}
	var mask []float32
	if n.Prunable() {
		mask = n.PrunableLayer().Mask()
	}
	ins := []string{x.name, b.floats(w.Name, masked(w.Value.Data, mask, 1), nOut, nIn)}
	if n.Attrs.Bias {
		bias, err := needParam(n, ".bias", nOut)
		if err != nil {
			return err
		}
		ins = append(ins, b.floats(bias.Name, bias.Value.Data, nOut))
	}
	b.out(n, 0, b.op("Gemm", n.Name, ins, attrInt("transB", 1)))
	return nil
}

// convTranspose writes ConvTranspose; its weight is [C][N/group][KH][KW].
func (b *builder) convTranspose(n *graph.Node) error {
	x, err := b.in(n, 0)
	if err != nil {
		return err
	}
	a := n.Attrs
	g := max(a.Group, 1)
	if len(x.shape) != 3 || a.Out%g != 0 {
		return unsupported(n, fmt.Sprintf("input %v, %d outputs, group %d", x.shape, a.Out, g))
	}
	shape := []int{x.shape[0], a.Out / g, a.Kernel[0], a.Kernel[1]}
	w, err := needParam(n, ".weight", prod(shape))
	if err != nil {
		return err
	}
	ins := []string{x.name, b.floats(w.Name, w.Value.Data, shape...)}
	if a.Bias {
		bias, err := needParam(n, ".bias", a.Out)
		if err != nil {
			return err
		}
		ins = append(ins, b.floats(bias.Name, bias.Value.Data, a.Out))
	}
	s, d := pair(a.Stride), pair(a.Dilation)
	attrs := []*onnxpb.AttributeProto{attrInts("kernel_shape", a.Kernel[:]...), attrInts("strides", s[:]...),
		attrInts("pads", a.Pads[:]...), attrInts("dilations", d[:]...), attrInt("group", g)}
	if a.OutputPadding != [2]int{} {
		attrs = append(attrs, attrInts("output_padding", a.OutputPadding[:]...))
	}
	b.out(n, 0, b.op("ConvTranspose", n.Name, ins, attrs...))
	return nil
}
