package detect

import (
	"math"
)

// Centre is one object's training target on the output map.
type Centre struct {
	Item, Class int     // batch item, class
	X, Y        int     // the centre's cell
	W, H        float64 // box size in cells (pixels / stride)
	OffX, OffY  float64 // sub-cell centre offset in [0, 1)
}

// Targets are a batch's training targets on an H x W output map.
type Targets struct {
	B, K, H, W int
	// Heat is [B][K][H][W]: per class, the maximum over that class's
	// objects of a Gaussian centred on the object's centre cell, exactly 1
	// there (CenterNet's draw_umich_gaussian).
	Heat    []float32
	Centres []Centre
}

// MakeTargets builds the targets of a batch of objects for a map of h x w
// cells at the given stride, with k classes. A centre falling outside the
// map is clamped to its border.
func MakeTargets(objs [][]Object, k, h, w, stride int) *Targets {
	t := &Targets{B: len(objs), K: k, H: h, W: w, Heat: make([]float32, len(objs)*k*h*w)}
	s := float64(stride)
	for i, os := range objs {
		for _, o := range os {
			bw, bh := (o.Box.X1-o.Box.X0)/s, (o.Box.Y1-o.Box.Y0)/s
			cx, cy := (o.Box.X0+o.Box.X1)/(2*s), (o.Box.Y0+o.Box.Y1)/(2*s)
			x := min(max(int(math.Floor(cx)), 0), w-1)
			y := min(max(int(math.Floor(cy)), 0), h-1)
			t.Centres = append(t.Centres, Centre{Item: i, Class: o.Class, X: x, Y: y, W: bw, H: bh,
				OffX: cx - float64(x), OffY: cy - float64(y)})
			r := max(0, int(GaussianRadius(bh, bw, 0.7)))
			splat(t.Heat[(i*k+o.Class)*h*w:(i*k+o.Class+1)*h*w], h, w, x, y, r)
		}
	}
	return t
}

// GaussianRadius is CornerNet's gaussian_radius as CenterNet uses it: the
// smallest radius r such that a box of h x w whose two corners each move
// by up to r still has an IoU of at least minOverlap with the original
// (the minimum of three quadratic cases).
func GaussianRadius(h, w, minOverlap float64) float64 {
	b1 := h + w
	c1 := w * h * (1 - minOverlap) / (1 + minOverlap)
	r1 := (b1 + math.Sqrt(b1*b1-4*c1)) / 2
	b2 := 2 * (h + w)
	c2 := (1 - minOverlap) * w * h
	r2 := (b2 + math.Sqrt(b2*b2-16*c2)) / 2
	a3 := 4 * minOverlap
	b3 := -2 * minOverlap * (h + w)
	c3 := (minOverlap - 1) * w * h
	r3 := (b3 + math.Sqrt(b3*b3-4*a3*c3)) / 2
	return min(r1, r2, r3)
}

// splat draws a Gaussian of radius r (sigma = (2r+1)/6) centred on (x, y)
// into the h x w plane by the maximum, dropping values below float64's
// epsilon times the peak, as CenterNet's gaussian2D does.
func splat(plane []float32, h, w, x, y, r int) {
	sigma := float64(2*r+1) / 6
	for dy := -r; dy <= r; dy++ {
		for dx := -r; dx <= r; dx++ {
			px, py := x+dx, y+dy
			if px < 0 || py < 0 || px >= w || py >= h {
				continue
			}
			v := math.Exp(-float64(dx*dx+dy*dy) / (2 * sigma * sigma))
			if v < 2.220446049250313e-16 {
				v = 0
			}
			p := &plane[py*w+px]
			*p = max(*p, float32(v))
		}
	}
}
