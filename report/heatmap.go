package report

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// PlotHeatMap draws values[i][j] (row i, column j) as a grid of cells,
// rows named by rows top to bottom and columns by cols left to right,
// each cell coloured from white (0 or less) to dark red (the largest
// value) and labelled with its value, and writes it to path as a PNG.
// NaN cells are grey. It is the sensitivity table's picture: layers by
// rates, the accuracy drop in each cell.
func PlotHeatMap(path string, values [][]float64, rows, cols []string, title, xlabel, ylabel string) error {
	if len(values) != len(rows) || len(rows) == 0 || len(cols) == 0 {
		return fmt.Errorf("report: PlotHeatMap: %d rows of values, %d row names, %d columns", len(values), len(rows), len(cols))
	}
	top := 0.0
	for i, r := range values {
		if len(r) != len(cols) {
			return fmt.Errorf("report: PlotHeatMap: row %d has %d values, want %d", i, len(r), len(cols))
		}
		for _, v := range r {
			if !math.IsNaN(v) {
				top = max(top, v)
			}
		}
	}
	format := "%.1f"
	switch {
	case top < 1:
		format = "%.3f"
	case top < 10:
		format = "%.2f"
	}
	nr, nc := len(rows), len(cols)
	img := image.NewRGBA(image.Rect(0, 0, nc, nr))
	var labels plotter.XYLabels
	for i, r := range values {
		for j, v := range r {
			img.SetRGBA(j, i, heat(v, top))
			txt := "-"
			if !math.IsNaN(v) {
				txt = fmt.Sprintf(format, v)
			}
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(j), Y: float64(nr-1-i) - 0.15})
			labels.Labels = append(labels.Labels, txt)
		}
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = fmt.Sprintf("%s (colour: white 0, dark red "+format+")", xlabel, top)
	p.Y.Label.Text = ylabel
	// Blocks of pixels per cell, so that the image's smoothing when drawn
	// stays inside each cell's border.
	p.Add(plotter.NewImage(scaleUp(img, 48, 16), -0.5, -0.5, float64(nc)-0.5, float64(nr)-0.5))
	l, err := plotter.NewLabels(labels)
	if err != nil {
		return fmt.Errorf("report: PlotHeatMap: %w", err)
	}
	for i := range l.TextStyle {
		l.TextStyle[i].Font.Size = vg.Points(7)
		l.TextStyle[i].XAlign = -0.5
		if v := values[i/nc][i%nc]; top > 0 && v/top > 0.6 {
			l.TextStyle[i].Color = color.White // readable on dark red
		}
	}
	p.Add(l)
	var xt, yt []plot.Tick
	for j, c := range cols {
		xt = append(xt, plot.Tick{Value: float64(j), Label: c})
	}
	for i, r := range rows {
		yt = append(yt, plot.Tick{Value: float64(nr - 1 - i), Label: r})
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	p.X.Min, p.X.Max = -0.5, float64(nc)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(nr)-0.5
	p.Y.Tick.Label.Font.Size = vg.Points(7)
	w := vg.Length(max(6, 1.8+0.55*float64(nc))) * vg.Inch
	h := vg.Length(max(3, 1.2+0.16*float64(nr))) * vg.Inch
	return savePlot(path, p, w, h)
}

// heat maps v in [0, top] from white to dark red; v <= 0 is white and NaN
// grey.
func heat(v, top float64) color.RGBA {
	if math.IsNaN(v) {
		return color.RGBA{200, 200, 200, 255}
	}
	t := 0.0
	if top > 0 {
		t = math.Min(1, math.Max(0, v/top))
	}
	// White to red (t = 0.6) to dark red (t = 1).
	if t < 0.6 {
		s := t / 0.6
		return color.RGBA{255, uint8(255 * (1 - s*0.85)), uint8(255 * (1 - s*0.85)), 255}
	}
	s := (t - 0.6) / 0.4
	return color.RGBA{uint8(255 - 115*s), uint8(38 * (1 - s)), uint8(38 * (1 - s)), 255}
}
