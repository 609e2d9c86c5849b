package onnximport

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/onnxpb"
)

// TestConvNet checks a small classifier, torch-style: Conv, BatchNorm,
// Relu, MaxPool, GlobalAveragePool, Flatten, Gemm with transB, alpha and
// beta, against ONNX Runtime, and PyTorch's parameter names.
func TestConvNet(t *testing.T) {
	b := newModel(13, -1, 3, 9, 9)
	y := b.node("Conv", "/conv1/Conv", []string{"x", b.rand("conv1.weight", 8, 3, 3, 3), b.rand("conv1.bias", 8)}, aInts("pads", 1, 1, 1, 1))
	y = b.node("BatchNormalization", "/bn1/BatchNormalization", []string{y, b.positive("bn1.weight", 8), b.rand("bn1.bias", 8),
		b.rand("bn1.running_mean", 8), b.positive("bn1.running_var", 8)}, aFloat("epsilon", 1e-3), aFloat("momentum", 0.8))
	y = b.node("Relu", "/relu/Relu", []string{y})
	y = b.node("MaxPool", "/maxpool/MaxPool", []string{y}, aInts("kernel_shape", 3, 3), aInts("strides", 2, 2), aInts("pads", 1, 1, 1, 1))
	y = b.node("GlobalAveragePool", "/avgpool/GlobalAveragePool", []string{y})
	y = b.node("Flatten", "/Flatten", []string{y}, aInt("axis", 1))
	y = b.node("Gemm", "/fc/Gemm", []string{y, b.rand("fc.weight", 5, 8), b.rand("fc.bias", 5)}, aInt("transB", 1), aFloat("alpha", 0.5), aFloat("beta", 2))
	g := parity(t, b.out(t, y))
	names, _ := g.StateDict()
	want := []string{"conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "fc.weight", "fc.bias"}
	if !slices.Equal(names, want) {
		t.Errorf("state dict %v, want %v", names, want)
	}
	bn := g.Node("bn1")
	if bn == nil || bn.Attrs.Eps != 1e-3 || bn.Attrs.Momentum < 0.1999 || bn.Attrs.Momentum > 0.2001 {
		t.Errorf("bn1 %+v: want eps 1e-3 and PyTorch momentum 0.2", bn)
	}
	if g.Node("relu.Relu") == nil || g.Node("Flatten") == nil {
		t.Errorf("node names from the module path missing: %v", nodeNames(g))
	}
}

func nodeNames(g *graph.Graph) []string {
	var s []string
	for _, n := range g.Nodes {
		s = append(s, n.Name)
	}
	return s
}

// TestConvVariants covers pads, strides, dilations, groups, rectangular
// kernels, auto_pad and ConvTranspose.
func TestConvVariants(t *testing.T) {
	cases := []struct {
		name  string
		w     []int64
		attrs []*onnxpb.AttributeProto
		op    string
	}{
		{"asym", []int64{6, 4, 3, 3}, []*onnxpb.AttributeProto{aInts("pads", 0, 1, 2, 1), aInts("strides", 2, 1)}, "Conv"},
		{"dilated", []int64{6, 4, 3, 3}, []*onnxpb.AttributeProto{aInts("dilations", 2, 2), aInts("pads", 2, 2, 2, 2)}, "Conv"},
		{"grouped", []int64{6, 2, 3, 3}, []*onnxpb.AttributeProto{aInt("group", 2), aInts("pads", 1, 1, 1, 1)}, "Conv"},
		{"depthwise", []int64{8, 1, 3, 3}, []*onnxpb.AttributeProto{aInt("group", 4), aInts("strides", 2, 2)}, "Conv"},
		{"rect", []int64{6, 4, 1, 3}, []*onnxpb.AttributeProto{aInts("pads", 0, 1, 0, 1)}, "Conv"},
		{"same_upper", []int64{6, 4, 3, 3}, []*onnxpb.AttributeProto{aString("auto_pad", "SAME_UPPER"), aInts("strides", 2, 2)}, "Conv"},
		{"same_lower", []int64{6, 4, 2, 2}, []*onnxpb.AttributeProto{aString("auto_pad", "SAME_LOWER")}, "Conv"},
		{"valid", []int64{6, 4, 3, 3}, []*onnxpb.AttributeProto{aString("auto_pad", "VALID")}, "Conv"},
		{"transpose", []int64{4, 3, 3, 3}, []*onnxpb.AttributeProto{aInts("strides", 2, 2), aInts("pads", 1, 1, 1, 1), aInts("output_padding", 1, 1)}, "ConvTranspose"},
		{"transpose_grouped", []int64{4, 2, 2, 2}, []*onnxpb.AttributeProto{aInts("strides", 2, 2), aInt("group", 2)}, "ConvTranspose"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := newModel(13, -1, 4, 7, 8)
			bias := int64(c.w[0])
			if c.op == "ConvTranspose" {
				bias = c.w[1] * int64(attrIntOf(c.attrs, "group"))
			}
			y := b.node(c.op, "/layer/"+c.op, []string{"x", b.rand("layer.weight", c.w...), b.rand("layer.bias", bias)}, c.attrs...)
			g := parity(t, b.out(t, y))
			if g.Node("layer") == nil {
				t.Errorf("nodes %v, want one named layer", nodeNames(g))
			}
		})
	}
}

