package models

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// fillFixed gives every parameter, buffer and mask of m values from a
// formula, so that the bytes of its file depend on no random generator.
func fillFixed(t *testing.T, m *Model) {
	t.Helper()
	for k, p := range nn.AllParams(m.Net) {
		for i := range p.Value.Data {
			p.Value.Data[i] = float32((i*7+k)%13)*0.25 - 1.5
		}
	}
	nn.Walk(m.Net, func(l nn.Layer) {
		if b, ok := l.(nn.Buffered); ok {
			for k, p := range b.Buffers() {
				for i := range p.Value.Data {
					p.Value.Data[i] = float32((i+k)%5)*0.5 + 0.25
				}
			}
		}
	})
	for i, l := range m.PrunableLayers() {
		n, c := l.MaskShape()
		mask := make([]float32, n*c)
		for j := range mask {
			if (j+i)%3 != 0 {
				mask[j] = 1
			}
		}
		if err := l.SetMask(mask); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFileBytesUnchanged keeps the file format byte for byte: the digests
// below are of files written by modelfile.Save before it stopped building
// models (commit 3d20213, when Save took a *models.Model), for the same
// models, records and extra tensors. A file written today is therefore one
// that code wrote, and the old code's files load (each is loaded back
// here and saved again to the same bytes).
func TestFileBytesUnchanged(t *testing.T) {
	info := modelfile.Info{Dataset: "cifar10", Mean: []float32{0.1, 0.2, 0.3}, Std: []float32{1, 2, 3},
		Training: []byte(`{"epochs_done":3}`), Pruning: []byte(`{"phase":"local"}`)}
	extra := map[string]*tensor.Tensor{
		"optim.conv1.weight.momentum_buffer": {Shape: []int{2}, Data: []float32{2.5, -1}},
		"optim.fc.bias.momentum_buffer":      {Shape: []int{1}, Data: []float32{3}},
	}
	r20 := mustNew(t, "resnet20")
	fillFixed(t, r20)
	r20b, err := New("resnet20", 100, 5, ShortcutB())
	if err != nil {
		t.Fatal(err)
	}
	fillFixed(t, r20b)
	lenet := mustNew(t, "lenet5")
	fillFixed(t, lenet)
	tree := mustNew(t, "resnet20")
	fillFixed(t, tree)
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
	gm, err := FromGraph(g, 10)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		m      *Model
		info   modelfile.Info
		extra  map[string]*tensor.Tensor
		digest string
	}{
		{"resnet20", r20, info, extra, "b52818a6090661d921f45c6088144dae0c2e657baf6230797e8299f74ecd6bf7"},
		{"resnet20-shortcut-b", r20b, modelfile.Info{}, nil, "3c37737750fe191c39bbf8e3ad9a332e13cbc2f760c2688f0176a96a47cb7a7d"},
		{"lenet5", lenet, modelfile.Info{Dataset: "mnist"}, nil, "0f4eb801adbf03b400b3a9e0b31e3362551b7e0cf636c8521e9448e0c7b5e98c"},
		{"graph", gm, info, nil, "106acee1f3092e4407e7029fc142c8990389d053a4501960a1e357ea9bba9888"},
	} {
		path := filepath.Join(dir, c.name+".safetensors")
		if err := SaveFile(path, c.m, c.info, c.extra); err != nil {
			t.Fatal(err)
		}
		if got := digest(t, path); got != c.digest {
			t.Errorf("%s: file digest %s, want %s (the old format's)", c.name, got, c.digest)
			continue
		}
		f, err := LoadFile(path, "")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		again := filepath.Join(dir, c.name+"-again.safetensors")
		if err := SaveFile(again, f.Model, f.Info, f.Extra); err != nil {
			t.Fatal(err)
		}
		if got := digest(t, again); got != c.digest {
			t.Errorf("%s: loaded and saved again, digest %s, want %s", c.name, got, c.digest)
		}
	}
}

func digest(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// TestGraphArchNames checks that the file's name for an imported network
// is the models'.
func TestGraphArchNames(t *testing.T) {
	if GraphArch != modelfile.GraphArch {
		t.Fatalf("models.GraphArch %q, modelfile.GraphArch %q", GraphArch, modelfile.GraphArch)
	}
}
