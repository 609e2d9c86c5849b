package graph

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// This file holds the convolutions nn.Conv2d does not cover: any kernel,
// strides, pads (top, left, bottom, right), dilations and groups, and the
// transposed convolution. Per image and group they run as im2col and a
// GEMM (internal/kernel's SGEMM); images run in parallel.

// geom is one image's sliding window: an image of C channels of H x W,
// read by KH x KW windows at P = PH x PW positions.
type geom struct {
	C, H, W        int
	KH, KW         int
	SH, SW, PT, PL int
	DH, DW         int
	PH, PW         int
}

// span returns the positions o in [lo, hi) of [0, n) whose tap
// o*s - p + off lies inside [0, size).
func span(n, size, s, p, off int) (lo, hi int) {
	if p-off > 0 {
		lo = (p - off + s - 1) / s
	}
	if last := size - 1 + p - off; last >= 0 {
		hi = min(last/s+1, n)
	}
	return min(lo, hi), hi
}

// im2col writes cols[(c*KH+ky)*KW+kx][py*PW+px] = x[c][iy][ix] with
// iy = py*SH - PT + ky*DH (likewise ix), zero outside the image.
func (g *geom) im2col(x, cols []float32) {
	np := g.PH * g.PW
	for c := range g.C {
		plane := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for ky := range g.KH {
			for kx := range g.KW {
				row := cols[((c*g.KH+ky)*g.KW+kx)*np:][:np]
				lo, hi := span(g.PW, g.W, g.SW, g.PL, kx*g.DW)
				for py := range g.PH {
					dst := row[py*g.PW : (py+1)*g.PW]
					iy := py*g.SH - g.PT + ky*g.DH
					if iy < 0 || iy >= g.H || lo >= hi {
						clear(dst)
						continue
					}
					clear(dst[:lo])
					clear(dst[hi:])
					src := plane[iy*g.W:]
					for px := lo; px < hi; px++ {
						dst[px] = src[px*g.SW-g.PL+kx*g.DW]
					}
				}
			}
		}
	}
}

// col2im adds cols (laid out as im2col's) into x.
func (g *geom) col2im(cols, x []float32) {
	np := g.PH * g.PW
	for c := range g.C {
		plane := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for ky := range g.KH {
			for kx := range g.KW {
				row := cols[((c*g.KH+ky)*g.KW+kx)*np:][:np]
				lo, hi := span(g.PW, g.W, g.SW, g.PL, kx*g.DW)
				for py := range g.PH {
					iy := py*g.SH - g.PT + ky*g.DH
					if iy < 0 || iy >= g.H {
						continue
					}
					src, dst := row[py*g.PW:], plane[iy*g.W:]
					for px := lo; px < hi; px++ {
						dst[px*g.SW-g.PL+kx*g.DW] += src[px]
					}
				}
			}
		}
	}
}

// identity reports whether im2col would copy the image unchanged (a 1x1
// window at stride 1 without padding), so the image itself serves as cols.
func (g *geom) identity() bool {
	return g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.PT == 0 && g.PL == 0 && g.PH == g.H && g.PW == g.W
}

// convCore is the state shared by GeneralConv, GroupedConv and
// ConvTranspose2d.
type convCore struct {
	name string
	// In and Out are the input and output channels; Group divides both.
	In, Out, Group int
	Kernel         [2]int
	Stride         [2]int
	Pads           [4]int // top, left, bottom, right
	Dilation       [2]int
	OutputPadding  [2]int // ConvTranspose2d only
	// W is [Out][In/Group][KH][KW] for a convolution, [In][Out/Group][KH][KW]
	// for a transposed one (PyTorch's layouts); B is [Out] or nil.
	W, B *nn.Param

	transposed bool
	x          *tensor.Tensor
	y, dx      *tensor.Tensor
	g          geom
	oh, ow     int
	cols       [][]float32 // per worker
	dwPart     [][]float32 // per worker
}

