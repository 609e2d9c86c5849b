package nn

import (
	"fmt"

	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/tensor"
)

// Precision is the arithmetic of a Ctx's convolutions.
type Precision int

const (
	// FP32 multiplies and accumulates in float32.
	FP32 Precision = iota
	// BF16 rounds both operands of every convolution product to bf16
	// (round to nearest even, as VCVTNE2PS2BF16) and accumulates in
	// float32: forward x and W, backward data dy and W, backward filter x
	// and dy. Weights, their gradients and the optimizer state stay
	// float32 (master weights), as in PyTorch's CPU autocast; unlike
	// autocast, activations between layers, BatchNorm and the loss stay
	// float32 too. Stride-1 convolutions run on bf16 kernels: AMX where
	// kernel.AMX reports it (Intel Xeon 4th generation and later, Linux),
	// else AVX512_BF16's VDPBF16PS where that measures faster than the
	// FMA (AMD Zen 4); kernel.BF16Conv names the route. The kernels
	// multiply pruned convs densely (masked weights zero), so on
	// VDPBF16PS a pruned conv keeping at most half its connections stays
	// fp32 (its grouped fp32 passes are faster). Every other conv, and all of
	// them on machines without the kernels, is emulated: the operands
	// rounded in Go, the products in the float32 kernels, which equals a
	// bf16 kernel with float32 sums up to the order of the sums (a
	// product of two bf16 values is exact in float32), and is slower
	// than FP32, not faster. BF16Route says which.
	BF16
)

// String returns "fp32" or "bf16".
func (p Precision) String() string {
	switch p {
	case FP32:
		return "fp32"
	case BF16:
		return "bf16"
	}
	return fmt.Sprintf("Precision(%d)", int(p))
}

// ParsePrecision parses "fp32" (or "") and "bf16".
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "", "fp32":
		return FP32, nil
	case "bf16":
		return BF16, nil
	}
	return FP32, fmt.Errorf("unknown precision %q (want fp32 or bf16)", s)
}

// useAMX lets BF16 take the bf16 kernels' route, AMX or VDPBF16PS
// (tests turn it off).
var useAMX = true

// BF16Route describes where BF16's convolutions run on this machine: on
// AMX, on AVX512_BF16's VDPBF16PS (no AMX, and VDPBF16PS measured faster
// than the FMA), or why they are emulated.
func BF16Route() string {
	switch route, why := kernel.BF16Conv(); route {
	case "AMX":
		return "AMX (stride-1 convolutions; others emulated)"
	case "AVX512_BF16":
		return "AVX512_BF16 VDPBF16PS (stride-1 convolutions; others emulated; pruned ones keeping at most half their connections stay fp32; " + why + ")"
	default:
		return "emulated (slower than fp32): " + why
	}
}

// amx reports whether c's passes on geometry p run on the bf16 kernels
// (AMX or VDPBF16PS, kernel.BF16Conv): not where c stays fp32 (keepsFP32).
func (c *Conv2d) amx(ctx *Ctx, p kernel.Conv) bool {
	return ctx.bf16() && useAMX && kernel.CanConvBF16(p) && !c.keepsFP32(ctx, p)
}

// keepsFP32 reports whether c's passes on geometry p stay fp32 under BF16:
// a pruned conv that keeps at most half its connections (its grouped
// passes run, sparseMaxKept) where VDPBF16PS would take p. VDPBF16PS
// multiplies a pruned conv densely, at most 2x the FMA's rate, so fp32
// over the kept connections is faster (ResNet-56 at Conv-70, batch 64, 2
// threads, AMD Zen 4: 330 img/s in fp32, 280 with every conv on
// VDPBF16PS), and more precise. AMX keeps them: its dense products of a
// pruned conv cost about what the fp32 grouped passes do (docs/BF16.md),
// and the rule was not measured there. Without the kernels, BF16
// emulates every conv, pruned ones included, as a numerical model of the
// kernels.
func (c *Conv2d) keepsFP32(ctx *Ctx, p kernel.Conv) bool {
	if !ctx.bf16() || !useAMX || !kernel.CanConvBF16(p) {
		return false
	}
	route, _ := kernel.BF16Conv()
	return route == "AVX512_BF16" && c.sparse(p) != nil
}

