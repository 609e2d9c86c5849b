package report

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"

	"github.com/sgcnn/sgcnn/internal/atomicfile"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Plots are drawn at this resolution; a 6x4 inch plot is 900x600 pixels.
const dpi = 150

// palette holds series and group colours: Kelly-like, distinct on white
// and from one another, none close to white (white means pruned in the
// group map).
var palette = []color.RGBA{
	{31, 119, 180, 255},  // blue
	{214, 39, 40, 255},   // red
	{44, 160, 44, 255},   // green
	{255, 127, 14, 255},  // orange
	{148, 103, 189, 255}, // purple
	{140, 86, 75, 255},   // brown
	{227, 119, 194, 255}, // pink
	{127, 127, 127, 255}, // grey
	{188, 189, 34, 255},  // olive
	{23, 190, 207, 255},  // cyan
	{0, 0, 128, 255},     // navy
	{128, 0, 0, 255},     // maroon
	{0, 100, 0, 255},     // dark green
	{255, 215, 0, 255},   // gold
	{75, 0, 130, 255},    // indigo
	{0, 128, 128, 255},   // teal
	{240, 128, 128, 255}, // coral
	{85, 107, 47, 255},   // dark olive
	{218, 112, 214, 255}, // orchid
	{0, 0, 0, 255},       // black
}

// colour returns palette colour i, cycling.
func colour(i int) color.RGBA { return palette[((i%len(palette))+len(palette))%len(palette)] }

// newPlot returns a plot with a title, axis labels and a grid.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	return p
}

// savePlot draws p on a w x h canvas and writes it to path as PNG.
func savePlot(path string, p *plot.Plot, w, h vg.Length) error {
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
	p.Draw(draw.New(c))
	return savePNG(path, c)
}

// savePNG writes c to path as PNG, all or nothing (internal/atomicfile),
// so that a reader never sees half a PNG and a failed write leaves no file.
func savePNG(path string, c *vgimg.Canvas) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	return nil
}

// PlotCurve plots series i as the line through the points (xs[i][j],
// ys[i][j]), named names[i] in the legend (no legend entry when the name
// is empty), and writes the plot to path as a PNG. Points with a NaN
// coordinate are left out. It is for curves the other plots do not
// cover, such as the training curve of a run from scratch.
func PlotCurve(path string, xs, ys [][]float64, names []string, title, xlabel, ylabel string) error {
	if len(xs) != len(ys) || len(xs) != len(names) {
		return fmt.Errorf("report: PlotCurve: %d x series, %d y series, %d names", len(xs), len(ys), len(names))
	}
	p := newPlot(title, xlabel, ylabel)
	n := 0
	for i := range xs {
		if len(xs[i]) != len(ys[i]) {
			return fmt.Errorf("report: PlotCurve: series %d has %d x and %d y values", i, len(xs[i]), len(ys[i]))
		}
		var pts plotter.XYs
		for j := range xs[i] {
			if !math.IsNaN(xs[i][j]) && !math.IsNaN(ys[i][j]) {
				pts = append(pts, plotter.XY{X: xs[i][j], Y: ys[i][j]})
			}
		}
		if len(pts) == 0 {
			continue
		}
		n++
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return fmt.Errorf("report: PlotCurve: series %d: %w", i, err)
		}
		l.Color, s.Color = colour(i), colour(i)
		s.Radius = vg.Points(2)
		p.Add(l, s)
		if names[i] != "" {
			p.Legend.Add(names[i], l, s)
		}
	}
	if n == 0 {
		return errors.New("report: PlotCurve: no points to plot")
	}
	// The legend sits at the right, where the curves' ends leave room.
	switch legendSpot(ys) {
	case legendTop:
		p.Legend.Top = true
	case legendMiddle:
		p.Legend.Top, p.Legend.YOffs = true, -1.3*vg.Inch // about half the 4-inch plot's data area
	}
	return savePlot(path, p, 6*vg.Inch, 4*vg.Inch)
}

// schedulePoints returns a run's points for PlotAccuracyVsFLOPs: FLOPs in
// millions against top-1, in the order of the schedule (baseline, then
// per step after pruning and after fine-tuning, then final), with the
// points after pruning and after fine-tuning also apart.
func schedulePoints(r *Run) (path, pruned, tuned plotter.XYs, base plotter.XY, hasBase bool) {
	add := func(xy *plotter.XYs, flops int64, acc float64) {
		if acc >= 0 && flops > 0 {
			*xy = append(*xy, plotter.XY{X: float64(flops) / 1e6, Y: acc})
		}
	}
	add(&path, r.Baseline.FLOPs, r.Baseline.AccTuned)
	if len(path) == 1 {
		base, hasBase = path[0], true
	}
	for _, s := range r.Steps {
		add(&path, s.FLOPs, s.AccPruned)
		add(&pruned, s.FLOPs, s.AccPruned)
		add(&path, s.FLOPs, s.AccTuned)
		add(&tuned, s.FLOPs, s.AccTuned)
	}
	if f := r.Final; f != nil {
		add(&path, f.FLOPs, f.AccTuned)
		add(&tuned, f.FLOPs, f.AccTuned)
	}
	return path, pruned, tuned, base, hasBase
}

