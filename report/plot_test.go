package report

import (
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var plotDir = flag.String("plotdir", "", "also write the test plots to this directory, to look at")

// plotPath returns where a test writes plot name.
func plotPath(t *testing.T, name string) string {
	t.Helper()
	if *plotDir != "" {
		if err := os.MkdirAll(*plotDir, 0o755); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(*plotDir, name)
	}
	return filepath.Join(t.TempDir(), name)
}

// checkPNG decodes the PNG at path and checks its size and that it has
// at least minColours distinct colours; it returns the image.
func checkPNG(t *testing.T, path string, w, h, minColours int) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("%s: %dx%d, want %dx%d", path, b.Dx(), b.Dy(), w, h)
	}
	seen := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			seen[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)] = true
		}
	}
	if len(seen) < minColours {
		t.Errorf("%s: %d distinct colours, want at least %d", path, len(seen), minColours)
	}
	// No temporary file is left beside it.
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*.tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	return img
}

// hasColour reports whether img has a pixel of exactly colour c.
func hasColour(img image.Image, c color.RGBA) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) == c {
				return true
			}
		}
	}
	return false
}

func TestPlotAccuracyVsFLOPs(t *testing.T) {
	lg := syntheticRun()
	g := syntheticRun()
	g.Scheme = "G"
	for i := range g.Steps {
		g.Steps[i].AccTuned = -1
		g.Steps[i].AccPruned -= 3
		g.Steps[i].FLOPs = g.Steps[i].FLOPs * 9 / 10
	}
	g.Final.AccTuned = 92.5
	path := plotPath(t, "acc_flops.png")
	if err := PlotAccuracyVsFLOPs(path, lg, g); err != nil {
		t.Fatal(err)
	}
	img := checkPNG(t, path, 7*dpi, 5*dpi, 8)
	for i := range 2 {
		if !hasColour(img, colour(i)) {
			t.Errorf("no pixel of series colour %d %v", i, colour(i))
		}
	}
	// A run with decades of FLOPs takes the log axis.
	lg.Final.FLOPs /= 100
	if err := PlotAccuracyVsFLOPs(plotPath(t, "acc_flops_log.png"), lg); err != nil {
		t.Fatal(err)
	}
	if err := PlotAccuracyVsFLOPs(plotPath(t, "none.png")); err == nil {
		t.Error("no runs: no error")
	}
	if err := PlotAccuracyVsFLOPs(plotPath(t, "empty.png"), &Run{}); err == nil {
		t.Error("run with no points: no error")
	}
}

func TestPlotTraining(t *testing.T) {
	r := syntheticRun()
	path := plotPath(t, "training.png")
	if err := PlotTraining(path, r.Epochs); err != nil {
		t.Fatal(err)
	}
	img := checkPNG(t, path, 7*dpi, 6*dpi, 8)
	for i := range 2 { // local and global
		if !hasColour(img, colour(i)) {
			t.Errorf("no pixel of phase colour %d %v", i, colour(i))
		}
	}
	if err := PlotTraining(plotPath(t, "none.png"), nil); err == nil {
		t.Error("no epochs: no error")
	}
}

func TestPlotCurve(t *testing.T) {
	xs := [][]float64{{1, 2, 3, 4}, {1, 2, 3}}
	ys := [][]float64{{2.3, 1.1, 0.7, 0.5}, {2.0, 1.5, 1.2}}
	path := plotPath(t, "curve.png")
	if err := PlotCurve(path, xs, ys, []string{"train loss", "test loss"}, "From scratch", "epoch", "loss"); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 6*dpi, 4*dpi, 6)
	if err := PlotCurve(plotPath(t, "bad.png"), xs, ys[:1], []string{"a", "b"}, "", "", ""); err == nil {
		t.Error("mismatched series: no error")
	}
	if err := PlotCurve(plotPath(t, "bad.png"), [][]float64{{1}}, [][]float64{{1, 2}}, []string{"a"}, "", "", ""); err == nil {
		t.Error("mismatched lengths: no error")
	}
}

