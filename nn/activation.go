package nn

import (
	"fmt"

	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/tensor"
)

// ReLU is max(x, 0), computed in place on its input.
type ReLU struct {
	name string
	y    *tensor.Tensor
}

// NewReLU returns a ReLU layer.
func NewReLU(name string) *ReLU { return &ReLU{name: name} }

// Name returns the layer's name.
func (r *ReLU) Name() string { return r.name }

// Params returns nil.
func (r *ReLU) Params() []*Param { return nil }

// Forward overwrites x with max(x, 0) and returns it.
func (r *ReLU) Forward(ctx *Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	if x == nil || x.Len() == 0 {
		return nil, &ShapeError{Layer: r.name, Got: nil, Want: "a non-empty tensor"}
	}
	ctx.forChunks(x.Len(), func(lo, hi int) { kernel.Relu(x.Data[lo:hi]) })
	r.y = x
	return x, nil
}

// Backward zeroes dy where the output was zero, in place.
func (r *ReLU) Backward(ctx *Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	if r.y == nil || dy == nil || dy.Len() != r.y.Len() {
		return nil, fmt.Errorf("layer %s: backward without a matching forward", r.name)
	}
	ctx.forChunks(dy.Len(), func(lo, hi int) { kernel.ReluMask(r.y.Data[lo:hi], dy.Data[lo:hi]) })
	return dy, nil
}

// Dropout zeroes each element with probability P in training mode and
// scales the rest by 1/(1-P) (inverted dropout, as PyTorch).
type Dropout struct {
	name string
	P    float32
	keep []bool
	n    int // input length of the last forward, 0 before any
	y    *tensor.Tensor
}

// NewDropout returns a dropout layer.
func NewDropout(name string, p float32) *Dropout { return &Dropout{name: name, P: p} }

// Name returns the layer's name.
func (d *Dropout) Name() string { return d.name }

// Params returns nil.
func (d *Dropout) Params() []*Param { return nil }

// Forward applies dropout (identity in evaluation mode).
func (d *Dropout) Forward(ctx *Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	if x == nil || x.Len() == 0 {
		return nil, &ShapeError{Layer: d.name, Want: "a non-empty tensor"}
	}
	d.n = x.Len()
	if !ctx.Train || d.P == 0 {
		d.keep = nil
		return x, nil
	}
	y := reuse(&d.y, x.Shape...)
	if cap(d.keep) < x.Len() {
		d.keep = make([]bool, x.Len())
	}
	d.keep = d.keep[:x.Len()]
	scale := 1 / (1 - d.P)
	rng := ctx.rand()
	for i, v := range x.Data {
		d.keep[i] = rng.Float32() >= d.P
		if d.keep[i] {
			y.Data[i] = v * scale
		} else {
			y.Data[i] = 0
		}
	}
	return y, nil
}

// Backward passes the gradient through the kept elements.
func (d *Dropout) Backward(ctx *Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	if d.n == 0 || dy == nil || dy.Len() != d.n {
		return nil, fmt.Errorf("layer %s: backward without a matching forward", d.name)
	}
	if d.keep == nil {
		return dy, nil
	}
	dx := reuse(&d.y, dy.Shape...)
	scale := 1 / (1 - d.P)
	for i, k := range d.keep {
		if k {
			dx.Data[i] = dy.Data[i] * scale
		} else {
			dx.Data[i] = 0
		}
	}
	return dx, nil
}