// newCore checks the attributes and draws PyTorch's default initial
// weights (U(-b, b), b = 1/sqrt(fan_in)) from rng.
func newCore(name string, in int, a Attrs, transposed bool, rng *rand.Rand) (*convCore, error) {
	c := &convCore{name: name, In: in, Out: a.Out, Group: max(a.Group, 1), Kernel: a.Kernel,
		Stride: pairOr(a.Stride, 1), Pads: a.Pads, Dilation: pairOr(a.Dilation, 1),
		OutputPadding: a.OutputPadding, transposed: transposed}
	if c.Kernel[0] < 1 || c.Kernel[1] < 1 || c.Out < 1 || in < 1 || in%c.Group != 0 || c.Out%c.Group != 0 {
		return nil, fmt.Errorf("%d -> %d channels, kernel %v, group %d: want positive sizes that split into the groups", in, c.Out, c.Kernel, c.Group)
	}
	kk := c.Kernel[0] * c.Kernel[1]
	shape := []int{c.Out, in / c.Group, c.Kernel[0], c.Kernel[1]}
	fanIn := in / c.Group * kk
	if transposed {
		shape = []int{in, c.Out / c.Group, c.Kernel[0], c.Kernel[1]}
		fanIn = c.Out / c.Group * kk
	}
	c.W = &nn.Param{Name: name + ".weight", Value: tensor.New(shape...), Grad: tensor.New(shape...), Decay: true}
	bound := float32(1 / math.Sqrt(float64(fanIn)))
	for i := range c.W.Value.Data {
		c.W.Value.Data[i] = bound * (2*rng.Float32() - 1)
	}
	if a.Bias {
		c.B = &nn.Param{Name: name + ".bias", Value: tensor.New(c.Out), Grad: tensor.New(c.Out)}
		for i := range c.B.Value.Data {
			c.B.Value.Data[i] = bound * (2*rng.Float32() - 1)
		}
	}
	return c, nil
}

// Name returns the layer's state_dict prefix.
func (c *convCore) Name() string { return c.name }

// Params returns the weight and, if present, the bias.
func (c *convCore) Params() []*nn.Param {
	if c.B != nil {
		return []*nn.Param{c.W, c.B}
	}
	return []*nn.Param{c.W}
}

// Weight returns the weight parameter.
func (c *convCore) Weight() *nn.Param { return c.W }

func (c *convCore) props() props { return props{} }

// OutSize returns the output height and width for an input of h x w.
func (c *convCore) OutSize(h, w int) (int, int, error) {
	n := &Node{Op: Conv, Attrs: Attrs{Out: c.Out, Kernel: c.Kernel, Stride: c.Stride, Pads: c.Pads,
		Dilation: c.Dilation, Group: c.Group, OutputPadding: c.OutputPadding}}
	if c.transposed {
		n.Op = ConvTranspose
	}
	s, err := n.convShape([]int{c.In, h, w})
	if err != nil {
		return 0, 0, fmt.Errorf("layer %s: %v", c.name, err)
	}
	return s[1], s[2], nil
}

// setup checks x, sizes the output and the per-worker buffers.
func (c *convCore) setup(ctx *nn.Ctx, x *tensor.Tensor) error {
	if x == nil || len(x.Shape) != 4 || x.Shape[0] < 1 || x.Shape[1] != c.In {
		return &nn.ShapeError{Layer: c.name, Got: shapeOf(x), Want: fmt.Sprintf("[B %d H W] with B >= 1", c.In)}
	}
	h, w := x.Shape[2], x.Shape[3]
	oh, ow, err := c.OutSize(h, w)
	if err != nil {
		return err
	}
	c.oh, c.ow = oh, ow
	g := geom{KH: c.Kernel[0], KW: c.Kernel[1], SH: c.Stride[0], SW: c.Stride[1], PT: c.Pads[0], PL: c.Pads[1],
		DH: c.Dilation[0], DW: c.Dilation[1]}
	if c.transposed {
		// The image im2col reads is the output; the positions are the input's pixels.
		g.C, g.H, g.W, g.PH, g.PW = c.Out/c.Group, oh, ow, h, w
	} else {
		g.C, g.H, g.W, g.PH, g.PW = c.In/c.Group, h, w, oh, ow
	}
	c.g = g
	ncols := g.C * g.KH * g.KW * g.PH * g.PW
	for len(c.cols) < ctx.Pool().Threads() {
		c.cols = append(c.cols, nil)
		c.dwPart = append(c.dwPart, nil)
	}
	for i := range c.cols {
		if len(c.cols[i]) != ncols {
			c.cols[i] = make([]float32, ncols)
		}
	}
	return nil
}

