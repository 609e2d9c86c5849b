// Package detect is a small single-stage, anchor-free object detector
// (CenterNet-like: Zhou et al., "Objects as Points", 2019) on the feature
// extractor of a possibly pruned CIFAR ResNet, with the data, losses,
// decoding and COCO-style evaluation it needs, so that pruned backbones
// can be compared with dense ones on a second task.
//
// Layout:
//
//	data.go    the synthetic detection set: MNIST digits on larger canvases
//	target.go  Gaussian-splatted centre heatmaps and box targets
//	loss.go    focal loss and L1 box losses with their gradients
//	model.go   backbone + head network, decoding
//	ap.go      AP at an IoU threshold, mAP@0.5 and mAP@[.5:.95]
//	train.go   training loop, evaluation and speed measurement
//
// Boxes are in pixels of the canvas, [X0, X1) x [Y0, Y1). The network
// works at output stride 4: the head's map has one cell per 4x4 pixels.
package detect

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/tensor"
)

// Box is an axis-aligned box in pixels, X0 <= X1, Y0 <= Y1.
type Box struct{ X0, Y0, X1, Y1 float64 }

// Area is the box's area.
func (b Box) Area() float64 { return max(0, b.X1-b.X0) * max(0, b.Y1-b.Y0) }

// IoU is the intersection over union of b and o (0 when both are empty).
func (b Box) IoU(o Box) float64 {
	iw := min(b.X1, o.X1) - max(b.X0, o.X0)
	ih := min(b.Y1, o.Y1) - max(b.Y0, o.Y0)
	if iw <= 0 || ih <= 0 {
		return 0
	}
	inter := iw * ih
	return inter / (b.Area() + o.Area() - inter)
}

// Object is one ground-truth object.
type Object struct {
	Box   Box
	Class int
}

// GenConfig describes a synthetic detection set.
type GenConfig struct {
	N          int     // images
	Size       int     // canvas side in pixels (a multiple of 4 for the detector)
	MinObjects int     // objects per image, at least 1
	MaxObjects int     // at most
	MinScale   int     // side in pixels of a pasted digit, at least
	MaxScale   int     // at most (<= Size)
	MaxIoU     float64 // a placement overlapping an earlier box by more is redrawn
	Seed       uint64
	// Threads is the number of goroutines that paint the images (< 1: the
	// program's default); the set does not depend on it.
	Threads int
}

// DefaultGenConfig is the set used by sgcnn detect: 64x64 canvases with
// 1-4 digits of 16 to 36 pixels, overlapping by an IoU of at most 0.3.
func DefaultGenConfig(n int, seed uint64) GenConfig {
	return GenConfig{N: n, Size: 64, MinObjects: 1, MaxObjects: 4, MinScale: 16, MaxScale: 36, MaxIoU: 0.3, Seed: seed}
}

// Validate reports a configuration Generate cannot honour.
func (c GenConfig) Validate() error {
	switch {
	case c.N < 1:
		return fmt.Errorf("detect: %d images: want at least 1", c.N)
	case c.Size < 8:
		return fmt.Errorf("detect: canvas %d: want at least 8 pixels", c.Size)
	case c.MinObjects < 1 || c.MaxObjects < c.MinObjects:
		return fmt.Errorf("detect: objects per image %d..%d: want 1 <= min <= max", c.MinObjects, c.MaxObjects)
	case c.MinScale < 4 || c.MaxScale < c.MinScale || c.MaxScale > c.Size:
		return fmt.Errorf("detect: digit sizes %d..%d: want 4 <= min <= max <= canvas %d", c.MinScale, c.MaxScale, c.Size)
	}
	return nil
}

// Set is a generated detection set: grey canvases and their objects.
type Set struct {
	Size    int        // canvas side
	Pixels  []uint8    // [N][Size][Size] grey
	Objects [][]Object // per image
	Classes []string   // class names, index = label
	Norm    data.Norm  // per-channel normalisation of the 3-channel input
}

// Len is the number of images.
func (s *Set) Len() int { return len(s.Objects) }

