package models_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// TestFromGraph wraps a lowered ResNet-20: every conv (stem and all) and
// the classifier are prunable, in forward order, and the graph model's
// forward pass equals the nn tree's.
func TestFromGraph(t *testing.T) {
	tree, err := models.New("resnet20", 10, 3, models.ShortcutB())
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.Lower(tree.Net, tree.InputShape[:])
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.FromGraph(g, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Arch != models.GraphArch || m.InputShape != tree.InputShape || m.Classes != 10 {
		t.Fatalf("FromGraph: %s, input %v, %d classes", m.Arch, m.InputShape, m.Classes)
	}
	var want []string
	for _, p := range nn.Prunables(tree.Net) {
		want = append(want, p.Name())
	}
	if !slices.Equal(m.Prunable, want) || !slices.Contains(m.Prunable, "conv1") || !slices.Contains(m.Prunable, "layer2.0.shortcut.0") {
		t.Fatalf("prunable %v, want every conv and the classifier %v", m.Prunable, want)
	}
	if len(m.PrunableLayers()) != len(m.Prunable) {
		t.Fatalf("%d prunable layers found for %d names", len(m.PrunableLayers()), len(m.Prunable))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := tensor.New(2, 3, 32, 32)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	a, err := tree.Net.Forward(nn.NewCtx(false), x.Clone())
	if err != nil {
		t.Fatal(err)
	}
	a = a.Clone()
	b, err := m.Net.Forward(nn.NewCtx(false), x.Clone())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Data, b.Data) {
		t.Fatalf("graph model's logits %v, tree's %v", b.Data[:4], a.Data[:4])
	}
	if _, err := models.FromGraph(g, 7); err == nil || !strings.Contains(err.Error(), "7 classes") {
		t.Fatalf("7 classes for a 10-way graph: %v", err)
	}
}

// TestFromGraphRefuses checks the errors for graphs that are not image
// classifiers.
func TestFromGraphRefuses(t *testing.T) {
	lin := &graph.Graph{Input: "x", InputShape: []int{8}, Output: "fc", Nodes: []*graph.Node{
		{Name: "fc", Op: graph.Gemm, Inputs: []string{"x"}, Outputs: []string{"fc"}, Attrs: graph.Attrs{Out: 4}},
	}}
	if _, err := models.FromGraph(lin, 0); err == nil || !strings.Contains(err.Error(), "channels, height, width") {
		t.Errorf("1-d input: %v", err)
	}
	conv := &graph.Graph{Input: "x", InputShape: []int{3, 8, 8}, Output: "c", Nodes: []*graph.Node{
		{Name: "c", Op: graph.Conv, Inputs: []string{"x"}, Outputs: []string{"c"}, Attrs: graph.Attrs{Out: 4, Kernel: [2]int{3, 3}}},
	}}
	if _, err := models.FromGraph(conv, 0); err == nil || !strings.Contains(err.Error(), "vector of logits") {
		t.Errorf("feature-map output: %v", err)
	}
}
