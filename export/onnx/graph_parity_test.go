package onnx_test

import (
	"math/rand/v2"
	"testing"

	"github.com/sgcnn/sgcnn/export/onnx"
	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/tensor"
)

// gnode is a one-output node named after itself.
func gnode(name string, op graph.Op, a graph.Attrs, in ...string) *graph.Node {
	return &graph.Node{Name: name, Op: op, Inputs: in, Outputs: []string{name}, Attrs: a}
}

// gconst is a node with a constant operand of the given shape, drawn in
// [lo, lo+1).
func gconst(name string, op graph.Op, first bool, lo float32, shape []int, rng *rand.Rand, in string) *graph.Node {
	c := tensor.New(shape...)
	for i := range c.Data {
		c.Data[i] = lo + rng.Float32()
	}
	return &graph.Node{Name: name, Op: op, Inputs: []string{in}, Outputs: []string{name}, Const: c, Attrs: graph.Attrs{ConstFirst: first}}
}

// mobileNodes is a MobileNet/ShuffleNet-like graph over a [6 12 12] input
// with every op of package graph but ConvTranspose and ShortcutA: grouped,
// depthwise and dilated convs, rectangular kernels with asymmetric pads,
// HardSwish, ReLU6 as Clip, elementwise ops with per-channel and scalar
// constants (either side), a squeeze-excite style Mul of two tensors,
// Split, Concat, a channel shuffle, Pad, Slice with a step, a dilated
// max pool with unequal strides and ceil mode, an average pool with
// uncounted padding, Gemm.
func mobileNodes(rng *rand.Rand) []*graph.Node {
	a := graph.Attrs{}
	return []*graph.Node{
		gnode("stem", graph.Conv, graph.Attrs{Out: 16, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}, "input"),
		gnode("stem_bn", graph.BatchNorm, graph.Attrs{Eps: 1e-5}, "stem"),
		gnode("hs", graph.HardSwish, a, "stem_bn"),
		// Depthwise, dilation 2, followed by a BN that FoldBN folds.
		gnode("dw", graph.Conv, graph.Attrs{Out: 16, Kernel: [2]int{3, 3}, Pads: [4]int{2, 2, 2, 2}, Dilation: [2]int{2, 2}, Group: 16}, "hs"),
		gnode("dw_bn", graph.BatchNorm, graph.Attrs{Eps: 1e-3}, "dw"),
		gnode("relu6", graph.Clip, graph.Attrs{Min: 0, Max: 6}, "dw_bn"),
		gconst("scale", graph.Mul, false, 0.5, []int{16, 1, 1}, rng, "relu6"),
		gconst("shift", graph.Add, false, -0.5, []int{}, rng, "scale"),
		gconst("flip", graph.Sub, true, 0, []int{16, 1, 1}, rng, "shift"),
		gconst("norm", graph.Div, false, 1, []int{16, 1, 1}, rng, "flip"),
		// Grouped conv, 4 groups, with a bias.
		gnode("g4", graph.Conv, graph.Attrs{Out: 24, Kernel: [2]int{3, 3}, Pads: [4]int{1, 1, 1, 1}, Group: 4, Bias: true}, "norm"),
		gnode("pw", graph.Conv, graph.Attrs{Out: 24, Kernel: [2]int{1, 1}}, "g4"),
		gnode("gate", graph.HardSigmoid, graph.Attrs{Alpha: 0.2, Beta: 0.5}, "pw"),
		gnode("se", graph.Mul, a, "pw", "gate"),
		gnode("leaky", graph.LeakyRelu, graph.Attrs{Alpha: 0.1}, "se"),
		{Name: "split", Op: graph.Split, Inputs: []string{"leaky"}, Outputs: []string{"split.0", "split.1"}, Attrs: graph.Attrs{Sizes: []int{8, 16}}},
		gnode("sig", graph.Sigmoid, a, "split.0"),
		gnode("cat", graph.Concat, a, "split.1", "sig"),
		gnode("shuf1", graph.Reshape, graph.Attrs{Shape: []int{2, 12, 6, 6}}, "cat"),
		gnode("shuf2", graph.Transpose, graph.Attrs{Perm: []int{1, 0, 2, 3}}, "shuf1"),
		gnode("shuf3", graph.Reshape, graph.Attrs{Shape: []int{24, 6, 6}}, "shuf2"),
		// A prunable conv that nn's Conv2d cannot run: 1x3 kernel, pads
		// only on the left, stride (1, 2).
		gnode("rect", graph.Conv, graph.Attrs{Out: 20, Kernel: [2]int{1, 3}, Stride: [2]int{1, 2}, Pads: [4]int{0, 2, 0, 0}, Bias: true}, "shuf3"),
		gnode("relu", graph.Relu, a, "rect"),
		gnode("pad", graph.Pad, graph.Attrs{PadBefore: []int{0, 1, 0}, PadAfter: []int{0, 0, 1}, Value: 0.25}, "relu"),
		gnode("slice", graph.Slice, graph.Attrs{Axes: []int{1}, Starts: []int{0}, Ends: []int{1000}, Steps: []int{2}}, "pad"),
		gnode("maxpool", graph.MaxPool, graph.Attrs{Kernel: [2]int{2, 2}, Stride: [2]int{1, 2}, Dilation: [2]int{2, 1}, CeilMode: true}, "slice"),
		gnode("avgpool", graph.AveragePool, graph.Attrs{Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Pads: [4]int{1, 1, 1, 1}}, "maxpool"),
		gnode("gap", graph.GlobalAveragePool, graph.Attrs{KeepDims: true}, "avgpool"),
		gnode("flat", graph.Flatten, a, "gap"),
		gnode("drop", graph.Dropout, graph.Attrs{Ratio: 0.2}, "flat"),
		gnode("fc", graph.Gemm, graph.Attrs{Out: 10, Bias: true}, "drop"),
		gnode("out", graph.Identity, a, "fc"),
	}
}

