package data

import (
	"fmt"
	"math/rand/v2"
)

// Norm is a per-channel normalisation, x' = (x/255 - Mean[c]) / Std[c], with
// Mean and Std in 0..1 pixel units (as torchvision's Normalize after
// ToTensor).
type Norm struct {
	Mean, Std []float32
}

// Normalisation presets. Each Dataset carries one of them as its default.
var (
	// ImageNetNorm is the ImageNet mean/std. Pretrained CIFAR-10 models
	// used by sgcnn were trained with it, so it is CIFAR-10's default, and
	// image folders use it too.
	ImageNetNorm = Norm{Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}
	// CIFAR10Stats is the CIFAR-10 training set's own mean/std, for models
	// trained from scratch with it. Not a default.
	CIFAR10Stats = Norm{Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.2470, 0.2435, 0.2616}}
	// CIFAR100Norm is the CIFAR-100 training set's mean/std, CIFAR-100's
	// default.
	CIFAR100Norm = Norm{Mean: []float32{0.5071, 0.4865, 0.4409}, Std: []float32{0.2673, 0.2564, 0.2762}}
	// MNISTNorm is the MNIST training set's mean/std, MNIST's default.
	MNISTNorm = Norm{Mean: []float32{0.1307}, Std: []float32{0.3081}}
	// FashionMNISTNorm is the Fashion-MNIST training set's mean/std, its
	// default.
	FashionMNISTNorm = Norm{Mean: []float32{0.2860}, Std: []float32{0.3530}}
)

// clone returns a deep copy, so that a Dataset never aliases a preset.
func (n Norm) clone() Norm {
	return Norm{Mean: append([]float32(nil), n.Mean...), Std: append([]float32(nil), n.Std...)}
}

// Dataset is an in-memory image data set of raw bytes.
type Dataset struct {
	Name       string    // e.g. "cifar10/train"
	N, C, H, W int       // images, channels, height, width
	Pixels     []uint8   // N*C*H*W bytes, [N][C][H][W] row-major
	Labels     []int     // N labels, each in [0, len(Classes))
	Classes    []string  // class names, index = label
	Mean, Std  []float32 // default normalisation per channel, 0..1 pixel units
}

// Size is the number of bytes of one image, C*H*W.
func (d *Dataset) Size() int { return d.C * d.H * d.W }

// Image returns image i's bytes, [C][H][W], sharing d.Pixels.
func (d *Dataset) Image(i int) []uint8 {
	s := d.Size()
	return d.Pixels[i*s : (i+1)*s : (i+1)*s]
}

// Len is the number of images; it implements Source.
func (d *Dataset) Len() int { return d.N }

// Dims returns C, H, W; it implements Source.
func (d *Dataset) Dims() (c, h, w int) { return d.C, d.H, d.W }

// Norm returns d's normalisation; it implements Source.
func (d *Dataset) Norm() Norm { return Norm{Mean: d.Mean, Std: d.Std} }

// Read copies image i into dst and returns its label; it implements Source.
// The rng is not used.
func (d *Dataset) Read(i int, dst []uint8, _ *rand.Rand) (int, error) {
	if i < 0 || i >= d.N {
		return 0, fmt.Errorf("data: %s: index %d out of range [0,%d)", d.Name, i, d.N)
	}
	copy(dst, d.Image(i))
	return d.Labels[i], nil
}

// Check verifies that d's fields agree with each other.
func (d *Dataset) Check() error {
	switch {
	case d.N < 0 || d.C <= 0 || d.H <= 0 || d.W <= 0:
		return fmt.Errorf("data: %s: bad dims N=%d C=%d H=%d W=%d", d.Name, d.N, d.C, d.H, d.W)
	case len(d.Pixels) != d.N*d.Size():
		return fmt.Errorf("data: %s: %d pixel bytes, want %d", d.Name, len(d.Pixels), d.N*d.Size())
	case len(d.Labels) != d.N:
		return fmt.Errorf("data: %s: %d labels, want %d", d.Name, len(d.Labels), d.N)
	case len(d.Mean) != d.C || len(d.Std) != d.C:
		return fmt.Errorf("data: %s: mean/std have %d/%d channels, want %d", d.Name, len(d.Mean), len(d.Std), d.C)
	}
	for c, s := range d.Std {
		if !(s > 0) {
			return fmt.Errorf("data: %s: std[%d] = %g is not positive", d.Name, c, s)
		}
	}
	for i, l := range d.Labels {
		if l < 0 || (len(d.Classes) > 0 && l >= len(d.Classes)) {
			return fmt.Errorf("data: %s: label %d of image %d out of range [0,%d)", d.Name, l, i, len(d.Classes))
		}
	}
	return nil
}

// Counts returns the number of images of each class.
func (d *Dataset) Counts() []int {
	n := len(d.Classes)
	for _, l := range d.Labels {
		n = max(n, l+1)
	}
	counts := make([]int, n)
	for _, l := range d.Labels {
		counts[l]++
	}
	return counts
}

// Subset returns a data set of the images with the given indices, in that
// order. Pixels are copied.
func (d *Dataset) Subset(idx []int) (*Dataset, error) {
	s := d.Size()
	out := &Dataset{Name: d.Name, N: len(idx), C: d.C, H: d.H, W: d.W,
		Pixels: make([]uint8, len(idx)*s), Labels: make([]int, len(idx)),
		Classes: d.Classes, Mean: d.Mean, Std: d.Std}
	for j, i := range idx {
		if i < 0 || i >= d.N {
			return nil, fmt.Errorf("data: %s: subset index %d out of range [0,%d)", d.Name, i, d.N)
		}
		copy(out.Pixels[j*s:], d.Image(i))
		out.Labels[j] = d.Labels[i]
	}
	return out, nil
}

// ToRGB32 converts a grey 28x28 data set (MNIST, Fashion-MNIST) to 3x32x32
// for models built for CIFAR: each image is padded by 2 zero pixels on every
// side and the grey plane is copied to all three channels. The grey Mean and
// Std are repeated for the three channels. It returns an error unless d is
// 1x28x28.
func (d *Dataset) ToRGB32() (*Dataset, error) {
	if d.C != 1 || d.H != 28 || d.W != 28 {
		return nil, fmt.Errorf("data: %s: ToRGB32 needs 1x28x28 images, have %dx%dx%d", d.Name, d.C, d.H, d.W)
	}
	if len(d.Mean) != 1 || len(d.Std) != 1 {
		return nil, fmt.Errorf("data: %s: ToRGB32 needs one mean and std, have %d and %d", d.Name, len(d.Mean), len(d.Std))
	}
	const pad, side = 2, 32
	out := &Dataset{Name: d.Name + "/rgb32", N: d.N, C: 3, H: side, W: side,
		Pixels: make([]uint8, d.N*3*side*side), Labels: append([]int(nil), d.Labels...),
		Classes: d.Classes}
	for _, v := range []struct {
		dst *[]float32
		src []float32
	}{{&out.Mean, d.Mean}, {&out.Std, d.Std}} {
		for c := 0; c < 3; c++ {
			*v.dst = append(*v.dst, v.src[0])
		}
	}
	for i := 0; i < d.N; i++ {
		src := d.Image(i)
		dst := out.Image(i)
		for y := 0; y < 28; y++ {
			row := dst[(y+pad)*side+pad:]
			copy(row[:28], src[y*28:(y+1)*28])
		}
		copy(dst[side*side:], dst[:side*side])
		copy(dst[2*side*side:], dst[:side*side])
	}
	return out, nil
}