// Forward computes the convolution of a batch.
func (c *convCore) Forward(ctx *nn.Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := c.setup(ctx, x); err != nil {
		return nil, err
	}
	c.x = x
	b, h, w := x.Shape[0], x.Shape[2], x.Shape[3]
	y := reuse(&c.y, b, []int{c.Out, c.oh, c.ow})
	in, out := c.In*h*w, c.Out*c.oh*c.ow
	ctx.Pool().For(b, func(worker, i int) {
		xi, yi := x.Data[i*in:(i+1)*in], y.Data[i*out:(i+1)*out]
		if c.transposed {
			c.forwardT(xi, yi, c.cols[worker])
		} else {
			c.forward(xi, yi, c.cols[worker])
		}
		if c.B != nil {
			hw := c.oh * c.ow
			for n, bv := range c.B.Value.Data {
				row := yi[n*hw : (n+1)*hw]
				for j := range row {
					row[j] += bv
				}
			}
		}
	})
	return y, nil
}

// forward convolves one image: y_g = W_g cols_g for every group g.
func (c *convCore) forward(x, y, cols []float32) {
	g := &c.g
	if g.C == 1 {
		c.forwardDW(x, y)
		return
	}
	k, np, ng := g.C*g.KH*g.KW, g.PH*g.PW, c.Out/c.Group
	for gi := range c.Group {
		xg := x[gi*g.C*g.H*g.W : (gi+1)*g.C*g.H*g.W]
		cg := cols
		if g.identity() {
			cg = xg
		} else {
			g.im2col(xg, cols)
		}
		kernel.Sgemm(false, false, ng, np, k, 1, c.W.Value.Data[gi*ng*k:], k, cg, np, 0, y[gi*ng*np:], np)
	}
}

// forwardT runs one image of the transposed convolution: cols = W_g^T x_g,
// scattered into y by col2im.
func (c *convCore) forwardT(x, y, cols []float32) {
	g := &c.g
	k, np, cg := g.C*g.KH*g.KW, g.PH*g.PW, c.In/c.Group
	clear(y)
	for gi := range c.Group {
		kernel.Sgemm(true, false, k, np, cg, 1, c.W.Value.Data[gi*cg*k:], k, x[gi*cg*np:], np, 0, cols, np)
		g.col2im(cols, y[gi*g.C*g.H*g.W:])
	}
}

// Backward computes dx and accumulates the weight (masked) and bias
// gradients.
func (c *convCore) Backward(ctx *nn.Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	x := c.x
	if x == nil || dy == nil || c.y == nil || !tensor.SameShape(dy.Shape, c.y.Shape) {
		return nil, noForward(c.name)
	}
	b, h, w := x.Shape[0], x.Shape[2], x.Shape[3]
	dx := reuseShape(&c.dx, x.Shape)
	in, out := c.In*h*w, c.Out*c.oh*c.ow
	nw := len(c.W.Value.Data)
	for i := range c.dwPart {
		if len(c.dwPart[i]) != nw {
			c.dwPart[i] = make([]float32, nw)
		}
		clear(c.dwPart[i])
	}
	ctx.Pool().For(b, func(worker, i int) {
		xi, dyi, dxi := x.Data[i*in:(i+1)*in], dy.Data[i*out:(i+1)*out], dx.Data[i*in:(i+1)*in]
		if c.transposed {
			c.backwardT(xi, dyi, dxi, c.cols[worker], c.dwPart[worker])
		} else {
			c.backward(xi, dyi, dxi, c.cols[worker], c.dwPart[worker])
		}
	})
	gw := c.W.Grad.Data
	for _, p := range c.dwPart {
		kernel.AddTo(gw, p)
	}
	if c.W.Mask != nil {
		kk := nw / len(c.W.Mask)
		for i, m := range c.W.Mask {
			if m == 0 {
				clear(gw[i*kk : (i+1)*kk])
			}
		}
	}
	if c.B != nil {
		hw := c.oh * c.ow
		for i := range b {
			for n := range c.Out {
				var s float32
				for _, v := range dy.Data[(i*c.Out+n)*hw : (i*c.Out+n+1)*hw] {
					s += v
				}
				c.B.Grad.Data[n] += s
			}
		}
	}
	return dx, nil
}