// upNodes has a transposed conv (groups, stride 2, output padding) and a
// CIFAR option-A shortcut, over a [4 6 6] input.
func upNodes() []*graph.Node {
	return []*graph.Node{
		gnode("conv", graph.Conv, graph.Attrs{Out: 8, Kernel: [2]int{3, 3}, Pads: [4]int{1, 1, 1, 1}}, "input"),
		gnode("up", graph.ConvTranspose, graph.Attrs{Out: 6, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}, OutputPadding: [2]int{1, 1}, Group: 2, Bias: true}, "conv"),
		gnode("short", graph.ShortcutA, graph.Attrs{Out: 10, Stride: [2]int{2, 2}}, "up"),
		gnode("relu", graph.Relu, graph.Attrs{}, "short"),
		gnode("gap", graph.GlobalAveragePool, graph.Attrs{}, "relu"),
		gnode("fc", graph.Gemm, graph.Attrs{Out: 5}, "gap"),
	}
}

// graphModel builds the nodes into a graph.Net wrapped as a model whose
// prunable layers are the graph's prunable nodes.
func graphModel(t testing.TB, nodes []*graph.Node, input [3]int, output string, classes int) *models.Model {
	t.Helper()
	g := &graph.Graph{Input: "input", InputShape: input[:], Output: output, Nodes: nodes}
	if err := graph.Build(g, 7); err != nil {
		t.Fatal(err)
	}
	net, err := graph.NewNet("net", g)
	if err != nil {
		t.Fatal(err)
	}
	m := &models.Model{Arch: "graph", Net: net, InputShape: input, Classes: classes}
	for _, n := range g.Nodes {
		if n.Prunable() {
			m.Prunable = append(m.Prunable, n.Name)
		}
	}
	return m
}

// TestGraphParity exports hand-built graphs with every op and compares
// ONNX Runtime's logits with graph.Net's forward, dense and masked, with
// and without BN folding and grouped conv forms.
func TestGraphParity(t *testing.T) {
	openORT(t)
	for _, c := range []struct {
		name   string
		masked bool
		opts   onnx.Options
	}{
		{name: "dense"},
		{name: "dense/foldbn", opts: onnx.Options{FoldBN: true}},
		{name: "masked", masked: true},
		{name: "masked/grouped/foldbn", masked: true, opts: onnx.Options{Conv: onnx.ConvGrouped, FoldBN: true, Batch: 3}},
	} {
		t.Run("mobile/"+c.name, func(t *testing.T) {
			m := graphModel(t, mobileNodes(rand.New(rand.NewPCG(1, 2))), [3]int{6, 12, 12}, "out", 10)
			if want := []string{"stem", "pw", "rect", "fc"}; len(m.Prunable) != len(want) {
				t.Fatalf("prunable nodes %v, want %v", m.Prunable, want)
			}
			randomize(m, 2)
			if c.masked {
				maskGroups(t, m, 3)
			}
			x := input(m, 3, 4)
			relWithin(t, c.name, ortLogits(t, m, c.opts, x), logits(t, m, x))
		})
		t.Run("up/"+c.name, func(t *testing.T) {
			m := graphModel(t, upNodes(), [3]int{4, 6, 6}, "fc", 5)
			if c.masked {
				maskGroups(t, m, 3)
			}
			x := input(m, 3, 4)
			relWithin(t, c.name, ortLogits(t, m, c.opts, x), logits(t, m, x))
		})
	}
}

// relWithin is within with the logits' own scale, max |want|, which must
// not be tiny: these graphs' logits are well below 1, where within's
// max(1, ...) would make the check an absolute one.
func relWithin(t testing.TB, what string, got, want []float32) {
	t.Helper()
	scale := float32(0)
	for _, w := range want {
		scale = max(scale, w, -w)
	}
	if scale < 1e-3 {
		t.Fatalf("%s: logits at most %g: too small to compare", what, scale)
	}
	g, w := make([]float32, len(got)), make([]float32, len(want))
	for i := range got {
		g[i] = got[i] / scale
	}
	for i := range want {
		w[i] = want[i] / scale
	}
	within(t, what, g, w, tol)
}
