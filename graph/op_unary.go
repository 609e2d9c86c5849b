package graph

import (
	"fmt"
	"math"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// unaryLayer is an elementwise activation other than ReLU: LeakyRelu,
// Clip, Sigmoid, HardSigmoid, HardSwish. It writes a new output and keeps
// its input for the backward pass.
type unaryLayer struct {
	name  string
	op    Op
	a     Attrs
	x     *tensor.Tensor
	y, dx *tensor.Tensor
}

func newUnary(name string, op Op, a Attrs) *unaryLayer {
	if op == HardSwish {
		a.Alpha, a.Beta = 1.0/6, 0.5
	}
	return &unaryLayer{name: name, op: op, a: a}
}

func (u *unaryLayer) Name() string        { return u.name }
func (u *unaryLayer) Params() []*nn.Param { return nil }
func (u *unaryLayer) props() props        { return props{} }

func (u *unaryLayer) Forward(ctx *nn.Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	if x == nil || x.Len() == 0 {
		return nil, &nn.ShapeError{Layer: u.name, Want: "a non-empty tensor"}
	}
	u.x = x
	y := reuseShape(&u.y, x.Shape)
	forChunks(ctx.Pool(), x.Len(), func(lo, hi int) { u.apply(x.Data[lo:hi], y.Data[lo:hi]) })
	return y, nil
}

// apply computes y = f(x) elementwise.
func (u *unaryLayer) apply(x, y []float32) {
	a := u.a
	switch u.op {
	case LeakyRelu:
		for i, v := range x {
			if v < 0 {
				v *= a.Alpha
			}
			y[i] = v
		}
	case Clip:
		for i, v := range x {
			y[i] = min(max(v, a.Min), a.Max)
		}
	case Sigmoid:
		for i, v := range x {
			y[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	case HardSigmoid:
		for i, v := range x {
			y[i] = min(max(a.Alpha*v+a.Beta, 0), 1)
		}
	case HardSwish:
		for i, v := range x {
			y[i] = v * min(max(a.Alpha*v+a.Beta, 0), 1)
		}
	}
}

// grad computes dx = f'(x) * dy elementwise.
func (u *unaryLayer) grad(x, dy, dx []float32) {
	a := u.a
	switch u.op {
	case LeakyRelu:
		for i, v := range x {
			g := dy[i]
			if v < 0 {
				g *= a.Alpha
			}
			dx[i] = g
		}
	case Clip:
		// PyTorch's clamp: the gradient passes where min <= x <= max.
		for i, v := range x {
			if v >= a.Min && v <= a.Max {
				dx[i] = dy[i]
			} else {
				dx[i] = 0
			}
		}
	case Sigmoid:
		for i, v := range x {
			s := 1 / (1 + math.Exp(-float64(v)))
			dx[i] = dy[i] * float32(s*(1-s))
		}
	case HardSigmoid:
		for i, v := range x {
			if t := a.Alpha*v + a.Beta; t > 0 && t < 1 {
				dx[i] = dy[i] * a.Alpha
			} else {
				dx[i] = 0
			}
		}
	case HardSwish:
		// d/dx x*h(x) = h(x) + x*h'(x), h(x) = clamp(x/6 + 1/2, 0, 1).
		for i, v := range x {
			t := a.Alpha*v + a.Beta
			switch {
			case t <= 0:
				dx[i] = 0
			case t >= 1:
				dx[i] = dy[i]
			default:
				dx[i] = dy[i] * (t + v*a.Alpha)
			}
		}
	}
}

func (u *unaryLayer) Backward(ctx *nn.Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	if u.x == nil || dy == nil || dy.Len() != u.x.Len() {
		return nil, noForward(u.name)
	}
	dx := reuseShape(&u.dx, u.x.Shape)
	forChunks(ctx.Pool(), dy.Len(), func(lo, hi int) { u.grad(u.x.Data[lo:hi], dy.Data[lo:hi], dx.Data[lo:hi]) })
	return dx, nil
}

// viewLayer is Identity, Flatten or Reshape: the output is the input's
// memory under another per-image shape.
type viewLayer struct {
	name     string
	in, out  []int // per-image shapes
	y, dx    tensor.Tensor
	forwards bool
}

func newView(name string, in, out []int) (*viewLayer, error) {
	if tensor.Numel(in...) != tensor.Numel(out...) {
		return nil, fmt.Errorf("shape %s has %d values, input %s has %d",
			tensor.ShapeString(out), tensor.Numel(out...), tensor.ShapeString(in), tensor.Numel(in...))
	}
	return &viewLayer{name: name, in: in, out: out}, nil
}

func (v *viewLayer) Name() string        { return v.name }
func (v *viewLayer) Params() []*nn.Param { return nil }
func (v *viewLayer) props() props        { return props{aliases: true} }

func (v *viewLayer) Forward(ctx *nn.Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	b, err := batchOf(v.name, x, v.in)
	if err != nil {
		return nil, err
	}
	v.forwards = true
	return view(&v.y, x.Data, b, v.out), nil
}

func (v *viewLayer) Backward(ctx *nn.Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	if !v.forwards || dy == nil || len(dy.Shape) == 0 || dy.Len() != dy.Shape[0]*tensor.Numel(v.out...) {
		return nil, noForward(v.name)
	}
	return view(&v.dx, dy.Data, dy.Shape[0], v.in), nil
}
