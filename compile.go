package sgcnn

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/tensor"
)

// Compiled is a model compiled by package compile for its masks: each
// conv runs as the groups its filters form. Predict is not safe for
// concurrent use.
type Compiled struct {
	// Net is the compiled network.
	Net     *compile.Net
	norm    data.Norm
	in      [3]int
	classes []string
}

// CompileOption configures Compile.
type CompileOption func(*compile.Options)

// WithCompileOptions replaces the compiler's options (routes, micro-batch,
// int8 layers) by o.
func WithCompileOptions(o compile.Options) CompileOption {
	return func(dst *compile.Options) { *dst = o }
}

// WithThreads makes the compiled network run on n goroutines (n < 1: the
// program's default, SetThreads). Two networks in one program may use
// different counts.
func WithThreads(n int) CompileOption {
	return func(dst *compile.Options) { dst.Threads = n }
}

// SetThreads sets the program's default number of threads (n < 1: one per
// CPU), used by compiled networks without WithThreads and by training.
func SetThreads(n int) { parallel.SetThreads(n) }

// Compile compiles m's network as its masks are now. Predict normalises
// its images with m's recorded mean and std (Model.Norm).
func Compile(m *Model, opts ...CompileOption) (*Compiled, error) {
	var o compile.Options
	for _, fn := range opts {
		fn(&o)
	}
	n, err := compile.Compile(m.Model.Net, m.Model.InputShape[:], o)
	if err != nil {
		return nil, err
	}
	return &Compiled{Net: n, norm: m.Norm(), in: m.Model.InputShape, classes: classesOf(m)}, nil
}

// classesOf returns the names of m's classes, where its data set names
// them (nil otherwise).
func classesOf(m *Model) []string {
	if names, ok := classNames[m.Info.Dataset]; ok && len(names) == m.Model.Classes {
		return names
	}
	return nil
}

var classNames = map[string][]string{
	"cifar10":       data.CIFAR10Classes,
	"cifar100":      data.CIFAR100Classes,
	"mnist":         data.MNISTClasses,
	"fashion-mnist": data.FashionMNISTClasses,
}

// Prediction is a network's answer for one image.
type Prediction struct {
	Class int     // the most probable class
	Name  string  // its name, when the model's data set names its classes
	Prob  float64 // its softmax probability
	// Probs are the probabilities of every class.
	Probs []float64
}

// Predict classifies images given as uint8 pixels, [C][H][W] row-major
// each, of the model's input shape.
func (c *Compiled) Predict(images ...[]uint8) ([]Prediction, error) {
	if len(images) == 0 {
		return nil, errors.New("Predict: no images")
	}
	size := c.in[0] * c.in[1] * c.in[2]
	x := tensor.New(len(images), c.in[0], c.in[1], c.in[2])
	for i, img := range images {
		if len(img) != size {
			return nil, fmt.Errorf("Predict: image %d has %d bytes, the network takes %dx%dx%d = %d", i, len(img), c.in[0], c.in[1], c.in[2], size)
		}
		hw := c.in[1] * c.in[2]
		for j, v := range img {
			x.Data[i*size+j] = c.norm.Normalize(j/hw, v)
		}
	}
	return c.forward(x)
}

// PredictImages classifies decoded images of the model's height and width:
// luma for 1-channel networks, RGB for 3-channel ones.
func (c *Compiled) PredictImages(images ...image.Image) ([]Prediction, error) {
	ch, h, w := c.in[0], c.in[1], c.in[2]
	if ch != 1 && ch != 3 {
		return nil, fmt.Errorf("PredictImages: the network takes %d channels; give pixels to Predict", ch)
	}
	raw := make([][]uint8, len(images))
	for i, img := range images {
		b := img.Bounds()
		if b.Dx() != w || b.Dy() != h {
			return nil, fmt.Errorf("PredictImages: image %d is %dx%d (width x height), the network takes %dx%d", i, b.Dx(), b.Dy(), w, h)
		}
		px := make([]uint8, ch*h*w)
		for y := range h {
			for x := range w {
				p := y*w + x
				col := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				if ch == 1 {
					px[p] = color.GrayModel.Convert(color.NRGBA{R: col.R, G: col.G, B: col.B, A: 255}).(color.Gray).Y
					continue
				}
				px[p], px[h*w+p], px[2*h*w+p] = col.R, col.G, col.B
			}
		}
		raw[i] = px
	}
	return c.Predict(raw...)
}

func (c *Compiled) forward(x *tensor.Tensor) ([]Prediction, error) {
	y, err := c.Net.Forward(x)
	if err != nil {
		return nil, err
	}
	n := x.Shape[0]
	k := len(y.Data) / n
	out := make([]Prediction, n)
	for i := range out {
		out[i] = softmax(y.Data[i*k : (i+1)*k])
		if out[i].Class < len(c.classes) {
			out[i].Name = c.classes[out[i].Class]
		}
	}
	return out, nil
}

// softmax returns the prediction of one row of logits.
func softmax(logits []float32) Prediction {
	best := 0
	for j, v := range logits {
		if v > logits[best] {
			best = j
		}
	}
	probs := make([]float64, len(logits))
	var sum float64
	for j, v := range logits {
		probs[j] = math.Exp(float64(v - logits[best]))
		sum += probs[j]
	}
	for j := range probs {
		probs[j] /= sum
	}
	return Prediction{Class: best, Prob: probs[best], Probs: probs}
}