func attrIntOf(as []*onnxpb.AttributeProto, name string) int64 {
	for _, a := range as {
		if a.Name == name {
			return a.I
		}
	}
	return 1
}

// TestActivations covers the one-input ops, Clip with attribute bounds
// (opset 9) and with input bounds (opset 14), Dropout, Identity, and in
// opset 9 Pad, Slice, Squeeze and Unsqueeze with attributes.
func TestActivations(t *testing.T) {
	for _, opset := range []int64{9, 14} {
		b := newModel(opset, -1, 3, 4, 4)
		y := b.node("LeakyRelu", "leaky", []string{"x"}, aFloat("alpha", 0.2))
		if opset >= 11 {
			b.g.Initializer = append(b.g.Initializer, floatTensor("lo", nil, []float32{0}), floatTensor("hi", nil, []float32{0.5}))
			y = b.node("Clip", "clip", []string{y, "lo", "hi"})
			y = b.node("HardSwish", "hswish", []string{y})
			b.g.Initializer = append(b.g.Initializer, floatTensor("ratio", nil, []float32{0.3}))
			y = b.node("Dropout", "drop", []string{y, "ratio"})
		} else {
			y = b.node("Clip", "clip", []string{y}, aFloat("min", 0), aFloat("max", 0.5))
			y = b.node("Dropout", "drop", []string{y}, aFloat("ratio", 0.3))
			y = b.node("Pad", "pad", []string{y}, aInts("pads", 0, 1, 0, 2, 0, 0, 1, 0), aFloat("value", -0.5))
			y = b.node("Slice", "crop", []string{y}, aInts("starts", 0, 0, 1), aInts("ends", 3, 4, 5), aInts("axes", 1, 2, 3))
			y = b.node("Unsqueeze", "unsq", []string{y}, aInts("axes", 2))
			y = b.node("Squeeze", "sq", []string{y}) // no axes: every 1 but the batch
		}
		y = b.node("HardSigmoid", "hsig", []string{y}, aFloat("alpha", 0.3), aFloat("beta", 0.4))
		s := b.node("Sigmoid", "sig", []string{"x"})
		y = b.node("Mul", "silu", []string{y, s}) // two activations
		y = b.node("Identity", "id", []string{y})
		y = b.node("Relu", "relu", []string{y})
		parity(t, b.out(t, y))
	}
}

