package modelfile

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/checkpoint"
	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/tensor"
)

// rawFile is a small file's parts: a 3-class classifier with a mask and
// an optimiser buffer. (Round trips of real networks, and the format's
// bytes, are tested in package models, which builds them.)
func rawFile() *File {
	w := &tensor.Tensor{Shape: []int{3, 4}, Data: []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}
	b := &tensor.Tensor{Shape: []int{3}, Data: []float32{-1, 0, 1}}
	return &File{
		Arch: "toy", Classes: 3, ShortcutB: true,
		Names: []string{"fc.weight", "fc.bias"},
		State: map[string]*tensor.Tensor{"fc.weight": w, "fc.bias": b},
		Masks: []Mask{{Layer: "fc", Mask: &tensor.Tensor{Shape: []int{3, 4}, Data: []float32{1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0}}}},
		Info:  Info{Dataset: "cifar10", Mean: []float32{0.5}, Std: []float32{2}, Pruning: []byte(`{"phase":"local"}`)},
		Extra: map[string]*tensor.Tensor{OptimPrefix + "fc.weight.momentum_buffer": {Shape: []int{2}, Data: []float32{2.5, 3}}},
	}
}

// TestRawRoundTrip saves parts and reads them back: the same metadata,
// tensors in the same order, masks by layer, info and extra tensors; the
// file's tensor order is state, masks, extra.
func TestRawRoundTrip(t *testing.T) {
	in := rawFile()
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Save(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := Load(path, "toy")
	if err != nil {
		t.Fatal(err)
	}
	if out.Arch != "toy" || out.Classes != 3 || !out.ShortcutB || out.Graph != nil {
		t.Fatalf("metadata: %+v", out)
	}
	if !slices.Equal(out.Names, in.Names) {
		t.Fatalf("names %v, want %v", out.Names, in.Names)
	}
	for _, n := range in.Names {
		if !reflect.DeepEqual(out.State[n], in.State[n]) {
			t.Errorf("%s: %v, want %v", n, out.State[n], in.State[n])
		}
	}
	if !reflect.DeepEqual(out.Masks, in.Masks) || !reflect.DeepEqual(out.Extra, in.Extra) {
		t.Errorf("masks %v extra %v", out.Masks, out.Extra)
	}
	if out.Info.Dataset != "cifar10" || out.Info.Std[0] != 2 || string(out.Info.Pruning) != `{"phase":"local"}` {
		t.Errorf("info %+v", out.Info)
	}
	cf, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"fc.weight", "fc.bias", "fc" + maskSuffix, OptimPrefix + "fc.weight.momentum_buffer"}
	if !slices.Equal(cf.Names, want) {
		t.Errorf("file order %v, want %v", cf.Names, want)
	}
	if arch, err := Arch(path); err != nil || arch != "toy" {
		t.Errorf("Arch: %q, %v", arch, err)
	}
	if _, err := Load(path, "resnet20"); err == nil || !strings.Contains(err.Error(), "holds a toy") {
		t.Errorf("wrong architecture accepted: %v", err)
	}
}

// TestSaveRefuses checks the parts Save will not write.
func TestSaveRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, want string
		edit       func(f *File)
	}{
		{"clash", "clashes", func(f *File) { f.Extra["fc.bias"] = f.State["fc.bias"] }},
		{"unlisted", "missing", func(f *File) { f.Names = append(f.Names, "fc.gone") }},
		{"graph without arch", "graph", func(f *File) { f.Graph = &graph.Graph{} }},
		{"arch without graph", "graph", func(f *File) { f.Arch = GraphArch }},
	} {
		f := rawFile()
		c.edit(f)
		if err := Save(filepath.Join(dir, "x.safetensors"), f); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}

// TestLoadRefuses checks that a foreign file, a class count the file does
// not back and a missing file are refused with errors that say so.
func TestLoadRefuses(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.safetensors")
	f := checkpoint.NewFile()
	f.Add("x", tensor.New(2))
	if err := checkpoint.Save(plain, f); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(plain, ""); err == nil || !strings.Contains(err.Error(), "not an sgcnn model file") {
		t.Errorf("plain safetensors: %v", err)
	}
	if _, err := Arch(plain); err == nil || !strings.Contains(err.Error(), "not an sgcnn model file") {
		t.Errorf("Arch of plain safetensors: %v", err)
	}
	many := rawFile()
	many.Classes = 5 // no tensor has 5 rows
	p := filepath.Join(dir, "many.safetensors")
	if err := Save(p, many); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p, ""); err == nil || !strings.Contains(err.Error(), "no classifier weight of 5 rows") {
		t.Errorf("classes not backed by a tensor: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing"), ""); err == nil {
		t.Error("missing file accepted")
	}
}
