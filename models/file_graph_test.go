package models

import (
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/checkpoint"
	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// graphModel is a masked ResNet-20 run as a graph (as an imported network
// is), with a constant operand added before the classifier so that the
// file must carry constants too.
func graphModel(t *testing.T) *Model {
	t.Helper()
	tree := maskedResNet(t)
	g, err := graph.Lower(tree.Net, tree.InputShape[:])
	if err != nil {
		t.Fatal(err)
	}
	fc := g.Nodes[len(g.Nodes)-1]
	scale := &graph.Node{Name: "scale", Op: graph.Mul, Inputs: fc.Inputs, Outputs: []string{"scaled"},
		Const: &tensor.Tensor{Shape: []int{1}, Data: []float32{1.5}}}
	fc.Inputs = []string{"scaled"}
	g.Nodes = append(g.Nodes[:len(g.Nodes)-1], scale, fc)
	g.Shapes = nil
	m, err := FromGraph(g, 10)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func logits(t *testing.T, m *Model) []float32 {
	t.Helper()
	rng := rand.New(rand.NewPCG(4, 5))
	x := tensor.New(2, 3, 32, 32)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	y, err := m.Net.Forward(nn.NewCtx(false), x)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clone(y.Data)
}

// TestGraphRoundTrip saves a graph model and loads it back: same graph,
// weights, constants, masks and logits, no other file needed.
func TestGraphRoundTrip(t *testing.T) {
	m := graphModel(t)
	path := filepath.Join(t.TempDir(), "g.safetensors")
	if err := SaveFile(path, m, modelfile.Info{Dataset: "cifar10"}, nil); err != nil {
		t.Fatal(err)
	}
	if arch, err := modelfile.Arch(path); err != nil || arch != GraphArch {
		t.Fatalf("Arch: %q, %v", arch, err)
	}
	f, err := LoadFile(path, GraphArch)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Model.Prunable, m.Prunable) || f.Model.Classes != 10 {
		t.Fatalf("loaded %d prunable layers, %d classes", len(f.Model.Prunable), f.Model.Classes)
	}
	a, b := m.PrunableLayers(), f.Model.PrunableLayers()
	for i := range a {
		if !slices.Equal(a[i].Mask(), b[i].Mask()) {
			t.Fatalf("%s: mask not restored", a[i].Name())
		}
	}
	if !slices.Equal(logits(t, f.Model), logits(t, m)) {
		t.Fatal("loaded graph model computes other logits")
	}
	if _, err := LoadFile(path, "resnet20"); err == nil || !strings.Contains(err.Error(), "holds a graph") {
		t.Fatalf("wrong architecture accepted: %v", err)
	}
}

// TestGraphBadFile checks that a file whose graph asks for more than its
// tensors hold, or whose graph is missing or corrupt, is refused with an
// error naming the problem, before any layer is built.
func TestGraphBadFile(t *testing.T) {
	m := graphModel(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "g.safetensors")
	if err := SaveFile(good, m, modelfile.Info{}, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, want string
		edit       func(f *checkpoint.File)
	}{
		{"no graph", `"graph" is missing`, func(f *checkpoint.File) { delete(f.Meta, "graph") }},
		{"corrupt graph", `metadata "graph"`, func(f *checkpoint.File) { f.Meta["graph"] = f.Meta["graph"][:100] }},
		{"huge conv", "needs", func(f *checkpoint.File) {
			// A 31x31 kernel keeps every shape but needs a weight 100
			// times the file's.
			var g graph.Graph
			if err := json.Unmarshal([]byte(f.Meta["graph"]), &g); err != nil {
				t.Fatal(err)
			}
			g.Nodes[0].Attrs.Kernel, g.Nodes[0].Attrs.Pads = [2]int{31, 31}, [4]int{15, 15, 15, 15}
			raw, err := json.Marshal(&g)
			if err != nil {
				t.Fatal(err)
			}
			f.Meta["graph"] = string(raw)
		}},
		{"missing weight", "layer1.0.conv1.weight is missing", func(f *checkpoint.File) {
			delete(f.Tensors, "layer1.0.conv1.weight")
			f.Names = slices.DeleteFunc(f.Names, func(s string) bool { return s == "layer1.0.conv1.weight" })
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := checkpoint.Load(good)
			if err != nil {
				t.Fatal(err)
			}
			c.edit(f)
			bad := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".safetensors")
			if err := checkpoint.Save(bad, f); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadFile(bad, ""); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), bad) {
				t.Fatalf("got %v, want an error naming %s and saying %q", err, bad, c.want)
			}
		})
	}
}