// TestBinaryConstants covers Add, Sub, Mul and Div with per-channel,
// scalar and batch-shaped constants on either side.
func TestBinaryConstants(t *testing.T) {
	b := newModel(13, -1, 3, 4, 5)
	y := b.node("Add", "add", []string{"x", b.rand("c1", 3, 1, 1)})
	y = b.node("Sub", "rsub", []string{b.rand("c2", 1), y}) // c - x
	y = b.node("Div", "rdiv", []string{b.positive("c3", 1, 3, 1, 1), b.node("Add", "shift", []string{b.node("Mul", "sq", []string{y, y}), b.positive("one", 1)})})
	y = b.node("Mul", "mul", []string{b.rand("c4", 5), y}) // constant first
	y = b.node("Sub", "sub", []string{y, b.rand("c5", 4, 1)})
	y = b.node("Div", "div", []string{y, b.positive("c6", 1, 1, 1, 1)})
	g := parity(t, b.out(t, y))
	if n := g.Node("rsub"); n == nil || !n.Attrs.ConstFirst || n.Const == nil {
		t.Errorf("rsub %+v: want ConstFirst and a constant", n)
	}
	if n := g.Node("rdiv"); n == nil || !slices.Equal(n.Const.Shape, []int{3, 1, 1}) {
		t.Errorf("rdiv: want the [1 3 1 1] constant per image as [3 1 1]")
	}
}

// TestSplitConcatSlice covers Split (sizes as attribute, as input, and
// equal parts), Concat and Slice (attributes in opset 9, inputs later).
func TestSplitConcatSlice(t *testing.T) {
	for _, opset := range []int64{9, 11, 13, 18} {
		b := newModel(opset, -1, 6, 5, 5)
		outs := []string{"s0", "s1", "s2"}
		switch {
		case opset >= 18:
			b.nodeOuts("Split", "split", []string{"x"}, outs, aInt("axis", 1), aInt("num_outputs", 3))
		case opset >= 13:
			b.nodeOuts("Split", "split", []string{"x", b.ints("sizes", 1, 2, 3)}, outs, aInt("axis", -3))
		default:
			b.nodeOuts("Split", "split", []string{"x"}, outs, aInt("axis", 1), aInts("split", 3, 2, 1))
		}
		y := b.node("Concat", "cat", []string{"s2", "s0", "s1"}, aInt("axis", 1))
		if opset < 10 {
			y = b.node("Slice", "slice", []string{y}, aInts("starts", 0, 1, -4), aInts("ends", 100, 4, 1000), aInts("axes", 0, 2, 3))
		} else {
			y = b.node("Slice", "slice", []string{y, b.ints("st", 1, 0, -4), b.ints("en", 9223372036854775807, 4, 5), b.ints("ax", 1, -2, 3), b.ints("sp", 2, 1, 2)})
		}
		parity(t, b.out(t, y))
	}
}

// TestPoolsAndMeans covers AveragePool (count_include_pad, ceil_mode),
// ReduceMean over H and W (axes as attribute, and as input in opset 18),
// MatMul and its bias Add (one Gemm).
func TestPoolsAndMeans(t *testing.T) {
	for _, opset := range []int64{13, 18} {
		b := newModel(opset, -1, 3, 7, 7)
		a := b.node("AveragePool", "avg", []string{"x"}, aInts("kernel_shape", 3, 3), aInts("strides", 2, 2), aInts("pads", 1, 1, 1, 1), aInt("count_include_pad", 1))
		a = b.node("AveragePool", "avg2", []string{a}, aInts("kernel_shape", 2, 2), aInts("strides", 2, 2), aInt("ceil_mode", 1))
		m := b.node("MaxPool", "max", []string{a}, aInts("kernel_shape", 2, 2), aInt("ceil_mode", 1), aInts("pads", 0, 0, 1, 1))
		var r string
		if opset >= 18 {
			r = b.node("ReduceMean", "mean", []string{m, b.ints("axes", -1, 2)}, aInt("keepdims", 0))
		} else {
			r = b.node("ReduceMean", "mean", []string{m}, aInts("axes", 2, 3), aInt("keepdims", 0))
		}
		y := b.node("MatMul", "fc", []string{r, b.rand("fc_w", 3, 4)})
		y = b.node("Add", "fc_bias", []string{b.rand("fc_b", 1, 4), y})
		g := parity(t, b.out(t, y))
		if fc := g.Node("fc"); fc == nil || fc.Op != graph.Gemm || !fc.Attrs.Bias || len(g.Nodes) != 5 {
			t.Errorf("nodes %v: want MatMul and its bias Add as one Gemm fc with a bias", nodeNames(g))
		}
	}
}

