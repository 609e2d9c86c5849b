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
	Files      []string  // paths, class by class, sorted within each class
	Labels     []int     // label of each file
	Classes    []string  // sub-folder names
	Size       int       // side of the square crop
	Resize     int       // shorter side after resizing; at least Size
	RandomCrop bool      // crop at a random place (training) instead of the centre
	Mean, Std  []float32 // default normalisation per channel, 0..1 pixel units
}

// imageExts are the file name endings read, compared in lower case.
var imageExts = []string{".jpg", ".jpeg", ".png"}

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
		for _, file := range files {
			ext := strings.ToLower(filepath.Ext(file.Name()))
			if file.IsDir() || !slices.Contains(imageExts, ext) {
				continue
			}
			f.Files = append(f.Files, filepath.Join(dir, e.Name(), file.Name()))
			f.Labels = append(f.Labels, label)
		}
	}
	if len(f.Files) == 0 {
		return nil, fmt.Errorf("data: image folder %s: no .jpg, .jpeg or .png files in its sub-folders", dir)
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
// returns its label; it implements Source. The crop position is drawn from
// rng when RandomCrop is set and rng is not nil.
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
	// Shrinking by k >= 2 with bilinear taps alone would skip pixels: box
	// filter by k first.
	if k := min(w/rw, h/rh); k >= 2 {
		pix, w, h = boxShrink(pix, w, h, k)
	}
	sx, sy := float64(w)/float64(rw), float64(h)/float64(rh)
	n := f.Size
	for c := 0; c < 3; c++ {
		plane := pix[c*w*h : (c+1)*w*h]
		out := dst[c*n*n : (c+1)*n*n]
		for y := 0; y < n; y++ {
			y0, y1, fy := tap((float64(y+top)+0.5)*sy-0.5, h)
			for x := 0; x < n; x++ {
				x0, x1, fx := tap((float64(x+left)+0.5)*sx-0.5, w)
				a := float64(plane[y0*w+x0])*(1-fx) + float64(plane[y0*w+x1])*fx
				b := float64(plane[y1*w+x0])*(1-fx) + float64(plane[y1*w+x1])*fx
				out[y*n+x] = uint8(math.Round(a*(1-fy) + b*fy))
			}
		}
	}
	return f.Labels[i], nil
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
