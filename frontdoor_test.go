package sgcnn

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/nn"
)

// TestIsNativeFile tells a saved model file from files that are not one.
func TestIsNativeFile(t *testing.T) {
	dir := t.TempDir()
	m, err := New("lenet5", "")
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "m.safetensors")
	if err := m.Save(model); err != nil {
		t.Fatal(err)
	}
	empty, text := filepath.Join(dir, "empty"), filepath.Join(dir, "text")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(text, []byte("not a model file at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{model: true, dir: false, empty: false, text: false, filepath.Join(dir, "missing"): false} {
		if got := IsNativeFile(path); got != want {
			t.Errorf("IsNativeFile(%s) = %v, want %v", path, got, want)
		}
	}
}

// TestPrunedFraction masks known numbers of connections in two layers and
// checks the fraction, with and without leaving one layer out.
func TestPrunedFraction(t *testing.T) {
	m, err := New("lenet5", "")
	if err != nil {
		t.Fatal(err)
	}
	if f := PrunedFraction(m.Model.Net, nil); f != 0 {
		t.Fatalf("dense model: PrunedFraction = %g, want 0", f)
	}
	ps := nn.Prunables(m.Model.Net)
	if len(ps) < 2 {
		t.Fatalf("lenet5 has %d prunable layers, want at least 2", len(ps))
	}
	var sizes, offs [2]int
	for i, p := range ps[:2] {
		n, c := p.MaskShape()
		mask := make([]float32, n*c)
		for j := range mask {
			if j%(i+2) != 0 { // layer 0: every other connection off; layer 1: two in three
				mask[j] = 1
			} else {
				offs[i]++
			}
		}
		if err := p.SetMask(mask); err != nil {
			t.Fatal(err)
		}
		sizes[i] = len(mask)
	}
	want := float64(offs[0]+offs[1]) / float64(sizes[0]+sizes[1])
	if f := PrunedFraction(m.Model.Net, nil); f != want {
		t.Errorf("PrunedFraction = %g, want %g", f, want)
	}
	want = float64(offs[0]) / float64(sizes[0])
	if f := PrunedFraction(m.Model.Net, ps[1]); f != want {
		t.Errorf("PrunedFraction leaving out %s = %g, want %g", ps[1].Name(), f, want)
	}
}

// TestRecordedNormAndFirst checks the normalisation a model file records
// wins over the data set's only when it has one value per channel, and that
// First keeps the leading images in order.
func TestRecordedNormAndFirst(t *testing.T) {
	ds := &data.Dataset{Name: "t", N: 5, C: 1, H: 1, W: 1, Pixels: []uint8{10, 11, 12, 13, 14},
		Labels: []int{0, 1, 0, 1, 0}, Classes: []string{"a", "b"}, Mean: []float32{0.5}, Std: []float32{0.25}}
	if n := RecordedNorm(modelfile.Info{Mean: []float32{0.1}, Std: []float32{0.2}}, ds); n.Mean[0] != 0.1 || n.Std[0] != 0.2 {
		t.Errorf("recorded one-channel norm: got %+v", n)
	}
	if n := RecordedNorm(modelfile.Info{Mean: []float32{0.1, 0.1, 0.1}, Std: []float32{0.2, 0.2, 0.2}}, ds); n.Mean[0] != 0.5 || n.Std[0] != 0.25 {
		t.Errorf("three-channel norm on one-channel data: got %+v, want the data set's", n)
	}
	for _, c := range []struct{ n, want int }{{0, 5}, {-1, 5}, {3, 3}, {5, 5}, {9, 5}} {
		got, err := First(ds, c.n)
		if err != nil || got.N != c.want || got.Pixels[0] != 10 || got.Pixels[got.N-1] != uint8(10+c.want-1) {
			t.Errorf("First(%d): N %v, err %v; want the first %d images", c.n, got, err, c.want)
		}
	}
}
