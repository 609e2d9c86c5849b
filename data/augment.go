package data

import "math/rand/v2"

// Source is what a Loader reads samples from: a Dataset in memory, or an
// ImageFolder decoding files on demand.
type Source interface {
	// Len is the number of samples.
	Len() int
	// Dims is the shape of one sample: channels, height, width.
	Dims() (c, h, w int)
	// Norm is the default normalisation of the samples.
	Norm() Norm
	// Read writes sample i's pixels, [C][H][W] bytes, into dst and
	// returns its label. A source with random transforms of its own draws
	// from rng, which is never nil when called by a Loader. Read is called
	// from several goroutines at once.
	Read(i int, dst []uint8, rng *rand.Rand) (label int, err error)
}

// window is one sample's random augmentation: the crop's offset from the
// unpadded image (dy, dx in [-Pad, Pad]) and whether to mirror it.
type window struct {
	dy, dx int
	flip   bool
}

// draw picks a window like torchvision's RandomCrop(size, padding=pad)
// followed by RandomHorizontalFlip(0.5): the crop's corner in the padded
// image is uniform over [0, 2*pad] in each direction, then a coin flip.
func draw(rng *rand.Rand, pad int, flip bool) window {
	var w window
	if pad > 0 {
		w.dy = rng.IntN(2*pad+1) - pad
		w.dx = rng.IntN(2*pad+1) - pad
	}
	if flip {
		w.flip = rng.IntN(2) == 1
	}
	return w
}

// transform writes image src ([C][H][W] bytes) into dst as normalised
// float32, through window win: dst[c][y][x] = norm(src[c][y+dy][x'+dx])
// where x' = W-1-x when flipped and x otherwise, and pixels outside src
// read as 0 (zero padding in pixel space, so they normalise to -mean/std).
// Normalisation is v*scale[c] + bias[c], with scale = 1/(255*std) and
// bias = -mean/std, which is (v/255 - mean)/std.
func transform(dst []float32, src []uint8, c, h, w int, win window, scale, bias []float32) {
	hw := h * w
	for ch := 0; ch < c; ch++ {
		s, b := scale[ch], bias[ch]
		plane := src[ch*hw : (ch+1)*hw]
		out := dst[ch*hw : (ch+1)*hw]
		for y := 0; y < h; y++ {
			row := out[y*w : (y+1)*w]
			sy := y + win.dy
			if sy < 0 || sy >= h {
				for x := range row {
					row[x] = b
				}
				continue
			}
			srow := plane[sy*w : (sy+1)*w]
			for x := 0; x < w; x++ {
				v := b
				if sx := x + win.dx; sx >= 0 && sx < w {
					v = float32(srow[sx])*s + b
				}
				if win.flip {
					row[w-1-x] = v
				} else {
					row[x] = v
				}
			}
		}
	}
}

// normCoeffs returns transform's scale and bias for n.
func normCoeffs(n Norm) (scale, bias []float32) {
	scale = make([]float32, len(n.Mean))
	bias = make([]float32, len(n.Mean))
	for c := range n.Mean {
		scale[c] = float32(1 / (255 * float64(n.Std[c])))
		bias[c] = float32(-float64(n.Mean[c]) / float64(n.Std[c]))
	}
	return scale, bias
}

// Normalize returns (v/255 - mean[c]) / std[c] for one pixel value of
// channel c, computed as the Loader does.
func (n Norm) Normalize(c int, v uint8) float32 {
	s := float32(1 / (255 * float64(n.Std[c])))
	b := float32(-float64(n.Mean[c]) / float64(n.Std[c]))
	return float32(v)*s + b
}

// splitmix64 is a 64-bit mixing function (Steele, Lea, Flood 2014), used
// to derive independent RNG seeds from (seed, epoch, batch).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// derivedRNG returns an RNG that depends only on its arguments: the stream
// for a batch is the same whichever worker builds it, and when.
func derivedRNG(seed uint64, epoch, batch int, kind uint64) *rand.Rand {
	h := splitmix64(seed ^ splitmix64(kind))
	h = splitmix64(h ^ uint64(int64(epoch)))
	h = splitmix64(h ^ uint64(int64(batch)))
	return rand.New(rand.NewPCG(h, splitmix64(h)))
}