// TestShapeFolding feeds the shape arithmetic torch.onnx.export writes for
// x.view(x.size(0), -1) and for a channel shuffle (Shape, Gather,
// Unsqueeze, Div, Concat, Reshape, Transpose), plus Pad, Squeeze,
// Unsqueeze, Cast and Gemm without transB.
func TestShapeFolding(t *testing.T) {
	b := newModel(13, -1, 4, 3, 3)
	shape := b.node("Shape", "/Shape", []string{"x"})
	dim := func(i int64) string {
		idx := b.node("Constant", "/Constant_"+string(rune('a'+i)), nil, aTensor("value", &onnxpb.TensorProto{DataType: int32(onnxpb.TensorProto_INT64), Int64Data: []int64{i}}))
		g := b.node("Gather", "/Gather_"+string(rune('a'+i)), []string{shape, idx}, aInt("axis", 0))
		return b.node("Unsqueeze", "/Unsqueeze_"+string(rune('a'+i)), []string{g, b.ints("ax0_"+string(rune('a'+i)), 0)})
	}
	n, c, h, w := dim(0), dim(1), dim(2), dim(3)
	groups := b.ints("groups", 2)
	cpg := b.node("Div", "/Div", []string{c, groups})
	target := b.node("Concat", "/Concat", []string{n, groups, cpg, h, w}, aInt("axis", 0))
	y := b.node("Reshape", "/Reshape", []string{"x", target})
	y = b.node("Transpose", "/Transpose", []string{y}, aInts("perm", 0, 2, 1, 3, 4))
	back := b.node("Concat", "/Concat_1", []string{n, b.ints("minus1", -1), h, w}, aInt("axis", 0))
	y = b.node("Reshape", "/Reshape_1", []string{y, back})
	pads := b.node("Cast", "/Cast", []string{b.ints("pads_f", 0, 0, 1, 0, 0, 0, 0, 2)}, aInt("to", int64(onnxpb.TensorProto_INT64)))
	y = b.node("Pad", "/Pad", []string{y, pads, b.rand("padval")}, aString("mode", "constant"))
	y = b.node("Unsqueeze", "/Unsqueeze", []string{y, b.ints("ax_u", 2)})
	y = b.node("Squeeze", "/Squeeze", []string{y, b.ints("ax_s", -3)})
	flat := b.node("Concat", "/Concat_2", []string{n, b.ints("m1", -1)}, aInt("axis", 0))
	y = b.node("Reshape", "/Reshape_2", []string{y, flat})
	y = b.node("Gemm", "/fc/Gemm", []string{y, b.rand("fc.weight", 4*4*5, 3)}, aFloat("alpha", 1.5))
	g := parity(t, b.out(t, y))
	if r := g.Node("Reshape"); r == nil || !slices.Equal(r.Attrs.Shape, []int{2, 2, 3, 3}) {
		t.Errorf("the shuffle's Reshape target: %+v, want per image [2 2 3 3]", r)
	}
	if g.Node("Shape") != nil || g.Node("Gather_a") != nil {
		t.Errorf("shape arithmetic left in the graph: %v", nodeNames(g))
	}
}

// TestClipOneBound checks a Clip with only a lower bound (opset 14, its
// max input left empty): ONNX Runtime agrees, and the graph's JSON, which
// model files store, encodes (an infinite bound would not).
func TestClipOneBound(t *testing.T) {
	b := newModel(14, -1, 3, 4, 4)
	b.g.Initializer = append(b.g.Initializer, floatTensor("lo", nil, []float32{-0.25}))
	y := b.node("Clip", "clip", []string{"x", "lo", ""})
	g := parity(t, b.out(t, y))
	if _, err := json.Marshal(g); err != nil {
		t.Fatalf("the graph's JSON: %v", err)
	}
}
