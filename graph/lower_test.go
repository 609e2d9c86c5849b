package graph_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
)

// TestLowerBuiltins lowers every built-in architecture and checks what
// the lowering must keep: the output shape, every parameter reachable from
// exactly one node, and the prunable layers in the same order.
func TestLowerBuiltins(t *testing.T) {
	for _, arch := range models.Names() {
		t.Run(arch, func(t *testing.T) {
			m, err := models.New(arch, 0, 1)
			if err != nil {
				t.Fatal(err)
			}
			g, err := graph.Lower(m.Net, m.InputShape[:])
			if err != nil {
				t.Fatal(err)
			}
			if got := g.Shapes[g.Output]; !slices.Equal(got, []int{m.Classes}) {
				t.Fatalf("output shape %v, want [%d]", got, m.Classes)
			}
			want := map[*nn.Param]bool{}
			for _, p := range nn.AllParams(m.Net) {
				want[p] = true
			}
			seen := map[*nn.Param]int{}
			var prunable []string
			for _, n := range g.Nodes {
				if n.Layer != nil {
					for _, p := range n.Layer.Params() {
						seen[p]++
					}
				}
				if n.Prunable() {
					prunable = append(prunable, n.Name)
				}
			}
			for p := range want {
				if seen[p] != 1 {
					t.Errorf("parameter %s is held by %d nodes, want 1", p.Name, seen[p])
				}
			}
			var all []string
			for _, p := range nn.Prunables(m.Net) {
				all = append(all, p.Name())
			}
			if !slices.Equal(prunable, all) {
				t.Errorf("prunable nodes %v, want %v", prunable, all)
			}
		})
	}
}

// TestLowerResidualAndConcat checks the two joins by hand.
func TestLowerResidualAndConcat(t *testing.T) {
	m, err := models.New("resnet20", 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.Lower(m.Net, m.InputShape[:])
	if err != nil {
		t.Fatal(err)
	}
	adds := 0
	for _, n := range g.Nodes {
		if n.Op == graph.Add {
			adds++
			if len(n.Inputs) != 2 || !slices.Equal(g.Shapes[n.Inputs[0]], g.Shapes[n.Inputs[1]]) {
				t.Errorf("add %s: inputs %v with shapes %v, %v", n.Name, n.Inputs, g.Shapes[n.Inputs[0]], g.Shapes[n.Inputs[1]])
			}
		}
	}
	if adds != 9 {
		t.Errorf("%d residual adds in ResNet-20, want 9", adds)
	}
	d, err := models.New("densenet40", 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	g, err = graph.Lower(d.Net, d.InputShape[:])
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range g.Nodes {
		if n.Op == graph.Concat {
			in, out := g.Shapes[n.Inputs[0]], g.Shapes[n.Outputs[0]]
			if out[0] != in[0]+12 {
				t.Fatalf("concat %s: %v -> %v, want 12 more channels (DenseNet-40's growth rate)", n.Name, in, out)
			}
		}
	}
}

// TestInferErrors checks that bad graphs are refused naming the node.
func TestInferErrors(t *testing.T) {
	base := func() *graph.Graph {
		return &graph.Graph{Input: "x", InputShape: []int{4, 8, 8}, Output: "y", Nodes: []*graph.Node{
			{Name: "c", Op: graph.Conv, Inputs: []string{"x"}, Outputs: []string{"y"},
				Attrs: graph.Attrs{Out: 6, Kernel: [2]int{3, 3}, Pads: [4]int{1, 1, 1, 1}, Group: 2}},
		}}
	}
	g := base()
	if err := g.Infer(); err != nil {
		t.Fatal(err)
	}
	if got := g.Shapes["y"]; !slices.Equal(got, []int{6, 8, 8}) {
		t.Fatalf("conv output %v, want [6 8 8]", got)
	}
	cases := map[string]func(g *graph.Graph){
		"do not split into 3 groups": func(g *graph.Graph) { g.Nodes[0].Attrs.Group = 3 },
		"not produced":               func(g *graph.Graph) { g.Nodes[0].Inputs = []string{"z"} },
		"smaller than the window":    func(g *graph.Graph) { g.Nodes[0].Attrs.Kernel = [2]int{11, 11} },
		"unknown op":                 func(g *graph.Graph) { g.Nodes[0].Op = "Frobnicate" },
		"more than":                  func(g *graph.Graph) { g.Nodes[0].Attrs.Out = 1 << 40; g.Nodes[0].Attrs.Group = 1 },
	}
	for want, edit := range cases {
		g := base()
		edit(g)
		err := g.Infer()
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "node c") {
			t.Errorf("%s: got %v", want, err)
		}
	}
}