// backward handles one image of a convolution: dW_g += dy_g cols_g^T and
// dx_g = col2im(W_g^T dy_g).
func (c *convCore) backward(x, dy, dx, cols, dw []float32) {
	g := &c.g
	if g.C == 1 {
		c.backwardDW(x, dy, dx, dw)
		return
	}
	k, np, ng := g.C*g.KH*g.KW, g.PH*g.PW, c.Out/c.Group
	id := g.identity()
	for gi := range c.Group {
		xg, dxg := x[gi*g.C*g.H*g.W:(gi+1)*g.C*g.H*g.W], dx[gi*g.C*g.H*g.W:(gi+1)*g.C*g.H*g.W]
		dyg, wg := dy[gi*ng*np:], c.W.Value.Data[gi*ng*k:]
		cg := cols
		if id {
			cg = xg
		} else {
			g.im2col(xg, cols)
		}
		kernel.Sgemm(false, true, ng, k, np, 1, dyg, np, cg, np, 1, dw[gi*ng*k:], k)
		if id {
			kernel.Sgemm(true, false, k, np, ng, 1, wg, k, dyg, np, 0, dxg, np)
			continue
		}
		kernel.Sgemm(true, false, k, np, ng, 1, wg, k, dyg, np, 0, cols, np)
		clear(dxg)
		g.col2im(cols, dxg)
	}
}

// backwardT handles one image of a transposed convolution: cols =
// im2col(dy_g), dx_g = W_g cols, dW_g += x_g cols^T.
func (c *convCore) backwardT(x, dy, dx, cols, dw []float32) {
	g := &c.g
	k, np, cg := g.C*g.KH*g.KW, g.PH*g.PW, c.In/c.Group
	for gi := range c.Group {
		g.im2col(dy[gi*g.C*g.H*g.W:], cols)
		wg := c.W.Value.Data[gi*cg*k:]
		kernel.Sgemm(false, false, cg, np, k, 1, wg, k, cols, np, 0, dx[gi*cg*np:], np)
		kernel.Sgemm(false, true, cg, k, np, 1, x[gi*cg*np:], np, cols, np, 1, dw[gi*cg*k:], k)
	}
}

// GeneralConv is a convolution with one group and any kernel, strides,
// pads and dilations (the ones nn.Conv2d does not take). Like nn.Conv2d it
// is prunable: a mask over (filter, input channel) pairs.
type GeneralConv struct{ convCore }

// GroupedConv is a convolution with several groups (depthwise included).
// It is not prunable: grouped convolutions stay dense.
type GroupedConv struct{ convCore }

// ConvTranspose2d is a transposed convolution (PyTorch's ConvTranspose2d).
type ConvTranspose2d struct{ convCore }

// MaskShape returns (filters, input channels).
func (c *GeneralConv) MaskShape() (int, int) { return c.Out, c.In }

// Mask returns the connection mask, nil when dense.
func (c *GeneralConv) Mask() []float32 { return c.W.Mask }

