package report

import (
	"errors"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// PlotTraining plots fine-tuning epochs in two panels that share the x
// axis (epochs counted over the whole run): training loss above, test
// top-1 below. Local and global fine-tuning have their own colours, the
// line breaks between pruning steps, and a dotted vertical line marks
// each new step. It writes the plot to path as a PNG.
func PlotTraining(path string, epochs []Epoch) error {
	if len(epochs) == 0 {
		return errors.New("report: PlotTraining: no epoch")
	}
	loss := newPlot("Fine-tuning", "", "training loss")
	top1 := newPlot("", "epoch (over the run)", "test top-1 (%)")
	phases := map[string]int{}
	var order []string
	var bounds []float64
	// Each stretch of epochs with the same phase and step is one line.
	for start := 0; start < len(epochs); {
		end := start + 1
		for end < len(epochs) && epochs[end].Phase == epochs[start].Phase && epochs[end].Step == epochs[start].Step {
			end++
		}
		ph := epochs[start].Phase
		if _, ok := phases[ph]; !ok {
			phases[ph] = len(phases)
			order = append(order, ph)
		}
		if start > 0 {
			bounds = append(bounds, float64(start)+0.5)
		}
		var l, a plotter.XYs
		for i := start; i < end; i++ {
			x := float64(i + 1)
			if e := epochs[i].Loss; !math.IsNaN(e) && !math.IsInf(e, 0) {
				l = append(l, plotter.XY{X: x, Y: e})
			}
			if t := epochs[i].TestTop1; t >= 0 && !math.IsNaN(t) {
				a = append(a, plotter.XY{X: x, Y: t})
			}
		}
		c := colour(phases[ph])
		for _, s := range []struct {
			p   *plot.Plot
			pts plotter.XYs
		}{{loss, l}, {top1, a}} {
			if len(s.pts) == 0 {
				continue
			}
			ln, sc, _ := plotter.NewLinePoints(s.pts)
			ln.Color, sc.Color, sc.Radius = c, c, vg.Points(1.5)
			s.p.Add(ln, sc)
		}
		start = end
	}
	// Legend: one entry per phase, in order of appearance.
	for _, ph := range order {
		ln, _ := plotter.NewLine(plotter.XYs{{}})
		ln.Color = colour(phases[ph])
		name := ph + " fine-tuning"
		if ph == "" {
			name = "fine-tuning"
		}
		loss.Legend.Add(name, ln)
	}
	loss.Legend.Top = true
	for _, p := range []*plot.Plot{loss, top1} {
		lo, hi := p.X.Min, p.X.Max
		p.X.Min, p.X.Max = min(lo, 0.5), max(hi, float64(len(epochs))+0.5)
		for _, b := range bounds {
			v, _ := plotter.NewLine(plotter.XYs{{X: b, Y: p.Y.Min}, {X: b, Y: p.Y.Max}})
			v.Color = colour(7)
			v.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
			p.Add(v)
		}
	}
	const w, h = 7 * vg.Inch, 6 * vg.Inch
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4),
		PadLeft: vg.Points(4), PadRight: vg.Points(8), PadY: vg.Points(6)}
	grid := [][]*plot.Plot{{loss}, {top1}}
	canvases := plot.Align(grid, tiles, dc)
	loss.Draw(canvases[0][0])
	top1.Draw(canvases[1][0])
	return savePNG(path, c)
}
