package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/tensor"
)

// Conv2d is a 2-D convolution (PyTorch's Conv2d with groups=1) with an
// optional bias and an optional connection mask over (filter, input
// channel) pairs.
type Conv2d struct {
	name        string
	In, Out     int // input channels C, filters N
	K           int // square kernel size
	Stride, Pad int
	W           *Param // [Out][In][K][K]
	B           *Param // [Out], nil without bias

	x      *tensor.Tensor // cached input
	y, dx  *tensor.Tensor
	dwPart [][]float32 // per-worker partial weight gradients
	wt     []float32   // weights prepared for backward data, once per Backward
	wr     []float32   // bf16-rounded weights (Precision BF16, precision.go)
	bw     kernel.BF16Weights
	sp     *sparsePlan // grouped passes of a pruned layer (conv_sparse.go)
}

// NewConv2d returns a convolution with Kaiming-uniform initial weights
// (PyTorch's default: U(-b, b), b = 1/sqrt(fan_in)) drawn from rng.
func NewConv2d(name string, in, out, k, stride, pad int, bias bool, rng *rand.Rand) *Conv2d {
	c := &Conv2d{name: name, In: in, Out: out, K: k, Stride: stride, Pad: pad}
	c.W = newParam(name+".weight", true, out, in, k, k)
	bound := float32(1 / math.Sqrt(float64(in*k*k)))
	for i := range c.W.Value.Data {
		c.W.Value.Data[i] = bound * (2*rng.Float32() - 1)
	}
	if bias {
		c.B = newParam(name+".bias", false, out)
		for i := range c.B.Value.Data {
			c.B.Value.Data[i] = bound * (2*rng.Float32() - 1)
		}
	}
	return c
}

// Name returns the layer's state_dict prefix.
func (c *Conv2d) Name() string { return c.name }

// Params returns the weight and, if present, the bias.
func (c *Conv2d) Params() []*Param {
	if c.B != nil {
		return []*Param{c.W, c.B}
	}
	return []*Param{c.W}
}

// Weight returns the weight parameter.
func (c *Conv2d) Weight() *Param { return c.W }

// MaskShape returns (filters, input channels).
func (c *Conv2d) MaskShape() (int, int) { return c.Out, c.In }

// Mask returns the connection mask, nil when dense.
func (c *Conv2d) Mask() []float32 { return c.W.Mask }

// SetMask installs a connection mask and zeroes the pruned weights.
func (c *Conv2d) SetMask(m []float32) error {
	if err := validMask(c.name, m, c.Out, c.In); err != nil {
		return err
	}
	c.W.Mask = m
	applyMask(c.W.Value.Data, m, c.K*c.K)
	return nil
}

// Geometry returns the kernel description for an input of h x w.
func (c *Conv2d) Geometry(h, w int) kernel.Conv {
	return kernel.Conv{C: c.In, H: h, W: w, N: c.Out, KH: c.K, KW: c.K, Stride: c.Stride, Pad: c.Pad}
}

// Forward computes y[B][Out][OH][OW] = conv(x, W*mask) + bias.
func (c *Conv2d) Forward(ctx *Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := check4D(c.name, x, c.In); err != nil {
		return nil, err
	}
	p := c.Geometry(x.Shape[2], x.Shape[3])
	if p.H+2*p.Pad < c.K || p.W+2*p.Pad < c.K {
		return nil, fmt.Errorf("layer %s: input %dx%d is smaller than the %dx%d kernel", c.name, p.H, p.W, c.K, c.K)
	}
	b, oh, ow := x.Shape[0], p.OutH(), p.OutW()
	c.x = x
	y := reuse(&c.y, b, c.Out, oh, ow)
	if c.amx(ctx, p) {
		c.forwardAMX(ctx, p, x, y)
		return y, nil
	}
	in, out := c.In*p.H*p.W, c.Out*oh*ow
	bf := c.rounds(ctx, p)
	w := c.convWeights(bf)
	if sp := c.sparse(p); sp != nil {
		sp.loadForward(w, c.In, c.K*c.K)
		e := &kernel.Epilogue{}
		if c.B != nil {
			e.Bias = c.B.Value.Data
		}
		ctx.forEach(b, func(_ int, ws *kernel.Workspace, i int) {
			sp.fwd.Forward(operand(bf, ws, x.Data[i*in:(i+1)*in], 0), y.Data[i*out:(i+1)*out], e, ws)
		})
		return y, nil
	}
	ctx.forEach(b, func(_ int, ws *kernel.Workspace, i int) {
		yi := y.Data[i*out : (i+1)*out]
		kernel.ConvForward(p, operand(bf, ws, x.Data[i*in:(i+1)*in], 0), w, yi, ws)
		if c.B != nil {
			addBias(yi, c.B.Value.Data, oh*ow)
		}
	})
	return y, nil
}