func TestGroupImage(t *testing.T) {
	l := syntheticLayer("conv", 10, 6, 4)
	img, order := groupImage(l)
	if b := img.Bounds(); b.Dx() != 6 || b.Dy() != 10 {
		t.Fatalf("image %v, want 6x10", b)
	}
	for r := 1; r < len(order); r++ {
		a, b := order[r-1], order[r]
		if l.Labels[a] > l.Labels[b] || l.Labels[a] == l.Labels[b] && a > b {
			t.Errorf("rows %d, %d: filters %d (group %d), %d (group %d) out of order", r-1, r, a, l.Labels[a], b, l.Labels[b])
		}
	}
	for r, i := range order {
		for j := range l.C {
			got := img.RGBAAt(j, r)
			want := white
			if l.Mask[i*l.C+j] != 0 {
				want = colour(l.Labels[i])
			}
			if got != want {
				t.Errorf("row %d (filter %d, group %d), channel %d: %v, want %v", r, i, l.Labels[i], j, got, want)
			}
		}
	}
	// A hand-made case: filters 0..3 in groups 1,0,1,0; group 0 reads
	// channel 0, group 1 channel 1. Rows: filters 1, 3, 0, 2.
	h := Layer{Name: "h", N: 4, C: 2, Labels: []int{1, 0, 1, 0}, Mask: []float32{0, 1, 1, 0, 0, 1, 1, 0}}
	img, _ = groupImage(h)
	for r, want := range [][2]color.RGBA{{colour(0), white}, {colour(0), white}, {white, colour(1)}, {white, colour(1)}} {
		for j := range 2 {
			if got := img.RGBAAt(j, r); got != want[j] {
				t.Errorf("hand case row %d channel %d: %v, want %v", r, j, got, want[j])
			}
		}
	}
}

func TestPlotGroupMap(t *testing.T) {
	l := syntheticLayer("layer2.0.conv2", 64, 32, 16)
	path := plotPath(t, "groups.png")
	if err := PlotGroupMap(path, l); err != nil {
		t.Fatal(err)
	}
	img := checkPNG(t, path, 7*dpi, img(t, path).Bounds().Dy(), 16)
	for k := range 16 {
		if !hasColour(img, colour(k)) {
			t.Errorf("no pixel of group %d's colour %v", k, colour(k))
		}
	}
	// A wide FC layer and a tiny one.
	if err := PlotGroupMap(plotPath(t, "groups_fc.png"), syntheticLayer("fc1", 120, 400, 16)); err != nil {
		t.Fatal(err)
	}
	if err := PlotGroupMap(plotPath(t, "groups_tiny.png"), syntheticLayer("conv1", 6, 1, 6)); err != nil {
		t.Fatal(err)
	}
	// Layers read back from JSON have no grouping.
	bad := l
	bad.Labels, bad.Mask, bad.N, bad.C = nil, nil, 0, 0
	if err := PlotGroupMap(plotPath(t, "none.png"), bad); err == nil || !strings.Contains(err.Error(), "in memory") {
		t.Errorf("layer without grouping: %v", err)
	}
	bad = l
	bad.Mask = bad.Mask[1:]
	if err := PlotGroupMap(plotPath(t, "none.png"), bad); err == nil {
		t.Error("short mask: no error")
	}
}

// img decodes the PNG at path.
func img(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPlotBadPath(t *testing.T) {
	dir := t.TempDir()
	xs, ys := [][]float64{{1, 2}}, [][]float64{{1, 2}}
	// A missing directory.
	if err := PlotCurve(filepath.Join(dir, "missing", "c.png"), xs, ys, []string{"a"}, "", "", ""); err == nil {
		t.Error("missing directory: no error")
	}
	// A path that is a directory: the rename fails after the PNG is
	// written, and the temporary file must go.
	target := filepath.Join(dir, "isdir")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := PlotCurve(target, xs, ys, []string{"a"}, "", "", ""); err == nil {
		t.Error("path is a directory: no error")
	}
	if err := PlotGroupMap(target, syntheticLayer("c", 4, 4, 2)); err == nil {
		t.Error("group map over a directory: no error")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "isdir" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only isdir", names)
	}
}

func TestChannelTicks(t *testing.T) {
	for _, c := range []struct {
		c      int
		labels string
	}{{1, "0"}, {6, "0 1 2 3 4 5"}, {16, "0 2 4 6 8 10 12 14"}, {64, "0 10 20 30 40 50 60"},
		{400, "0 50 100 150 200 250 300 350"}, {2048, "0 500 1000 1500 2000"}} {
		var got []string
		for _, tk := range channelTicks(c.c).Ticks(0, 0) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if s := strings.Join(got, " "); s != c.labels {
			t.Errorf("%d channels: labels %q, want %q", c.c, s, c.labels)
		}
	}
}

// TestLegendSpot: the legend goes where no curve ends.
func TestLegendSpot(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		name string
		ys   [][]float64
		want int
	}{
		{"rising", [][]float64{{10, 50, 90}}, legendBottom},
		{"falling", [][]float64{{90, 50, 10}}, legendTop},
		{"one high, one low (train and test)", [][]float64{{98.9, 99.5}, {92.8, 93.3}}, legendMiddle},
		{"both mid, nearer the top", [][]float64{{0, 50}, {100, 55}}, legendBottom},
		{"NaN end ignored", [][]float64{{10, 90}, {50, nan}}, legendBottom},
		{"no points", [][]float64{{}}, legendTop},
	} {
		if got := legendSpot(c.ys); got != c.want {
			t.Errorf("%s: legendSpot = %d, want %d", c.name, got, c.want)
		}
	}
}
