package nn

import (
	"fmt"
	"math"

	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/tensor"
)

// MaxPool2d takes the maximum over K x K windows (PyTorch's MaxPool2d,
// padding counted as -Inf; the first maximum of a window gets the gradient,
// and a NaN in a window gives NaN).
type MaxPool2d struct {
	name           string
	K, Stride, Pad int

	xshape []int
	arg    []int32 // flat input index of each output's maximum
	y, dx  *tensor.Tensor
}

// NewMaxPool2d returns a max-pooling layer.
func NewMaxPool2d(name string, k, stride, pad int) *MaxPool2d {
	return &MaxPool2d{name: name, K: k, Stride: stride, Pad: pad}
}

// Name returns the layer's name.
func (m *MaxPool2d) Name() string { return m.name }

// Params returns nil.
func (m *MaxPool2d) Params() []*Param { return nil }

func poolOut(name string, x *tensor.Tensor, k, s, p int) (int, int, error) {
	if err := check4D(name, x, 0); err != nil {
		return 0, 0, err
	}
	oh, ow := (x.Shape[2]+2*p-k)/s+1, (x.Shape[3]+2*p-k)/s+1
	if x.Shape[2]+2*p < k || x.Shape[3]+2*p < k { // not oh < 1: "/" truncates toward zero
		return 0, 0, fmt.Errorf("layer %s: input %dx%d is smaller than the %dx%d window", name, x.Shape[2], x.Shape[3], k, k)
	}
	return oh, ow, nil
}

// Forward computes the window maxima.
func (m *MaxPool2d) Forward(ctx *Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	oh, ow, err := poolOut(m.name, x, m.K, m.Stride, m.Pad)
	if err != nil {
		return nil, err
	}
	b, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	y := reuse(&m.y, b, c, oh, ow)
	if len(m.arg) != y.Len() {
		m.arg = make([]int32, y.Len())
	}
	m.xshape = x.Shape
	ctx.forEach(b*c, func(_ int, _ *kernel.Workspace, plane int) {
		xo, yo := plane*h*w, plane*oh*ow
		for oy := range oh {
			for ox := range ow {
				best, arg := float32(math.Inf(-1)), int32(-1)
				for ky := range m.K {
					iy := oy*m.Stride - m.Pad + ky
					if iy < 0 || iy >= h {
						continue
					}
					for kx := range m.K {
						ix := ox*m.Stride - m.Pad + kx
						if ix < 0 || ix >= w {
							continue
						}
						// NaN wins, as in PyTorch.
						if v := x.Data[xo+iy*w+ix]; v > best || arg < 0 || v != v {
							best, arg = v, int32(xo+iy*w+ix)
						}
					}
				}
				y.Data[yo+oy*ow+ox], m.arg[yo+oy*ow+ox] = best, arg
			}
		}
	})
	return y, nil
}

// Backward routes each output gradient to its window's maximum.
func (m *MaxPool2d) Backward(ctx *Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	if m.xshape == nil || dy == nil || dy.Len() != len(m.arg) {
		return nil, fmt.Errorf("layer %s: backward without a matching forward", m.name)
	}
	dx := reuse(&m.dx, m.xshape...)
	dx.Zero()
	for i, a := range m.arg {
		dx.Data[a] += dy.Data[i]
	}
	return dx, nil
}

// AvgPool2d averages over K x K windows (PyTorch's AvgPool2d with
// count_include_pad=True).
type AvgPool2d struct {
	name           string
	K, Stride, Pad int
	xshape         []int
	y, dx          *tensor.Tensor
}

// NewAvgPool2d returns an average-pooling layer.
func NewAvgPool2d(name string, k, stride, pad int) *AvgPool2d {
	return &AvgPool2d{name: name, K: k, Stride: stride, Pad: pad}
}

// Name returns the layer's name.
func (a *AvgPool2d) Name() string { return a.name }

// Params returns nil.
func (a *AvgPool2d) Params() []*Param { return nil }