// rounds reports whether c's products on geometry p take bf16 operands
// outside the bf16 kernels (the emulation): BF16, unless c keeps fp32.
func (c *Conv2d) rounds(ctx *Ctx, p kernel.Conv) bool {
	return ctx.bf16() && !c.keepsFP32(ctx, p)
}

// maskedWeights returns the weights with the mask applied (in c.wr when
// there is a mask): the AMX route multiplies pruned layers densely, and
// must not trust pruned weights to be zero.
func (c *Conv2d) maskedWeights() []float32 {
	w := c.W.Value.Data
	if c.W.Mask == nil {
		return w
	}
	c.wr = append(c.wr[:0], w...)
	applyMask(c.wr, c.W.Mask, c.K*c.K)
	return c.wr
}

// forwardAMX is Forward's BF16 pass on the bf16 kernels.
func (c *Conv2d) forwardAMX(ctx *Ctx, p kernel.Conv, x, y *tensor.Tensor) {
	kernel.PrepareBF16Weights(p, c.maskedWeights(), &c.bw)
	in, out, hw := c.In*p.H*p.W, c.Out*p.OutH()*p.OutW(), p.OutH()*p.OutW()
	ctx.forEach(x.Shape[0], func(_ int, ws *kernel.Workspace, i int) {
		yi := y.Data[i*out : (i+1)*out]
		kernel.ConvForwardBF16(p, x.Data[i*in:(i+1)*in], &c.bw, yi, ws)
		if c.B != nil {
			addBias(yi, c.B.Value.Data, hw)
		}
	})
}

// backwardAMX is Backward's BF16 pass on the bf16 kernels, into dx and
// W.Grad.
func (c *Conv2d) backwardAMX(ctx *Ctx, p kernel.Conv, x, dy, dx *tensor.Tensor) {
	kernel.PrepareBF16BackwardData(p, c.maskedWeights(), &c.bw)
	ng := kernel.BF16FilterGradLen(p)
	t := ctx.Pool().Threads()
	c.zeroDWParts(t, ng)
	in, out := c.In*p.H*p.W, c.Out*p.OutH()*p.OutW()
	ctx.forEach(x.Shape[0], func(worker int, ws *kernel.Workspace, i int) {
		xi, dyi := x.Data[i*in:(i+1)*in], dy.Data[i*out:(i+1)*out]
		kernel.ConvBackwardDataBF16(p, dyi, &c.bw, dx.Data[i*in:(i+1)*in], ws)
		kernel.ConvBackwardFilterAccBF16(p, xi, dyi, c.dwPart[worker], ws)
	})
	for w := range t {
		kernel.AddBF16FilterGrad(p, c.dwPart[w], c.W.Grad.Data)
	}
}

// bf16 reports whether ctx asks for bf16 products.
func (c *Ctx) bf16() bool { return c != nil && c.Precision == BF16 }

// convWeights returns the layer's weights as the products read them: the
// weights themselves, or with bf16 a bf16-rounded copy (in c.wr).
func (c *Conv2d) convWeights(bf16 bool) []float32 {
	w := c.W.Value.Data
	if !bf16 {
		return w
	}
	if cap(c.wr) < len(w) {
		c.wr = make([]float32, len(w))
	}
	c.wr = c.wr[:len(w)]
	kernel.RoundBF16(c.wr, w)
	return c.wr
}

// operand returns src as the products read it: src itself, or with bf16
// a bf16-rounded copy at floats [off, off+len(src)) of the worker's
// scratch ws.Floats. The two operands of one image take disjoint ranges;
// should the second call reallocate the scratch, the first copy stays
// valid in the old array.
func operand(bf16 bool, ws *kernel.Workspace, src []float32, off int) []float32 {
	if !bf16 {
		return src
	}
	dst := ws.Floats(off + len(src))[off : off+len(src)]
	kernel.RoundBF16(dst, src)
	return dst
}
