package data

import (
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register decoders for image.Decode
	_ "image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ImageFolder is an ImageNet-style data set: one sub-folder per class
// (sorted by name; label = position), each holding JPEG or PNG files. Files
// are decoded when read, in the Loader's workers, so only their names are
// kept in memory. Each image is resized so that its shorter side is Resize
// (bilinear, after a box filter when shrinking by 2 or more) and a Size x
// Size square is cropped from it: at the centre, or at a random place when
// RandomCrop is set. Images come out as 3 channels (grey is replicated,
// alpha dropped).
type ImageFolder struct {
	Root       string
	Files      []string // paths, class by class, sorted within each class
	Labels     []int    // label of each file
	Classes    []string // sub-folder names
	Size       int      // side of the square crop
	Resize     int      // shorter side after resizing; at least Size
	RandomCrop bool     // crop at a random place (training) instead of the centre
	// RandomResized crops a random region of random area and aspect and
	// resizes it to Size (training); Resize and RandomCrop are then unused.
	RandomResized bool
	Mean, Std     []float32 // default normalisation per channel, 0..1 pixel units
}

// imageExts are the file name endings read, compared in lower case.
var imageExts = []string{".jpg", ".jpeg", ".png"}

// ImageFolderSplit returns the folder of one split of an ImageNet-style
// data set at root: root/train (train) or root/val (otherwise) when that
// folder exists, else root itself, whose sub-folders are then the classes
// of both splits.
func ImageFolderSplit(root string, train bool) string {
	name := "val"
	if train {
		name = "train"
	}
	if p := filepath.Join(root, name); isDir(p) {
		return p
	}
	return root
}

// LoadImageFolder lists the class sub-folders of dir and their image files.
// Crops are size x size, from images resized to a shorter side of
// size*8/7 (256 for 224, the usual ImageNet evaluation). The normalisation
// is ImageNetNorm. Change Resize and RandomCrop on the result as needed.
func LoadImageFolder(dir string, size int) (*ImageFolder, error) {
	if size <= 0 {
		return nil, fmt.Errorf("data: image folder %s: crop size %d is not positive", dir, size)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("data: image folder: %w", err)
	}
	n := ImageNetNorm.clone()
	f := &ImageFolder{Root: dir, Size: size, Resize: size * 8 / 7, Mean: n.Mean, Std: n.Std}
	var empty []string
	for _, e := range entries { // ReadDir sorts by name
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("data: image folder: %w", err)
		}
		label := len(f.Classes)
		f.Classes = append(f.Classes, e.Name())
		n := len(f.Files)
		for _, file := range files {
			ext := strings.ToLower(filepath.Ext(file.Name()))
			if file.IsDir() || !slices.Contains(imageExts, ext) {
				continue
			}
			f.Files = append(f.Files, filepath.Join(dir, e.Name(), file.Name()))
			f.Labels = append(f.Labels, label)
		}
		if len(f.Files) == n {
			empty = append(empty, e.Name())
		}
	}
	if len(f.Files) == 0 {
		return nil, fmt.Errorf("data: image folder %s: no .jpg, .jpeg or .png files in its sub-folders (want one sub-folder of images per class)", dir)
	}
	if len(empty) > 0 {
		// torchvision's ImageFolder refuses such a folder too, and a class
		// without images would shift no label but train nothing.
		return nil, fmt.Errorf("data: image folder %s: class folder(s) %s hold no .jpg, .jpeg or .png file", dir, strings.Join(empty, ", "))
	}
	return f, nil
}

// Len is the number of images; it implements Source.
func (f *ImageFolder) Len() int { return len(f.Files) }

// Dims returns 3, Size, Size; it implements Source.
func (f *ImageFolder) Dims() (c, h, w int) { return 3, f.Size, f.Size }

// Norm returns f's normalisation; it implements Source.
func (f *ImageFolder) Norm() Norm { return Norm{Mean: f.Mean, Std: f.Std} }

// Read decodes, resizes and crops image i into dst ([3][Size][Size]) and
// returns its label; it implements Source. The crop is drawn from rng when
// RandomCrop or RandomResized is set and rng is not nil.
func (f *ImageFolder) Read(i int, dst []uint8, rng *rand.Rand) (int, error) {
	if i < 0 || i >= len(f.Files) {
		return 0, fmt.Errorf("data: image folder %s: index %d out of range [0,%d)", f.Root, i, len(f.Files))
	}
	if f.Resize < f.Size {
		return 0, fmt.Errorf("data: image folder %s: resize %d is below crop size %d", f.Root, f.Resize, f.Size)
	}
	file, err := os.Open(f.Files[i])
	if err != nil {
		return 0, fmt.Errorf("data: %w", err)
	}
	defer file.Close()
	img, _, err := image.Decode(file)
	if err != nil {
		return 0, formatErr(f.Files[i], i, "image", "%v", err)
	}
	pix, w, h := planes(img)
	if w == 0 || h == 0 {
		return 0, formatErr(f.Files[i], i, "image", "empty image")
	}
	var r rect
	if f.RandomResized && rng != nil {
		r = randomResized(rng, w, h)
	} else {
		// Resized size: shorter side Resize, the other scaled to match.
		rw, rh := f.Resize, f.Resize
		if w < h {
			rh = max(f.Size, int(math.Round(float64(h)*float64(f.Resize)/float64(w))))
		} else {
			rw = max(f.Size, int(math.Round(float64(w)*float64(f.Resize)/float64(h))))
		}
		top, left := (rh-f.Size)/2, (rw-f.Size)/2
		if f.RandomCrop && rng != nil {
			top, left = rng.IntN(rh-f.Size+1), rng.IntN(rw-f.Size+1)
		}
		sx, sy := float64(w)/float64(rw), float64(h)/float64(rh)
		r = rect{x: float64(left) * sx, y: float64(top) * sy, w: float64(f.Size) * sx, h: float64(f.Size) * sy}
	}
	sample(pix, w, h, r, f.Size, dst)
	return f.Labels[i], nil
}

