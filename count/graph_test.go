package count_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/count"
	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// mobileGraph is a small MobileNet/ShuffleNet-like graph with every kind
// of node count must pass over: a 1x1 conv, BN, HardSwish, a depthwise 3x3
// conv with stride 2, a per-channel Mul, a grouped conv with a 1x3
// dilated kernel and asymmetric pads, Split, Concat, a channel shuffle
// (Reshape, Transpose, Reshape), a global pool and a Gemm.
func mobileGraph(t *testing.T) *graph.Graph {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	scale := tensor.New(16, 1, 1)
	for i := range scale.Data {
		scale.Data[i] = float32(i)
	}
	node := func(name string, op graph.Op, a graph.Attrs, l nn.Layer, in ...string) *graph.Node {
		return &graph.Node{Name: name, Op: op, Inputs: in, Outputs: []string{name}, Attrs: a, Layer: l}
	}
	g := &graph.Graph{Input: "input", InputShape: []int{8, 16, 16}, Output: "fc", Nodes: []*graph.Node{
		node("pw1", graph.Conv, graph.Attrs{Out: 16, Kernel: [2]int{1, 1}}, nn.NewConv2d("pw1", 8, 16, 1, 1, 0, false, rng), "input"),
		node("bn1", graph.BatchNorm, graph.Attrs{Eps: 1e-5}, nn.NewBatchNorm2d("bn1", 16), "pw1"),
		node("hs1", graph.HardSwish, graph.Attrs{}, nil, "bn1"),
		node("dw", graph.Conv, graph.Attrs{Out: 16, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}, Group: 16}, nil, "hs1"),
		{Name: "scale", Op: graph.Mul, Inputs: []string{"dw"}, Outputs: []string{"scale"}, Const: scale},
		node("g4", graph.Conv, graph.Attrs{Out: 32, Kernel: [2]int{1, 3}, Dilation: [2]int{1, 2}, Pads: [4]int{0, 2, 0, 2}, Group: 4, Bias: true}, nil, "scale"),
		node("pw2", graph.Conv, graph.Attrs{Out: 24, Kernel: [2]int{1, 1}}, nn.NewConv2d("pw2", 32, 24, 1, 1, 0, false, rng), "g4"),
		{Name: "split", Op: graph.Split, Inputs: []string{"pw2"}, Outputs: []string{"split.0", "split.1"}, Attrs: graph.Attrs{Sizes: []int{12, 12}}},
		node("cat", graph.Concat, graph.Attrs{}, nil, "split.1", "split.0"),
		node("r1", graph.Reshape, graph.Attrs{Shape: []int{2, 12, 8, 8}}, nil, "cat"),
		node("tr", graph.Transpose, graph.Attrs{Perm: []int{1, 0, 2, 3}}, nil, "r1"),
		node("r2", graph.Reshape, graph.Attrs{Shape: []int{24, 8, 8}}, nil, "tr"),
		node("gap", graph.GlobalAveragePool, graph.Attrs{}, nil, "r2"),
		node("fc", graph.Gemm, graph.Attrs{Out: 10, Bias: true}, nn.NewLinear("fc", 24, 10, true, rng), "gap"),
	}}
	if err := g.Infer(); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGraphOps checks each row of mobileGraph against the package
// comment's rules, worked out by hand: grouped convs count C/G inputs per
// filter and stay dense, every op other than Conv and Gemm is free.
func TestGraphOps(t *testing.T) {
	tb, err := count.Graph(mobileGraph(t), "pw2", "fc")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name          string
		group         int
		dw, masked    bool
		params, flops int64
	}{
		{"pw1", 1, false, false, 16 * 8, 16 * 16 * 16 * 8},
		{"dw", 16, true, false, 16 * 9, 8 * 8 * 16 * 9},
		// 32 filters of 16/4 channels, 1x3; bias; output 8x8 (the dilated
		// kernel spans 5 columns, padded by 2 each side).
		{"g4", 4, false, false, 32*4*3 + 32, 8 * 8 * 32 * 4 * 3},
		// Masked with all ones in a network with BN: 2 per live filter, no bias.
		{"pw2", 1, false, true, 24*32 + 2*24, 8*8*24*32 + 24},
		{"fc", 1, false, true, 24*10 + 10, 24*10 + 10},
	}
	if len(tb.Rows) != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(tb.Rows), len(want), tb)
	}
	var p, f int64
	for i, w := range want {
		r := tb.Rows[i]
		if r.Name != w.name || r.Group != w.group || r.Depthwise != w.dw || r.Masked != w.masked || r.Params != w.params || r.FLOPs != w.flops {
			t.Errorf("row %d: %+v, want %+v", i, r, w)
		}
		p, f = p+w.params, f+w.flops
	}
	if tb.Params != p || tb.FLOPs != f {
		t.Errorf("totals %v, want %d params, %d FLOPs", tb.Totals, p, f)
	}
	s := tb.String()
	for _, sub := range []string{"conv dw", "conv g=4", "conv*", "leaves them dense", "counted dense"} {
		if !strings.Contains(s, sub) {
			t.Errorf("table lacks %q:\n%s", sub, s)
		}
	}
	// A grouped conv is not prunable: naming it as masked is an error.
	if _, err := count.Graph(mobileGraph(t), "dw"); err == nil || !strings.Contains(err.Error(), "dw") {
		t.Errorf("asMasked depthwise: %v", err)
	}
}

// TestConvTranspose: every input pixel meets N/G filters of KH*KW weights.
func TestConvTranspose(t *testing.T) {
	g := &graph.Graph{Input: "x", InputShape: []int{4, 5, 5}, Output: "up", Nodes: []*graph.Node{
		{Name: "up", Op: graph.ConvTranspose, Inputs: []string{"x"}, Outputs: []string{"up"},
			Attrs: graph.Attrs{Out: 6, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Group: 2, Bias: true}},
	}}
	if err := g.Infer(); err != nil {
		t.Fatal(err)
	}
	tb, err := count.Graph(g)
	if err != nil {
		t.Fatal(err)
	}
	r := tb.Rows[0]
	if r.Params != 4*3*9+6 || r.FLOPs != 5*5*4*3*9 || len(r.Out) != 3 || r.Out[1] != 11 || r.Group != 2 {
		t.Errorf("transposed conv row %+v", r)
	}
}