// Forward computes window means.
func (a *AvgPool2d) Forward(ctx *Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	oh, ow, err := poolOut(a.name, x, a.K, a.Stride, a.Pad)
	if err != nil {
		return nil, err
	}
	b, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	y := reuse(&a.y, b, c, oh, ow)
	a.xshape = x.Shape
	inv := 1 / float32(a.K*a.K)
	ctx.forEach(b*c, func(_ int, _ *kernel.Workspace, plane int) {
		xo, yo := plane*h*w, plane*oh*ow
		for oy := range oh {
			for ox := range ow {
				var s float32
				for ky := range a.K {
					iy := oy*a.Stride - a.Pad + ky
					if iy < 0 || iy >= h {
						continue
					}
					for kx := range a.K {
						if ix := ox*a.Stride - a.Pad + kx; ix >= 0 && ix < w {
							s += x.Data[xo+iy*w+ix]
						}
					}
				}
				y.Data[yo+oy*ow+ox] = s * inv
			}
		}
	})
	return y, nil
}

// Backward spreads each output gradient evenly over its window.
func (a *AvgPool2d) Backward(ctx *Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	if a.xshape == nil || dy == nil || a.y == nil || dy.Len() != a.y.Len() {
		return nil, fmt.Errorf("layer %s: backward without a matching forward", a.name)
	}
	b, c, h, w := a.xshape[0], a.xshape[1], a.xshape[2], a.xshape[3]
	oh, ow := a.y.Shape[2], a.y.Shape[3]
	dx := reuse(&a.dx, a.xshape...)
	inv := 1 / float32(a.K*a.K)
	ctx.forEach(b*c, func(_ int, _ *kernel.Workspace, plane int) {
		xo, yo := plane*h*w, plane*oh*ow
		clear(dx.Data[xo : xo+h*w])
		for oy := range oh {
			for ox := range ow {
				g := dy.Data[yo+oy*ow+ox] * inv
				for ky := range a.K {
					iy := oy*a.Stride - a.Pad + ky
					if iy < 0 || iy >= h {
						continue
					}
					for kx := range a.K {
						if ix := ox*a.Stride - a.Pad + kx; ix >= 0 && ix < w {
							dx.Data[xo+iy*w+ix] += g
						}
					}
				}
			}
		}
	})
	return dx, nil
}

// GlobalAvgPool averages each channel plane: [B][C][H][W] -> [B][C]
// (adaptive average pooling to 1x1 followed by flatten).
type GlobalAvgPool struct {
	name   string
	xshape []int
	y, dx  *tensor.Tensor
}

// NewGlobalAvgPool returns a global average pooling layer.
func NewGlobalAvgPool(name string) *GlobalAvgPool { return &GlobalAvgPool{name: name} }

// Name returns the layer's name.
func (g *GlobalAvgPool) Name() string { return g.name }

// Params returns nil.
func (g *GlobalAvgPool) Params() []*Param { return nil }

// Forward averages every plane.
func (g *GlobalAvgPool) Forward(ctx *Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := check4D(g.name, x, 0); err != nil {
		return nil, err
	}
	b, c, hw := x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
	g.xshape = x.Shape
	y := reuse(&g.y, b, c)
	inv := 1 / float32(hw)
	for p := range b * c {
		var s float32
		for _, v := range x.Data[p*hw : (p+1)*hw] {
			s += v
		}
		y.Data[p] = s * inv
	}
	return y, nil
}

// Backward spreads each gradient evenly over its plane.
func (g *GlobalAvgPool) Backward(ctx *Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	if g.xshape == nil || dy == nil || dy.Len() != g.xshape[0]*g.xshape[1] {
		return nil, fmt.Errorf("layer %s: backward without a matching forward", g.name)
	}
	hw := g.xshape[2] * g.xshape[3]
	dx := reuse(&g.dx, g.xshape...)
	inv := 1 / float32(hw)
	for p, d := range dy.Data {
		v := d * inv
		row := dx.Data[p*hw : (p+1)*hw]
		for j := range row {
			row[j] = v
		}
	}
	return dx, nil
}
