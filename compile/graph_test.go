package compile_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// gnode is a one-output node named after its output.
func gnode(name string, op graph.Op, a graph.Attrs, ins ...string) *graph.Node {
	return &graph.Node{Name: name, Op: op, Inputs: ins, Outputs: []string{name}, Attrs: a}
}

// dagNet builds a small graph whose tensors fan out (r1 is read by four
// nodes), with nodes the compiler fuses (conv, BN, ReLU; a residual Add
// into a conv; a conv handing off to a conv) next to nodes it runs
// through their own forward (Sigmoid, Mul of two tensors and by a
// constant, a depthwise conv, HardSwish, Split) or as a gather (Slice,
// Pad, Transpose), a Concat of three inputs, an option-A shortcut, and a
// pruned linear layer. Weights, BN statistics and masks (with dead
// filters) are random.
func dagNet(t *testing.T, seed uint64) *graph.Net {
	t.Helper()
	k3 := graph.Attrs{Out: 8, Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Pads: [4]int{1, 1, 1, 1}}
	k1 := graph.Attrs{Out: 8, Kernel: [2]int{1, 1}, Stride: [2]int{1, 1}, Bias: true}
	dw := graph.Attrs{Out: 8, Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Pads: [4]int{1, 1, 1, 1}, Group: 8, Bias: true}
	pool := graph.Attrs{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}}
	g := &graph.Graph{Input: "x", InputShape: []int{3, 8, 8}, Output: "fc", Nodes: []*graph.Node{
		gnode("c1", graph.Conv, graph.Attrs{Out: 8, Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Pads: [4]int{1, 1, 1, 1}}, "x"),
		gnode("bn1", graph.BatchNorm, graph.Attrs{}, "c1"),
		gnode("r1", graph.Relu, graph.Attrs{}, "bn1"),
		gnode("c2", graph.Conv, k3, "r1"),
		gnode("bn2", graph.BatchNorm, graph.Attrs{}, "c2"),
		gnode("sg", graph.Sigmoid, graph.Attrs{}, "bn2"),
		gnode("c3", graph.Conv, k1, "r1"),
		gnode("mul", graph.Mul, graph.Attrs{}, "c3", "sg"),
		gnode("add1", graph.Add, graph.Attrs{}, "mul", "r1"),
		gnode("ar", graph.Relu, graph.Attrs{}, "add1"),
		gnode("c4", graph.Conv, k3, "ar"),
		gnode("bn4", graph.BatchNorm, graph.Attrs{}, "c4"),
		gnode("res", graph.Add, graph.Attrs{}, "bn4", "r1"),
		gnode("dw", graph.Conv, dw, "res"),
		gnode("hs", graph.HardSwish, graph.Attrs{}, "dw"),
		gnode("cm", graph.Mul, graph.Attrs{}, "hs"),
		gnode("c5", graph.Conv, k3, "cm"),
		gnode("bn5", graph.BatchNorm, graph.Attrs{}, "c5"),
		gnode("r5", graph.Relu, graph.Attrs{}, "bn5"),
		gnode("c6", graph.Conv, k3, "r5"),
		{Name: "sp", Op: graph.Split, Attrs: graph.Attrs{Sizes: []int{5, 3}}, Inputs: []string{"c6"}, Outputs: []string{"sp0", "sp1"}},
		gnode("cat", graph.Concat, graph.Attrs{}, "sp0", "r1", "sp1"),
		gnode("mp", graph.MaxPool, pool, "cat"),
		gnode("sl", graph.Slice, graph.Attrs{Axes: []int{1, 2}, Starts: []int{0, 1}, Ends: []int{8, 99}, Steps: []int{2, 2}}, "res"),
		gnode("pd", graph.Pad, graph.Attrs{PadBefore: []int{3, 0, 0}, PadAfter: []int{5, 0, 0}, Value: 0.25}, "sl"),
		gnode("sa", graph.ShortcutA, graph.Attrs{Out: 16, Stride: [2]int{2, 2}}, "res"),
		gnode("add2", graph.Add, graph.Attrs{}, "mp", "pd"),
		gnode("add3", graph.Add, graph.Attrs{}, "add2", "sa"),
		gnode("sh1", graph.Reshape, graph.Attrs{Shape: []int{2, 8, 4, 4}}, "add3"),
		gnode("sh2", graph.Transpose, graph.Attrs{Perm: []int{1, 0, 2, 3}}, "sh1"),
		gnode("sh3", graph.Reshape, graph.Attrs{Shape: []int{16, 4, 4}}, "sh2"),
		gnode("gap", graph.GlobalAveragePool, graph.Attrs{}, "sh3"),
		gnode("fc", graph.Gemm, graph.Attrs{Out: 5, Bias: true}, "gap"),
	}}
	r := rand.New(rand.NewPCG(seed, 1))
	cm := g.Node("cm")
	cm.Const = tensor.New(8, 1, 1)
	for i := range cm.Const.Data {
		cm.Const.Data[i] = 0.5 + r.Float32()
	}
	if err := graph.Build(g, seed); err != nil {
		t.Fatal(err)
	}
	for _, n := range g.Nodes {
		if l, ok := n.Layer.(*nn.BatchNorm2d); ok {
			for i := range l.C {
				l.Gamma.Value.Data[i] = 0.5 + r.Float32()
				l.Beta.Value.Data[i] = r.Float32() - 0.3
				l.Mean.Value.Data[i] = 0.2 * (r.Float32() - 0.5)
				l.Var.Value.Data[i] = 0.5 + r.Float32()
			}
		}
		if p := n.PrunableLayer(); p != nil && n.Name != "c1" {
			nf, nc := p.MaskShape()
			mask := make([]float32, nf*nc)
			for i := range mask {
				if r.IntN(2) == 0 {
					mask[i] = 1
				}
			}
			clear(mask[r.IntN(nf)*nc:][:nc]) // a dead filter
			if err := p.SetMask(mask); err != nil {
				t.Fatal(err)
			}
		}
	}
	net, err := graph.NewNet("dag", g)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// TestGraphFanOutGeneric compiles a DAG with fan-out and generic ops and