// rect is a region of an image in pixel units: corner x, y and size w, h.
type rect struct{ x, y, w, h float64 }

// randomResized draws a region of a w x h image as torchvision's
// RandomResizedCrop does with its defaults: ten tries at an area of
// 8-100% of the image and an aspect ratio log-uniform in [3/4, 4/3] that
// fits, else the centre crop closest to that ratio range.
func randomResized(rng *rand.Rand, w, h int) rect {
	area := float64(w * h)
	lo, hi := math.Log(3.0/4), math.Log(4.0/3)
	for range 10 {
		target := area * (0.08 + 0.92*rng.Float64())
		aspect := math.Exp(lo + (hi-lo)*rng.Float64())
		cw := int(math.Round(math.Sqrt(target * aspect)))
		ch := int(math.Round(math.Sqrt(target / aspect)))
		if cw > 0 && cw <= w && ch > 0 && ch <= h {
			top, left := rng.IntN(h-ch+1), rng.IntN(w-cw+1)
			return rect{float64(left), float64(top), float64(cw), float64(ch)}
		}
	}
	cw, ch := w, h
	switch ratio := float64(w) / float64(h); {
	case ratio < 3.0/4:
		ch = int(math.Round(float64(w) / (3.0 / 4)))
	case ratio > 4.0/3:
		cw = int(math.Round(float64(h) * 4.0 / 3))
	}
	return rect{float64((w - cw) / 2), float64((h - ch) / 2), float64(cw), float64(ch)}
}

// sample resamples region r of the 3 planes pix (w x h each) to n x n
// bilinearly into dst. Shrinking by k >= 2 with bilinear taps alone would
// skip pixels: the image is box filtered by k first.
func sample(pix []uint8, w, h int, r rect, n int, dst []uint8) {
	if k := int(math.Min(r.w, r.h) / float64(n)); k >= 2 {
		pix, w, h = boxShrink(pix, w, h, k)
		r = rect{r.x / float64(k), r.y / float64(k), r.w / float64(k), r.h / float64(k)}
	}
	sx, sy := r.w/float64(n), r.h/float64(n)
	for c := 0; c < 3; c++ {
		plane := pix[c*w*h : (c+1)*w*h]
		out := dst[c*n*n : (c+1)*n*n]
		for y := 0; y < n; y++ {
			y0, y1, fy := tap(r.y+(float64(y)+0.5)*sy-0.5, h)
			for x := 0; x < n; x++ {
				x0, x1, fx := tap(r.x+(float64(x)+0.5)*sx-0.5, w)
				a := float64(plane[y0*w+x0])*(1-fx) + float64(plane[y0*w+x1])*fx
				b := float64(plane[y1*w+x0])*(1-fx) + float64(plane[y1*w+x1])*fx
				out[y*n+x] = uint8(math.Round(a*(1-fy) + b*fy))
			}
		}
	}
}

// tap returns the two source indices around coordinate p, clamped to
// [0, n-1], and the weight of the second.
func tap(p float64, n int) (i0, i1 int, frac float64) {
	p = math.Max(0, math.Min(p, float64(n-1)))
	i0 = int(p)
	i1 = min(i0+1, n-1)
	return i0, i1, p - float64(i0)
}

// boxShrink averages k x k blocks of each plane, dropping the remainder.
func boxShrink(pix []uint8, w, h, k int) ([]uint8, int, int) {
	nw, nh := w/k, h/k
	out := make([]uint8, 3*nw*nh)
	for c := 0; c < 3; c++ {
		src := pix[c*w*h:]
		dst := out[c*nw*nh:]
		for y := 0; y < nh; y++ {
			for x := 0; x < nw; x++ {
				sum := 0
				for dy := 0; dy < k; dy++ {
					row := src[(y*k+dy)*w+x*k:]
					for dx := 0; dx < k; dx++ {
						sum += int(row[dx])
					}
				}
				dst[y*nw+x] = uint8((sum + k*k/2) / (k * k))
			}
		}
	}
	return out, nw, nh
}

// planes converts img to three [h][w] byte planes R, G, B.
func planes(img image.Image) (pix []uint8, w, h int) {
	r := img.Bounds()
	w, h = r.Dx(), r.Dy()
	pix = make([]uint8, 3*w*h)
	R, G, B := pix[:w*h], pix[w*h:2*w*h], pix[2*w*h:]
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			px, py := r.Min.X+x, r.Min.Y+y
			switch m := img.(type) {
			case *image.YCbCr:
				c := m.YCbCrAt(px, py)
				R[i], G[i], B[i] = color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
			case *image.Gray:
				v := m.GrayAt(px, py).Y
				R[i], G[i], B[i] = v, v, v
			case *image.NRGBA:
				c := m.NRGBAAt(px, py)
				R[i], G[i], B[i] = c.R, c.G, c.B
			case *image.RGBA:
				c := m.RGBAAt(px, py)
				R[i], G[i], B[i] = c.R, c.G, c.B
			default:
				cr, cg, cb, _ := m.At(px, py).RGBA()
				R[i], G[i], B[i] = uint8(cr>>8), uint8(cg>>8), uint8(cb>>8)
			}
		}
	}
	return pix, w, h
}