// Generate builds a detection set by pasting digits of src (a grey data
// set such as MNIST) at random positions and sizes on black canvases,
// combining overlapping digits by the pixel maximum. Each object's box is
// the digit's tight bounding box (its non-zero pixels) scaled to the
// pasted size. Image i depends only on (cfg, i) and src, so a set is the
// same for a given seed however many threads build it.
func Generate(src *data.Dataset, cfg GenConfig) (*Set, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if src.C != 1 || src.N == 0 {
		return nil, fmt.Errorf("detect: %s: need a non-empty grey (1-channel) data set, have %d images of %d channels", src.Name, src.N, src.C)
	}
	s := &Set{Size: cfg.Size, Pixels: make([]uint8, cfg.N*cfg.Size*cfg.Size), Objects: make([][]Object, cfg.N),
		Classes: src.Classes}
	if len(s.Classes) == 0 {
		for c := range src.Counts() {
			s.Classes = append(s.Classes, fmt.Sprint(c))
		}
	}
	norm := src.Norm()
	for range 3 {
		s.Norm.Mean = append(s.Norm.Mean, norm.Mean[0])
		s.Norm.Std = append(s.Norm.Std, norm.Std[0])
	}
	parallel.NewPool(cfg.Threads).For(cfg.N, func(_, i int) {
		s.Objects[i] = paint(s.Pixels[i*cfg.Size*cfg.Size:(i+1)*cfg.Size*cfg.Size], src, cfg, i)
	})
	return s, nil
}

// paint draws image i of the set onto canvas and returns its objects.
func paint(canvas []uint8, src *data.Dataset, cfg GenConfig, i int) []Object {
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
	n := cfg.MinObjects + rng.IntN(cfg.MaxObjects-cfg.MinObjects+1)
	var objs []Object
	for range n {
		d := rng.IntN(src.N)
		tb := digitBox(src, d)
		for try := 0; try < 20; try++ {
			side := cfg.MinScale + rng.IntN(cfg.MaxScale-cfg.MinScale+1)
			x, y := rng.IntN(cfg.Size-side+1), rng.IntN(cfg.Size-side+1)
			sx, sy := float64(side)/float64(src.W), float64(side)/float64(src.H)
			b := Box{X0: float64(x) + tb.X0*sx, Y0: float64(y) + tb.Y0*sy, X1: float64(x) + tb.X1*sx, Y1: float64(y) + tb.Y1*sy}
			clash := false
			for _, o := range objs {
				clash = clash || o.Box.IoU(b) > cfg.MaxIoU
			}
			if clash {
				continue
			}
			paste(canvas, cfg.Size, src.Image(d), src.H, src.W, x, y, side)
			objs = append(objs, Object{Box: b, Class: src.Labels[d]})
			break
		}
	}
	return objs
}

// digitBox returns the tight box of digit d's non-zero pixels in source
// pixels (the whole image when it is blank).
func digitBox(src *data.Dataset, d int) Box {
	img := src.Image(d)
	x0, y0, x1, y1 := src.W, src.H, -1, -1
	for y := range src.H {
		for x := range src.W {
			if img[y*src.W+x] > 0 {
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			}
		}
	}
	if x1 < 0 {
		return Box{X1: float64(src.W), Y1: float64(src.H)}
	}
	return Box{X0: float64(x0), Y0: float64(y0), X1: float64(x1 + 1), Y1: float64(y1 + 1)}
}

// paste resizes the h x w image img bilinearly to side x side and draws it
// at (x, y) on the canvas by the pixel maximum.
func paste(canvas []uint8, size int, img []uint8, h, w, x, y, side int) {
	at := func(r, c int) float64 {
		r, c = min(max(r, 0), h-1), min(max(c, 0), w-1)
		return float64(img[r*w+c])
	}
	for dy := range side {
		// Pixel centres map to pixel centres (align_corners=False).
		fy := (float64(dy)+0.5)*float64(h)/float64(side) - 0.5
		ry := int(math.Floor(fy))
		ty := fy - float64(ry)
		for dx := range side {
			fx := (float64(dx)+0.5)*float64(w)/float64(side) - 0.5
			rx := int(math.Floor(fx))
			tx := fx - float64(rx)
			v := (1-ty)*((1-tx)*at(ry, rx)+tx*at(ry, rx+1)) + ty*((1-tx)*at(ry+1, rx)+tx*at(ry+1, rx+1))
			p := &canvas[(y+dy)*size+x+dx]
			*p = max(*p, uint8(math.Round(v)))
		}
	}
}

// Batch returns images idx as a normalised [B][3][Size][Size] tensor, the
// grey plane copied to the three channels, and their objects.
func (s *Set) Batch(idx []int) (*tensor.Tensor, [][]Object) {
	hw := s.Size * s.Size
	x := tensor.New(len(idx), 3, s.Size, s.Size)
	objs := make([][]Object, len(idx))
	for j, i := range idx {
		src := s.Pixels[i*hw : (i+1)*hw]
		for c := range 3 {
			scale, bias := 1/(255*s.Norm.Std[c]), -s.Norm.Mean[c]/s.Norm.Std[c]
			dst := x.Data[(j*3+c)*hw : (j*3+c+1)*hw]
			for k, v := range src {
				dst[k] = float32(v)*scale + bias
			}
		}
		objs[j] = s.Objects[i]
	}
	return x, objs
}
