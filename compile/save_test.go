package compile_test

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
)

// TestSaveLoadRecompile checks the compiled form's persistence: the model
// file (weights, BN statistics, masks) determines the Net, so a Net
// recompiled from the saved file with the first Net's Plan gives
// bit-identical outputs, and the same layer report.
func TestSaveLoadRecompile(t *testing.T) {
	m, err := models.New("resnet20", 0, 4)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(8, 9))
	randomizeBN(m.Net, r)
	pruneModel(t, m, 70, 5)
	first, err := compile.Compile(m.Net, m.InputShape[:], compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := randInput(r, 3, m.InputShape)
	y1, err := first.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	y1 = y1.Clone()

	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := models.SaveFile(path, m, modelfile.Info{}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := models.LoadFile(path, "resnet20")
	if err != nil {
		t.Fatal(err)
	}
	again, err := compile.Compile(f.Model.Net, f.Model.InputShape[:], compile.Options{Plan: first.Plan()})
	if err != nil {
		t.Fatal(err)
	}
	y2, err := again.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	for i := range y1.Data {
		if math.Float32bits(y1.Data[i]) != math.Float32bits(y2.Data[i]) {
			t.Fatalf("output %d: %v after reload, %v before", i, y2.Data[i], y1.Data[i])
		}
	}
	l1, l2 := first.Layers(), again.Layers()
	for i := range l1 {
		a, b := l1[i], l2[i]
		if a.Name != b.Name || a.Route != b.Route || a.Groups != b.Groups || a.MACs != b.MACs || a.Dead != b.Dead || a.Skipped != b.Skipped {
			t.Errorf("layer %s: %+v after reload, %+v before", a.Name, b, a)
		}
	}
}
