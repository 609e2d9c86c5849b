package report

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestPlotHeatMap draws a small map and checks the PNG's size and that
// a cell with the largest value is dark red and one with 0 white.
func TestPlotHeatMap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "heat.png")
	vals := [][]float64{{0, 1, 4}, {0.5, math.NaN(), 8}}
	if err := PlotHeatMap(path, vals, []string{"a", "b"}, []string{"30%", "60%", "90%"}, "t", "rate", "layer"); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 400 {
		t.Errorf("image %v, want at least 800x400", b)
	}
	if c := heat(8, 8); c.R != 140 || c.G != 0 {
		t.Errorf("heat(top) = %v, want dark red", c)
	}
	if c := heat(-1, 8); c.R != 255 || c.G != 255 || c.B != 255 {
		t.Errorf("heat(-1) = %v, want white", c)
	}
	if err := PlotHeatMap(path, vals, []string{"a"}, []string{"x"}, "t", "x", "y"); err == nil {
		t.Error("mismatched rows: no error")
	}
}
