package compile

import (
	"slices"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// TestResNetFusions checks the program compiled from ResNet-20's lowered
// graph: one step per conv (BN and ReLU fused; each block's second conv
// also takes the residual add and ReLU, reading its first conv's output in
// the padded layout that conv wrote), the two option-A shortcuts, the
// global pool and the linear layer, which starts the per-share part; and
// that buffers are reused (a handful of slots for 23 steps).
func TestResNetFusions(t *testing.T) {
	m, err := models.New("resnet20", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	n, err := Compile(m.Net, m.InputShape[:], Options{Route: Grouped})
	if err != nil {
		t.Fatal(err)
	}
	var convs, shortcuts int
	for i, s := range n.steps {
		switch o := s.op.(type) {
		case *convOp:
			convs++
			if !o.relu {
				t.Errorf("step %d (%s): ReLU not fused", i, o.name)
			}
			if strings.HasSuffix(o.name, ".conv1") && (o.next == nil || o.residual) {
				t.Errorf("step %d (%s): next %v, residual %v, want a handoff to conv2", i, o.name, o.next != nil, o.residual)
			}
			if strings.HasSuffix(o.name, ".conv2") && (!o.padIn || !o.residual) {
				t.Errorf("step %d (%s): padded input %v, residual %v, want both", i, o.name, o.padIn, o.residual)
			}
		case *shortcutAOp:
			shortcuts++
		}
	}
	if len(n.steps) != 23 || convs != 19 || shortcuts != 2 {
		t.Errorf("%d steps (%d convs, %d shortcuts), want 23 (19, 2)", len(n.steps), convs, shortcuts)
	}
	if _, ok := n.steps[n.split].op.(*linearOp); !ok || n.split != len(n.steps)-1 {
		t.Errorf("split at step %d of %d, want the linear layer", n.split, len(n.steps))
	}
	if n.nbuf > 8 {
		t.Errorf("%d buffer slots for %d steps: not reused", n.nbuf, len(n.steps))
	}
}

// TestGatherOps checks that Slice, Pad and Transpose compile to one
// gather and compute what graph's forward of the same nodes computes.
func TestGatherOps(t *testing.T) {
	nodes := []*graph.Node{
		{Name: "sl", Op: graph.Slice, Inputs: []string{"x"}, Outputs: []string{"sl"},
			Attrs: graph.Attrs{Axes: []int{0, 2}, Starts: []int{1, -5}, Ends: []int{4, 9}, Steps: []int{1, 2}}},
		{Name: "pd", Op: graph.Pad, Inputs: []string{"sl"}, Outputs: []string{"pd"},
			Attrs: graph.Attrs{PadBefore: []int{1, 0, 2}, PadAfter: []int{0, 1, 1}, Value: -1.5}},
		{Name: "tr", Op: graph.Transpose, Inputs: []string{"pd"}, Outputs: []string{"tr"},
			Attrs: graph.Attrs{Perm: []int{2, 0, 1}}},
	}
	g := &graph.Graph{Input: "x", InputShape: []int{5, 3, 7}, Output: "tr", Nodes: nodes}
	if err := g.Infer(); err != nil {
		t.Fatal(err)
	}
	n, err := CompileGraph(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := n.steps[0].op.(*gatherOp); !ok || len(n.steps) != 1 {
		t.Errorf("%d steps, the first a %T: want one gather", len(n.steps), n.steps[0].op)
	}
	x := tensor.New(3, 5, 3, 7)
	for i := range x.Data {
		x.Data[i] = float32(i%17) - 8
	}
	want := x
	for _, nd := range nodes {
		ys, err := nd.Forward(nn.NewCtx(false), []*tensor.Tensor{want})
		if err != nil {
			t.Fatal(err)
		}
		want = ys[0].Clone()
	}
	got, err := n.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Shape, want.Shape) || !slices.Equal(got.Data, want.Data) {
		t.Errorf("got %v %v, want %v %v", got.Shape, got.Data, want.Shape, want.Data)
	}
}
