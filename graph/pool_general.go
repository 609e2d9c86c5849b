package graph

import (
	"fmt"
	"math"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// newPool returns the layer of a MaxPool or AveragePool node over inputs of
// per-image shape in: nn's MaxPool2d or AvgPool2d where the attributes fit
// them (square window and stride, equal pads, no dilation, no ceil mode,
// and for averages padding counted or absent), else a Pool2d.
func newPool(n *Node, in []int) (nn.Layer, error) {
	a := n.Attrs
	if _, err := poolShape(&a, in); err != nil {
		return nil, err
	}
	k, s, d := a.Kernel, pairOr(a.Stride, 1), pairOr(a.Dilation, 1)
	p := a.Pads
	simple := k[0] == k[1] && s[0] == s[1] && d == [2]int{1, 1} && !a.CeilMode &&
		p[0] == p[1] && p[1] == p[2] && p[2] == p[3]
	if n.Op == MaxPool && simple {
		return nn.NewMaxPool2d(n.Name, k[0], s[0], p[0]), nil
	}
	if n.Op == AveragePool && simple && (a.CountIncludePad || p[0] == 0) {
		return nn.NewAvgPool2d(n.Name, k[0], s[0], p[0]), nil
	}
	if n.Op == AveragePool && d != [2]int{1, 1} {
		return nil, fmt.Errorf("average pooling with dilation %v is not supported", a.Dilation)
	}
	return &Pool2d{name: n.Name, Max: n.Op == MaxPool, Kernel: k, Stride: s, Pads: p, Dilation: d,
		CeilMode: a.CeilMode, CountIncludePad: a.CountIncludePad}, nil
}

// Pool2d is a max or average pool with any window, strides, pads
// (top, left, bottom, right), dilation (max only), ceil mode, and for
// averages padding counted or not, with PyTorch's semantics: a window that
// would start in the bottom or right padding is dropped, and a counted
// window's divisor stops at the padded border.
type Pool2d struct {
	name            string
	Max             bool
	Kernel, Stride  [2]int
	Pads            [4]int
	Dilation        [2]int
	CeilMode        bool
	CountIncludePad bool

	xshape []int
	oh, ow int
	arg    []int32
	y, dx  *tensor.Tensor
}

// Name returns the layer's name.
func (p *Pool2d) Name() string { return p.name }

// Params returns nil.
func (p *Pool2d) Params() []*nn.Param { return nil }

func (p *Pool2d) props() props { return props{} }

// window returns the first input row (or column) of output position o
// along axis i and the average's divisor extent; lo..hi is the part inside
// the input.
func (p *Pool2d) window(i, o, n int) (start, lo, hi, count int) {
	start = o*p.Stride[i] - p.Pads[i]
	end := min(start+p.Kernel[i], n+p.Pads[i+2])
	lo, hi = max(start, 0), min(end, n)
	count = hi - lo
	if p.CountIncludePad {
		count = end - start
	}
	return start, lo, hi, count
}

// Forward pools every plane.
func (p *Pool2d) Forward(ctx *nn.Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	if x == nil || len(x.Shape) != 4 || x.Shape[0] < 1 {
		return nil, &nn.ShapeError{Layer: p.name, Got: shapeOf(x), Want: "[B C H W] with B >= 1"}
	}
	b, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	out, err := poolShape(&Attrs{Kernel: p.Kernel, Stride: p.Stride, Pads: p.Pads, Dilation: p.Dilation, CeilMode: p.CeilMode}, x.Shape[1:])
	if err != nil {
		return nil, fmt.Errorf("layer %s: %v", p.name, err)
	}
	p.xshape, p.oh, p.ow = x.Shape, out[1], out[2]
	y := reuse(&p.y, b, out)
	if p.Max && len(p.arg) != y.Len() {
		p.arg = make([]int32, y.Len())
	}
	ctx.Pool().For(b*c, func(_, plane int) {
		xp := x.Data[plane*h*w : (plane+1)*h*w]
		yo := plane * p.oh * p.ow
		for oy := range p.oh {
			for ox := range p.ow {
				if p.Max {
					v, a := p.maxAt(xp, oy, ox, h, w)
					if a >= 0 {
						a += plane * h * w
					}
					y.Data[yo+oy*p.ow+ox], p.arg[yo+oy*p.ow+ox] = v, int32(a)
					continue
				}
				_, y0, y1, cy := p.window(0, oy, h)
				_, x0, x1, cx := p.window(1, ox, w)
				var s float32
				for iy := y0; iy < y1; iy++ {
					for _, v := range xp[iy*w+x0 : iy*w+x1] {
						s += v
					}
				}
				if cy*cx > 0 {
					s /= float32(cy * cx)
				}
				y.Data[yo+oy*p.ow+ox] = s
			}
		}
	})
	return y, nil
}

// maxAt returns the maximum of output (oy, ox)'s window and its offset in
// the plane (NaN wins, then the first maximum, as in PyTorch).
func (p *Pool2d) maxAt(xp []float32, oy, ox, h, w int) (float32, int) {
	best, arg := float32(math.Inf(-1)), -1
	sy, sx := oy*p.Stride[0]-p.Pads[0], ox*p.Stride[1]-p.Pads[1]
	for ky := range p.Kernel[0] {
		iy := sy + ky*p.Dilation[0]
		if iy < 0 || iy >= h {
			continue
		}
		for kx := range p.Kernel[1] {
			ix := sx + kx*p.Dilation[1]
			if ix < 0 || ix >= w {
				continue
			}
			if v := xp[iy*w+ix]; v > best || arg < 0 || v != v {
				best, arg = v, iy*w+ix
				if v != v {
					return best, arg
				}
			}
		}
	}
	if arg < 0 { // a window wholly in the padding (only with ceil mode and large pads)
		return 0, -1
	}
	return best, arg
}

// Backward routes each gradient to its window's maximum, or spreads it
// over the window's input elements.
func (p *Pool2d) Backward(ctx *nn.Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	if p.xshape == nil || dy == nil || dy.Len() != p.y.Len() {
		return nil, noForward(p.name)
	}
	dx := reuseShape(&p.dx, p.xshape)
	dx.Zero()
	if p.Max {
		for i, a := range p.arg {
			if a >= 0 {
				dx.Data[a] += dy.Data[i]
			}
		}
		return dx, nil
	}
	b, c, h, w := p.xshape[0], p.xshape[1], p.xshape[2], p.xshape[3]
	ctx.Pool().For(b*c, func(_, plane int) {
		dp := dx.Data[plane*h*w : (plane+1)*h*w]
		yo := plane * p.oh * p.ow
		for oy := range p.oh {
			_, y0, y1, cy := p.window(0, oy, h)
			for ox := range p.ow {
				_, x0, x1, cx := p.window(1, ox, w)
				g := dy.Data[yo+oy*p.ow+ox] / float32(max(cy*cx, 1))
				for iy := y0; iy < y1; iy++ {
					row := dp[iy*w+x0 : iy*w+x1]
					for j := range row {
						row[j] += g
					}
				}
			}
		}
	})
	return dx, nil
}

// shapeOf returns x's shape, nil for a nil x.
func shapeOf(x *tensor.Tensor) []int {
	if x == nil {
		return nil
	}
	return x.Shape
}