// Backward computes dx, and accumulates dW (zero where masked) and dB.
func (c *Conv2d) Backward(ctx *Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	x := c.x
	if x == nil || dy == nil || c.y == nil || !tensor.SameShape(dy.Shape, c.y.Shape) {
		return nil, fmt.Errorf("layer %s: backward without a matching forward", c.name)
	}
	p := c.Geometry(x.Shape[2], x.Shape[3])
	b, oh, ow := x.Shape[0], p.OutH(), p.OutW()
	dx := reuse(&c.dx, x.Shape...)
	if c.amx(ctx, p) {
		c.backwardAMX(ctx, p, x, dy, dx)
		applyMask(c.W.Grad.Data, c.W.Mask, c.K*c.K)
		if c.B != nil {
			biasGrad(c.B.Grad.Data, dy.Data, b, c.Out, oh*ow)
		}
		return dx, nil
	}
	in, out := c.In*p.H*p.W, c.Out*oh*ow
	nw := len(c.W.Value.Data)
	sp := c.sparse(p)
	groupedFilter := sp != nil && oh*ow >= groupedFilterMinOut
	ng := kernel.FilterGradLen(p)
	if groupedFilter {
		ng = kernel.GroupFilterGradLen(p, sp.fwdG)
	}
	t := ctx.Pool().Threads()
	c.zeroDWParts(t, ng)
	groupedData := sp != nil && sp.bwd != nil // else backward data runs dense (stride > 1)
	var wt []float32
	bf := c.rounds(ctx, p)
	wq := c.convWeights(bf)
	if groupedData {
		sp.loadBackward(wq, c.In, c.K*c.K)
	} else {
		if cap(c.wt) < nw {
			c.wt = make([]float32, nw)
		}
		wt = c.wt[:nw]
		kernel.PrepareBackwardData(p, wq, wt)
	}
	e := &kernel.Epilogue{}
	ctx.forEach(b, func(worker int, ws *kernel.Workspace, i int) {
		dyi := operand(bf, ws, dy.Data[i*out:(i+1)*out], in)
		xi := operand(bf, ws, x.Data[i*in:(i+1)*in], 0)
		if groupedData {
			sp.bwd.Forward(dyi, dx.Data[i*in:(i+1)*in], e, ws)
		} else {
			kernel.ConvBackwardDataPrepared(p, dyi, wt, dx.Data[i*in:(i+1)*in], ws)
		}
		if groupedFilter {
			kernel.GroupFilterGradAcc(p, sp.fwdG, xi, dyi, c.dwPart[worker], ws)
		} else {
			kernel.ConvBackwardFilterAcc(p, xi, dyi, c.dwPart[worker], ws)
		}
	})
	g := c.W.Grad.Data
	for w := range t {
		if groupedFilter {
			sp.addGrad(c.dwPart[w], g, c.In, c.K*c.K)
		} else {
			kernel.AddFilterGrad(p, c.dwPart[w], g)
		}
	}
	applyMask(g, c.W.Mask, c.K*c.K)
	if c.B != nil {
		biasGrad(c.B.Grad.Data, dy.Data, b, c.Out, oh*ow)
	}
	return dx, nil
}

// addBias adds bias[n] to every element of plane n of y (planes of size hw).
func addBias(y, bias []float32, hw int) {
	for n, bv := range bias {
		row := y[n*hw : (n+1)*hw]
		for j := range row {
			row[j] += bv
		}
	}
}

// biasGrad accumulates db[n] += sum over batch and plane of dy.
func biasGrad(db, dy []float32, b, n, hw int) {
	for i := range b {
		for ch := range n {
			var s float32
			for _, v := range dy[(i*n+ch)*hw : (i*n+ch+1)*hw] {
				s += v
			}
			db[ch] += s
		}
	}
}

// zeroDWParts makes c's t per-worker filter-gradient buffers ng floats
// long and zero, reusing those of the last pass.
func (c *Conv2d) zeroDWParts(t, ng int) {
	for w := range t {
		if w == len(c.dwPart) {
			c.dwPart = append(c.dwPart, nil)
		}
		if len(c.dwPart[w]) != ng {
			c.dwPart[w] = make([]float32, ng)
		}
		clear(c.dwPart[w])
	}
}
