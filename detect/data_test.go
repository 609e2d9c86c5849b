package detect

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/internal/parallel"
)

// toySource is n 28x28 grey images, each a random filled rectangle (so
// its tight box is known), labelled i%10.
func toySource(n int) *data.Dataset {
	rng := rand.New(rand.NewPCG(9, 9))
	ds := &data.Dataset{Name: "toy", N: n, C: 1, H: 28, W: 28, Pixels: make([]uint8, n*784), Labels: make([]int, n),
		Mean: []float32{0.1}, Std: []float32{0.3}}
	for i := range n {
		x0, y0 := 2+rng.IntN(10), 2+rng.IntN(10)
		x1, y1 := x0+4+rng.IntN(12), y0+4+rng.IntN(12)
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				ds.Pixels[i*784+y*28+x] = 200
			}
		}
		ds.Labels[i] = i % 10
	}
	for c := range 10 {
		ds.Classes = append(ds.Classes, string(rune('0'+c)))
	}
	return ds
}

func TestGenerateDeterministic(t *testing.T) {
	src := toySource(30)
	cfg := DefaultGenConfig(40, 7)
	defer parallel.SetThreads(parallel.Threads())
	parallel.SetThreads(2) // the default, which neither set uses
	cfg.Threads = 1
	a, err := Generate(src, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Threads = 3
	b, err := Generate(src, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Pixels, b.Pixels) || !slices.EqualFunc(a.Objects, b.Objects, slices.Equal) {
		t.Fatal("the same seed gave different sets on 1 and 3 threads")
	}
	cfg.Seed = 8
	c, _ := Generate(src, cfg)
	if slices.Equal(a.Pixels, c.Pixels) {
		t.Error("seeds 7 and 8 gave the same images")
	}
}

// TestGenerateBoxes checks that every box lies inside the canvas, that
// the painted pixels lie inside the boxes (give or take the one pixel of
// bilinear blur), and the configured limits.
func TestGenerateBoxes(t *testing.T) {
	src := toySource(30)
	cfg := DefaultGenConfig(60, 3)
	s, err := Generate(src, cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := float64(cfg.Size)
	seen := map[int]bool{}
	for i, objs := range s.Objects {
		if len(objs) < cfg.MinObjects || len(objs) > cfg.MaxObjects {
			t.Errorf("image %d: %d objects, want %d..%d", i, len(objs), cfg.MinObjects, cfg.MaxObjects)
		}
		for j, o := range objs {
			b := o.Box
			if b.X0 < 0 || b.Y0 < 0 || b.X1 > n || b.Y1 > n || b.X1-b.X0 < 1 || b.Y1-b.Y0 < 1 {
				t.Errorf("image %d object %d: box %+v not a non-empty box inside the %gx%g canvas", i, j, b, n, n)
			}
			seen[o.Class] = true
			for _, p := range objs[:j] {
				if iou := p.Box.IoU(b); iou > cfg.MaxIoU {
					t.Errorf("image %d: boxes overlap by IoU %.2f > %.2f", i, iou, cfg.MaxIoU)
				}
			}
		}
		img := s.Pixels[i*cfg.Size*cfg.Size : (i+1)*cfg.Size*cfg.Size]
		for y := range cfg.Size {
			for x := range cfg.Size {
				if img[y*cfg.Size+x] == 0 {
					continue
				}
				inside := false
				for _, o := range objs {
					px, py := float64(x)+0.5, float64(y)+0.5
					inside = inside || (px > o.Box.X0-1 && px < o.Box.X1+1 && py > o.Box.Y0-1 && py < o.Box.Y1+1)
				}
				if !inside {
					t.Fatalf("image %d: pixel (%d,%d) = %d lies outside every box %v", i, x, y, img[y*cfg.Size+x], objs)
				}
			}
		}
	}
	if len(seen) < 5 {
		t.Errorf("only classes %v appear", seen)
	}
	x, objs := s.Batch([]int{2, 0})
	if !slices.Equal(x.Shape, []int{2, 3, 64, 64}) || !slices.Equal(objs[1], s.Objects[0]) {
		t.Fatalf("batch %v", x.Shape)
	}
	// Grey copied to all channels, normalised.
	hw := 64 * 64
	for k := range hw {
		want := (float32(s.Pixels[2*hw+k])/255 - 0.1) / 0.3
		for c := range 3 {
			if got := x.Data[c*hw+k]; math.Abs(float64(got-want)) > 1e-5 {
				t.Fatalf("channel %d pixel %d: %g, want %g", c, k, got, want)
			}
		}
	}
}

func TestGenConfigValidate(t *testing.T) {
	for _, f := range []func(*GenConfig){
		func(c *GenConfig) { c.N = 0 },
		func(c *GenConfig) { c.MinObjects = 0 },
		func(c *GenConfig) { c.MaxObjects = 0 },
		func(c *GenConfig) { c.MaxScale = 100 },
	} {
		c := DefaultGenConfig(4, 1)
		f(&c)
		if _, err := Generate(toySource(3), c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
