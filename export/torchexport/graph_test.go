package torchexport_test

import (
	"slices"
	"testing"

	"github.com/sgcnn/sgcnn/export/torchexport"
	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/tensor"
)

// TestGraphStateDict exports a graph-backed model (a depthwise conv, a
// per-channel constant, a masked general conv): the state_dict holds
// exactly graph.StateDict's tensors, in its order, plus the mask of the
// masked node and num_batches_tracked of the BatchNorm.
func TestGraphStateDict(t *testing.T) {
	scale := tensor.New(8, 1, 1)
	for i := range scale.Data {
		scale.Data[i] = float32(i) / 8
	}
	node := func(name string, op graph.Op, a graph.Attrs, in string) *graph.Node {
		return &graph.Node{Name: name, Op: op, Inputs: []string{in}, Outputs: []string{name}, Attrs: a}
	}
	g := &graph.Graph{Input: "input", InputShape: []int{8, 6, 6}, Output: "fc", Nodes: []*graph.Node{
		node("dw", graph.Conv, graph.Attrs{Out: 8, Kernel: [2]int{3, 3}, Pads: [4]int{1, 1, 1, 1}, Group: 8}, "input"),
		node("bn", graph.BatchNorm, graph.Attrs{}, "dw"),
		{Name: "scale", Op: graph.Mul, Inputs: []string{"bn"}, Outputs: []string{"scale"}, Const: scale},
		node("rect", graph.Conv, graph.Attrs{Out: 4, Kernel: [2]int{1, 3}, Pads: [4]int{0, 2, 0, 0}, Bias: true}, "scale"),
		node("gap", graph.GlobalAveragePool, graph.Attrs{}, "rect"),
		node("fc", graph.Gemm, graph.Attrs{Out: 3, Bias: true}, "gap"),
	}}
	if err := graph.Build(g, 1); err != nil {
		t.Fatal(err)
	}
	net, err := graph.NewNet("net", g)
	if err != nil {
		t.Fatal(err)
	}
	rect := g.Node("rect").PrunableLayer()
	if rect == nil || g.Node("dw").Prunable() {
		t.Fatal("rect should be prunable, the depthwise conv not")
	}
	mask := make([]float32, 4*8)
	for i := range mask {
		mask[i] = float32(i % 3 % 2)
	}
	if err := rect.SetMask(mask); err != nil {
		t.Fatal(err)
	}
	m := &models.Model{Arch: "graph", Net: net, InputShape: [3]int{8, 6, 6}, Classes: 3, Prunable: []string{"rect", "fc"}}
	sd, err := torchexport.StateDict(m)
	if err != nil {
		t.Fatal(err)
	}
	names, tensors := g.StateDict()
	var got []string
	for _, n := range sd.Names {
		if _, ok := sd.Tensors[n]; ok && n != "rect"+torchexport.MaskSuffix {
			got = append(got, n)
		}
	}
	if !slices.Equal(got, names) {
		t.Errorf("float tensors %v, want graph.StateDict's %v", got, names)
	}
	for _, n := range names {
		if !slices.Equal(sd.Tensors[n].Data, tensors[n].Data) {
			t.Errorf("%s differs from the graph's", n)
		}
	}
	mt := sd.Tensors["rect"+torchexport.MaskSuffix]
	if mt == nil || !slices.Equal(mt.Shape, []int{4, 8, 1, 3}) || mt.Data[3*1] != mask[1] || mt.Data[3*2] != mask[2] {
		t.Errorf("rect mask %v", mt)
	}
	if sd.Ints["bn.num_batches_tracked"] == nil || len(sd.Ints) != 1 {
		t.Errorf("int tensors %v, want bn.num_batches_tracked only", sd.Ints)
	}
}
