package models

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/checkpoint"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

func maskedResNet(t *testing.T) *Model {
	t.Helper()
	m, err := New("resnet20", 10, 5)
	if err != nil {
		t.Fatal(err)
	}
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
	return m
}

func TestRoundTrip(t *testing.T) {
	m := maskedResNet(t)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	extra := map[string]*tensor.Tensor{modelfile.OptimPrefix + "conv1.weight.momentum_buffer": tensor.New(16, 3, 3, 3)}
	extra[modelfile.OptimPrefix+"conv1.weight.momentum_buffer"].Data[5] = 2.5
	info := modelfile.Info{Dataset: "cifar10", Mean: []float32{0.1, 0.2, 0.3}, Std: []float32{1, 2, 3}, Training: []byte(`{"epochs_done":3}`)}
	if err := SaveFile(path, m, info, extra); err != nil {
		t.Fatal(err)
	}
	f, err := LoadFile(path, "resnet20")
	if err != nil {
		t.Fatal(err)
	}
	if f.Info.Dataset != "cifar10" || f.Info.Std[2] != 3 || string(f.Info.Training) != `{"epochs_done":3}` {
		t.Fatalf("info %+v", f.Info)
	}
	if got := f.Extra[modelfile.OptimPrefix+"conv1.weight.momentum_buffer"]; got == nil || got.Data[5] != 2.5 {
		t.Fatalf("extra tensor lost: %v", got)
	}
	a, b := m.PrunableLayers(), f.Model.PrunableLayers()
	for i := range a {
		ma, mb := a[i].Mask(), b[i].Mask()
		if len(mb) != len(ma) {
			t.Fatalf("%s: mask not restored", a[i].Name())
		}
		for j := range ma {
			if ma[j] != mb[j] {
				t.Fatalf("%s: mask differs at %d", a[i].Name(), j)
			}
		}
	}
	pa, pb := nn.AllParams(m.Net), nn.AllParams(f.Model.Net)
	for i := range pa {
		for j := range pa[i].Value.Data {
			if pa[i].Value.Data[j] != pb[i].Value.Data[j] {
				t.Fatalf("%s[%d] differs", pa[i].Name, j)
			}
		}
	}
	if _, err := LoadFile(path, "resnet56"); err == nil || !strings.Contains(err.Error(), "resnet20") {
		t.Fatalf("loading a resnet20 file as resnet56: %v", err)
	}
}

func TestLoadRejectsForeignFiles(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.safetensors")
	f := checkpoint.NewFile()
	f.Add("x", tensor.New(2))
	if err := checkpoint.Save(plain, f); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(plain, ""); err == nil || !strings.Contains(err.Error(), "not an sgcnn model file") {
		t.Fatalf("plain safetensors: %v", err)
	}
	// A mask whose shape does not match its layer.
	m := maskedResNet(t)
	path := filepath.Join(dir, "m.safetensors")
	if err := SaveFile(path, m, modelfile.Info{}, nil); err != nil {
		t.Fatal(err)
	}
	cf, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cf.Tensors["layer1.0.conv1.weight_mask"] = tensor.New(3, 3)
	bad := filepath.Join(dir, "bad.safetensors")
	if err := checkpoint.Save(bad, cf); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(bad, ""); err == nil || !strings.Contains(err.Error(), "layer1.0.conv1.weight_mask") {
		t.Fatalf("bad mask shape: %v", err)
	}
	if _, err := LoadFile(filepath.Join(dir, "missing"), ""); err == nil {
		t.Fatal("missing file accepted")
	}
	if err := SaveFile(filepath.Join(dir, "nodir", "x.safetensors"), m, modelfile.Info{}, nil); err == nil {
		t.Fatal("save into a missing folder succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "nodir")); err == nil {
		t.Fatal("save created a folder")
	}
}