// checks the compiled output against graph.Net's evaluation forward, on
// one and two threads, micro-batches that split the batch unevenly, and
// every route; and that the fusions happened (a dead filter's constant
// skipped by one conv and folded into the next).
func TestGraphFanOutGeneric(t *testing.T) {
	defer parallel.SetThreads(parallel.Threads())
	net := dagNet(t, 5)
	r := rand.New(rand.NewPCG(6, 7))
	x := tensor.New(5, 3, 8, 8)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	want, err := net.Forward(nn.NewCtx(false), x)
	if err != nil {
		t.Fatal(err)
	}
	want = want.Clone()
	for _, threads := range []int{1, 2} {
		parallel.SetThreads(threads)
		for _, route := range []compile.Route{compile.Auto, compile.Grouped, compile.Merged, compile.Dense} {
			t.Run(fmt.Sprintf("threads%d/%v", threads, route), func(t *testing.T) {
				cn, err := compile.Compile(net, []int{3, 8, 8}, compile.Options{Route: route, Micro: 2, SplitOne: compile.SplitOn})
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range []int{5, 1} {
					got, err := cn.Forward(&tensor.Tensor{Shape: []int{b, 3, 8, 8}, Data: x.Data[:b*3*64]})
					if err != nil {
						t.Fatal(err)
					}
					if !tensor.SameShape(got.Shape, []int{b, 5}) {
						t.Fatalf("shape %v, want [%d 5]", got.Shape, b)
					}
					if e := relErr(got.Data, want.Data[:b*5]); e > 1e-5 || math.IsNaN(e) {
						t.Errorf("batch %d: relative error %.3g > 1e-5", b, e)
					}
				}
				info := map[string]compile.LayerInfo{}
				for _, l := range cn.Layers() {
					info[l.Name] = l
				}
				// c1..c6 but the depthwise conv, and the linear layer.
				for _, name := range []string{"c1", "c2", "c3", "c4", "c5", "c6", "fc"} {
					if _, ok := info[name]; !ok {
						t.Errorf("layer %s not compiled: %v", name, cn.Layers())
					}
				}
				if info["c5"].Skipped == 0 || info["c6"].Folded == 0 {
					t.Errorf("c5 skipped %d, c6 folded %d constant channels: the fold across the handoff did not happen",
						info["c5"].Skipped, info["c6"].Folded)
				}
				if info["c2"].Skipped != 0 || info["c4"].Skipped != 0 {
					t.Errorf("a conv whose output has other readers skipped channels: c2 %d, c4 %d", info["c2"].Skipped, info["c4"].Skipped)
				}
			})
		}
	}
}