// SetMask installs a connection mask (len Out*In, values 0 or 1) and zeroes
// the pruned weights; nil makes the layer dense again.
func (c *GeneralConv) SetMask(m []float32) error {
	if m != nil {
		if len(m) != c.Out*c.In {
			return fmt.Errorf("layer %s: mask has %d entries, want %d (%d filters x %d channels)", c.name, len(m), c.Out*c.In, c.Out, c.In)
		}
		for i, v := range m {
			if v != 0 && v != 1 {
				return fmt.Errorf("layer %s: mask entry %d is %g, want 0 or 1", c.name, i, v)
			}
		}
		kk := c.Kernel[0] * c.Kernel[1]
		for i, v := range m {
			if v == 0 {
				clear(c.W.Value.Data[i*kk : (i+1)*kk])
			}
		}
	}
	c.W.Mask = m
	return nil
}

var _ nn.Prunable = (*GeneralConv)(nil)

// Depthwise convolutions (one input channel per group) run direct: a GEMM
// with one row per group costs more in packing than in products.

// taps calls fn for every kernel tap with the output rows [y0, y1) and
// columns [x0, x1) whose input pixel lies inside the image, and base, the
// offset in the input plane of output (0, 0)'s pixel for that tap (rows
// then add oy*SH*W, columns ox*SW).
func (g *geom) taps(fn func(tap, y0, y1, x0, x1, base int)) {
	for ky := range g.KH {
		y0, y1 := span(g.PH, g.H, g.SH, g.PT, ky*g.DH)
		for kx := range g.KW {
			x0, x1 := span(g.PW, g.W, g.SW, g.PL, kx*g.DW)
			if y0 < y1 && x0 < x1 {
				fn(ky*g.KW+kx, y0, y1, x0, x1, (ky*g.DH-g.PT)*g.W+kx*g.DW-g.PL)
			}
		}
	}
}

// forwardDW convolves one image of a depthwise convolution.
func (c *convCore) forwardDW(x, y []float32) {
	g := &c.g
	np, hw, kk, ng := g.PH*g.PW, g.H*g.W, g.KH*g.KW, c.Out/c.Group
	for n := range c.Out {
		xp, yp, wn := x[n/ng*hw:(n/ng+1)*hw], y[n*np:(n+1)*np], c.W.Value.Data[n*kk:(n+1)*kk]
		clear(yp)
		g.taps(func(tap, y0, y1, x0, x1, base int) {
			w := wn[tap]
			for oy := y0; oy < y1; oy++ {
				dst, off := yp[oy*g.PW:], base+oy*g.SH*g.W
				if g.SW == 1 {
					src := xp[off+x0 : off+x1]
					for i, v := range src {
						dst[x0+i] += w * v
					}
					continue
				}
				for ox := x0; ox < x1; ox++ {
					dst[ox] += w * xp[off+ox*g.SW]
				}
			}
		})
	}
}

// backwardDW computes one image's dx and adds its weight gradient to dw.
func (c *convCore) backwardDW(x, dy, dx, dw []float32) {
	g := &c.g
	np, hw, kk, ng := g.PH*g.PW, g.H*g.W, g.KH*g.KW, c.Out/c.Group
	clear(dx)
	for n := range c.Out {
		ch := n / ng
		xp, dxp, dyp := x[ch*hw:(ch+1)*hw], dx[ch*hw:(ch+1)*hw], dy[n*np:(n+1)*np]
		wn, dwn := c.W.Value.Data[n*kk:(n+1)*kk], dw[n*kk:(n+1)*kk]
		g.taps(func(tap, y0, y1, x0, x1, base int) {
			w := wn[tap]
			var s float32
			for oy := y0; oy < y1; oy++ {
				row, off := dyp[oy*g.PW:], base+oy*g.SH*g.W
				for ox := x0; ox < x1; ox++ {
					d := row[ox]
					s += d * xp[off+ox*g.SW]
					dxp[off+ox*g.SW] += w * d
				}
			}
			dwn[tap] += s
		})
	}
}
