package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/tensor"
)

// Linear is a fully connected layer y = x W^T + b (PyTorch's Linear) with
// an optional connection mask over (output, input) pairs. Inputs of rank
// above 2 are flattened to [B][In].
type Linear struct {
	name    string
	In, Out int
	W       *Param // [Out][In]
	B       *Param // [Out], nil without bias

	x     *tensor.Tensor // cached input, flattened view
	shape []int          // original input shape
	y, dx *tensor.Tensor
}

// NewLinear returns a Linear layer with PyTorch's default initialisation.
func NewLinear(name string, in, out int, bias bool, rng *rand.Rand) *Linear {
	l := &Linear{name: name, In: in, Out: out, W: newParam(name+".weight", true, out, in)}
	bound := float32(1 / math.Sqrt(float64(in)))
	for i := range l.W.Value.Data {
		l.W.Value.Data[i] = bound * (2*rng.Float32() - 1)
	}
	if bias {
		l.B = newParam(name+".bias", false, out)
		for i := range l.B.Value.Data {
			l.B.Value.Data[i] = bound * (2*rng.Float32() - 1)
		}
	}
	return l
}

// Name returns the layer's state_dict prefix.
func (l *Linear) Name() string { return l.name }

// Params returns the weight and, if present, the bias.
func (l *Linear) Params() []*Param {
	if l.B != nil {
		return []*Param{l.W, l.B}
	}
	return []*Param{l.W}
}

// Weight returns the weight parameter.
func (l *Linear) Weight() *Param { return l.W }

// MaskShape returns (outputs, inputs).
func (l *Linear) MaskShape() (int, int) { return l.Out, l.In }

// Mask returns the connection mask, nil when dense.
func (l *Linear) Mask() []float32 { return l.W.Mask }

// SetMask installs a connection mask and zeroes the pruned weights.
func (l *Linear) SetMask(m []float32) error {
	if err := validMask(l.name, m, l.Out, l.In); err != nil {
		return err
	}
	l.W.Mask = m
	applyMask(l.W.Value.Data, m, 1)
	return nil
}

// Forward computes y[B][Out].
func (l *Linear) Forward(ctx *Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	if x == nil || len(x.Shape) < 2 || x.Shape[0] == 0 || x.Len()/x.Shape[0] != l.In {
		var got []int
		if x != nil {
			got = x.Shape
		}
		return nil, &ShapeError{Layer: l.name, Got: got, Want: fmt.Sprintf("[B %d] (or [B ...] with %d values per item)", l.In, l.In)}
	}
	b := x.Shape[0]
	l.x, l.shape = &tensor.Tensor{Shape: []int{b, l.In}, Data: x.Data}, x.Shape
	y := reuse(&l.y, b, l.Out)
	kernel.Sgemm(false, true, b, l.Out, l.In, 1, x.Data, l.In, l.W.Value.Data, l.In, 0, y.Data, l.Out)
	if l.B != nil {
		for i := range b {
			row := y.Data[i*l.Out : (i+1)*l.Out]
			for j, bv := range l.B.Value.Data {
				row[j] += bv
			}
		}
	}
	return y, nil
}

// Backward computes dx = dy W, accumulates dW = dy^T x (masked) and db.
func (l *Linear) Backward(ctx *Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	if l.x == nil || dy == nil || !tensor.SameShape(dy.Shape, l.y.Shape) {
		return nil, fmt.Errorf("layer %s: backward without a matching forward", l.name)
	}
	b := l.x.Shape[0]
	dx := reuse(&l.dx, l.shape...)
	kernel.Sgemm(false, false, b, l.In, l.Out, 1, dy.Data, l.Out, l.W.Value.Data, l.In, 0, dx.Data, l.In)
	kernel.Sgemm(true, false, l.Out, l.In, b, 1, dy.Data, l.Out, l.x.Data, l.In, 1, l.W.Grad.Data, l.In)
	applyMask(l.W.Grad.Data, l.W.Mask, 1)
	if l.B != nil {
		for i := range b {
			for j, g := range dy.Data[i*l.Out : (i+1)*l.Out] {
				l.B.Grad.Data[j] += g
			}
		}
	}
	return dx, nil
}
