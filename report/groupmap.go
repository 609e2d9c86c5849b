package report

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// white marks a pruned connection in the group map.
var white = color.RGBA{255, 255, 255, 255}

// groupOrder returns filter indices sorted by group label, filters of
// one group in index order.
func groupOrder(labels []int) []int {
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return labels[a] - labels[b] })
	return order
}

// checkLayer reports whether l carries a grouping to draw.
func checkLayer(l Layer) error {
	switch {
	case l.N <= 0 || l.C <= 0:
		return fmt.Errorf("report: layer %q: no grouping to draw (N=%d, C=%d; labels and masks are kept in memory only)", l.Name, l.N, l.C)
	case len(l.Labels) != l.N:
		return fmt.Errorf("report: layer %q: %d labels for %d filters", l.Name, len(l.Labels), l.N)
	case len(l.Mask) != l.N*l.C:
		return fmt.Errorf("report: layer %q: mask has %d entries, want %d x %d", l.Name, len(l.Mask), l.N, l.C)
	}
	return nil
}

// groupImage draws l's grouping one pixel per connection: row r is the
// r-th filter in groupOrder, column j input channel j; a kept connection
// has its filter's group colour, a pruned one is white.
func groupImage(l Layer) (*image.RGBA, []int) {
	order := groupOrder(l.Labels)
	img := image.NewRGBA(image.Rect(0, 0, l.C, l.N))
	for r, i := range order {
		c := colour(l.Labels[i])
		for j := range l.C {
			if l.Mask[i*l.C+j] != 0 {
				img.SetRGBA(j, r, c)
			} else {
				img.SetRGBA(j, r, white)
			}
		}
	}
	return img, order
}

// scaleUp returns img with each pixel a sx x sy block, so that the
// plot's smooth resampling blurs only the edges of cells.
func scaleUp(img *image.RGBA, sx, sy int) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()*sx, b.Dy()*sy))
	for y := range out.Bounds().Dy() {
		for x := range out.Bounds().Dx() {
			out.SetRGBA(x, y, img.RGBAAt(x/sx, y/sy))
		}
	}
	return out
}

// PlotGroupMap draws layer l's grouping (from l.Labels, l.Mask, l.N and
// l.C, which only a run in memory has) and writes it to path as a PNG.
// Rows are filters sorted by group, top to bottom; columns are input
// channels. A kept connection has its group's colour and a pruned one is
// white, so each group shows as a band of rows and the channels it reads
// as coloured columns within the band. A strip left of channel 0 gives
// every row its group colour (dead filters included), thin grey lines
// separate the groups, and the y axis names groups tall enough to label.
func PlotGroupMap(path string, l Layer) error {
	if err := checkLayer(l); err != nil {
		return err
	}
	img, order := groupImage(l)

	// Scale the map up so that a cell is a block of pixels (about 1000
	// pixels each way), then put a strip of group colours and a white gap
	// left of it, each a fixed share of the width.
	sx := max(1, int(math.Ceil(1000/float64(l.C))))
	sy := max(1, int(math.Ceil(1000/float64(l.N))))
	cells := scaleUp(img, sx, sy)
	strip := max(8, l.C*sx/30)
	gap := strip / 2
	full := image.NewRGBA(image.Rect(0, 0, strip+gap+l.C*sx, l.N*sy))
	for y := range l.N * sy {
		c := colour(l.Labels[order[y/sy]])
		for x := range strip + gap {
			if x < strip {
				full.SetRGBA(x, y, c)
			} else {
				full.SetRGBA(x, y, white)
			}
		}
		copy(full.Pix[full.PixOffset(strip+gap, y):full.PixOffset(full.Rect.Dx(), y)],
			cells.Pix[cells.PixOffset(0, y):cells.PixOffset(cells.Rect.Dx(), y)])
	}
	// Channel j spans [j-0.5, j+0.5], so that ticks fall on cell centres.
	x0, x1 := -0.5-float64(strip+gap)/float64(sx), float64(l.C)-0.5

	// Rows per group, in drawing order, for the ticks and separators.
	type band struct{ label, start, end int }
	var bands []band
	for r, i := range order {
		if len(bands) == 0 || bands[len(bands)-1].label != l.Labels[i] {
			bands = append(bands, band{label: l.Labels[i], start: r})
		}
		bands[len(bands)-1].end = r + 1
	}
	pruned := 0
	for _, m := range l.Mask {
		if m == 0 {
			pruned++
		}
	}

	const w = 7 * vg.Inch
	h := vg.Length(math.Min(math.Max(float64(w)*0.9*float64(l.N)/float64(l.C)+72, 3.5*72), 8*72))
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: %d filters x %d inputs, %d groups, %.1f%% of connections pruned",
		l.Name, l.N, l.C, len(bands), 100*float64(pruned)/float64(len(l.Mask)))
	p.X.Label.Text = "input channel"
	p.Y.Label.Text = "filters, sorted by group (group number)"
	p.Title.Padding = vg.Points(6)
	p.Add(plotter.NewImage(full, x0, 0, x1, float64(l.N)))
	p.X.Tick.Marker = channelTicks(l.C)
	p.X.Min, p.X.Max = x0, x1
	p.Y.Min, p.Y.Max = 0, float64(l.N)

	// A band starting at row r covers y in [N-end, N-start]. Label a
	// band only when about 11pt clear of the last label; the data area
	// is about h-60pt high.
	var ticks []plot.Tick
	minGap := 11 / (float64(h) - 60) * float64(l.N)
	last := math.Inf(1)
	for k, b := range bands {
		mid := float64(l.N) - float64(b.start+b.end)/2
		t := plot.Tick{Value: mid}
		if last-mid >= minGap {
			t.Label, last = fmt.Sprint(b.label), mid
		}
		ticks = append(ticks, t)
		if k > 0 {
			y := float64(l.N - b.start)
			sep, _ := plotter.NewLine(plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}})
			sep.Color, sep.Width = color.RGBA{160, 160, 160, 255}, vg.Points(0.4)
			p.Add(sep)
		}
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	return savePlot(path, p, w, h)
}

// channelTicks label channels 0..C-1 at a round step: 1, 2 or 5 times a
// power of ten, chosen for at most about 10 labels.
type channelTicks int

// Ticks implements plot.Ticker.
func (c channelTicks) Ticks(float64, float64) []plot.Tick {
	step := 1
	for k := 0; int(c) > 10*step; k++ {
		step = []int{1, 2, 5}[k%3] * int(math.Pow10(k/3))
	}
	minor := max(1, step/5)
	if step == 2 {
		minor = 1
	}
	var ts []plot.Tick
	for j := 0; j < int(c); j += minor {
		t := plot.Tick{Value: float64(j)}
		if j%step == 0 {
			t.Label = fmt.Sprint(j)
		}
		ts = append(ts, t)
	}
	return ts
}