// PlotAccuracyVsFLOPs plots the test top-1 of each run against its FLOPs
// (millions, on a log axis when they span a factor of 10 or more) and
// writes the plot to path as a PNG. Each run is one colour: a thin line
// walks its schedule, hollow rings mark the accuracy right after a
// pruning step, filled dots the accuracy after fine-tuning, and a star
// the dense baseline. The legend names the runs by Run.Label.
func PlotAccuracyVsFLOPs(path string, runs ...*Run) error {
	if len(runs) == 0 {
		return errors.New("report: PlotAccuracyVsFLOPs: no run")
	}
	p := newPlot("Test top-1 against FLOPs", "FLOPs (millions)", "test top-1 (%)")
	lo, hi := math.Inf(1), math.Inf(-1)
	entries := 0
	for i, r := range runs {
		path, pruned, tuned, base, hasBase := schedulePoints(r)
		if len(path) == 0 {
			continue
		}
		for _, xy := range path {
			lo, hi = min(lo, xy.X), max(hi, xy.X)
		}
		c := colour(i)
		l, err := plotter.NewLine(path)
		if err != nil {
			return fmt.Errorf("report: run %d: %w", i, err)
		}
		l.Color, l.Width = c, vg.Points(1)
		l.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
		p.Add(l)
		legend := []plot.Thumbnailer{l}
		if len(pruned) > 0 {
			s, _ := plotter.NewScatter(pruned)
			s.Color, s.Shape, s.Radius = c, draw.RingGlyph{}, vg.Points(3.5)
			p.Add(s)
		}
		if len(tuned) > 0 {
			s, _ := plotter.NewScatter(tuned)
			s.Color, s.Shape, s.Radius = c, draw.CircleGlyph{}, vg.Points(3)
			p.Add(s)
			legend = append(legend, s)
		}
		if hasBase {
			s, _ := plotter.NewScatter(plotter.XYs{base})
			s.Color, s.Shape, s.Radius = c, starGlyph{}, vg.Points(6)
			p.Add(s)
		}
		label := r.Label()
		if len(runs) > 1 {
			label = fmt.Sprintf("%s (#%d)", label, i+1)
			if unique(runs, i) {
				label = r.Label()
			}
		}
		p.Legend.Add(label, legend...)
		entries++
	}
	if math.IsInf(lo, 1) {
		return errors.New("report: PlotAccuracyVsFLOPs: no measured point")
	}
	// Markers explained once, in black.
	black := color.RGBA{A: 255}
	for _, m := range []struct {
		name  string
		shape draw.GlyphDrawer
		r     vg.Length
	}{{"after pruning", draw.RingGlyph{}, 3.5}, {"after fine-tuning", draw.CircleGlyph{}, 3}, {"baseline", starGlyph{}, 6}} {
		s, _ := plotter.NewScatter(plotter.XYs{{}})
		s.Color, s.Shape, s.Radius = black, m.shape, vg.Points(float64(m.r))
		p.Legend.Add(m.name, s)
		entries++
	}
	if hi/lo >= 10 {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	// The legend sits bottom right, where a schedule seldom has a point:
	// few FLOPs are pruned there, so accuracy is still near the baseline.
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(6), vg.Points(6)
	// Room below the data for the legend: about 13pt a line in a data
	// area about 290pt high.
	hl := 13*float64(entries) + 8
	p.Y.Min -= (p.Y.Max - p.Y.Min) * hl / (290 - hl)
	return savePlot(path, p, 7*vg.Inch, 5*vg.Inch)
}

// unique reports whether runs[i]'s label differs from every other's.
func unique(runs []*Run, i int) bool {
	for j, r := range runs {
		if j != i && r.Label() == runs[i].Label() {
			return false
		}
	}
	return true
}

// starGlyph is a five-pointed star, for the baseline.
type starGlyph struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (starGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	var path vg.Path
	for k := range 10 {
		r := sty.Radius
		if k%2 == 1 {
			r *= 0.45
		}
		a := math.Pi/2 + float64(k)*math.Pi/5
		q := vg.Point{X: pt.X + vg.Length(math.Cos(a))*r, Y: pt.Y + vg.Length(math.Sin(a))*r}
		if k == 0 {
			path.Move(q)
		} else {
			path.Line(q)
		}
	}
	path.Close()
	c.SetColor(sty.Color)
	c.Fill(path)
}

// Where PlotCurve's legend goes, in the right-hand part of the plot.
const (
	legendTop = iota
	legendMiddle
	legendBottom
)

// legendSpot picks the legend's place for the series ys: of the top,
// the middle and the bottom of the y range, the one farthest from every
// series' last value (the legend sits at the right, where the curves
// end). Ties go to the top, then the middle.
func legendSpot(ys [][]float64) int {
	lo, hi := math.Inf(1), math.Inf(-1)
	var ends []float64
	for _, y := range ys {
		for _, v := range y {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		if len(y) > 0 && !math.IsNaN(y[len(y)-1]) {
			ends = append(ends, y[len(y)-1])
		}
	}
	if len(ends) == 0 {
		return legendTop
	}
	spots := []float64{legendTop: hi, legendMiddle: (lo + hi) / 2, legendBottom: lo}
	best, bestGap := legendTop, -1.0
	for spot, at := range spots {
		gap := math.Inf(1)
		for _, e := range ends {
			gap = math.Min(gap, math.Abs(e-at))
		}
		if gap > bestGap {
			best, bestGap = spot, gap
		}
	}
	return best
}
