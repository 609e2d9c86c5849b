package nn

import (
	"fmt"

	"github.com/sgcnn/sgcnn/internal/kernel"
)

// Precision is the arithmetic of a Ctx's convolutions.
type Precision int

const (
	// FP32 multiplies and accumulates in float32.
	FP32 Precision = iota
	// BF16 rounds both operands of every convolution product to bf16
	// (round to nearest even, as VCVTNE2PS2BF16) and accumulates in
	// float32: forward x and W, backward data dy and W, backward filter x
	// and dy. Weights, their gradients, the optimizer state, BatchNorm,
	// activations between layers and the loss stay float32 (master
	// weights), as in PyTorch's CPU autocast. This engine emulates it:
	// the operands are rounded in Go and the products run in the float32
	// kernels, which is exactly what a bf16 kernel with float32 sums
	// computes, up to the order of the sums (a product of two bf16 values
	// is exact in float32), and slower than FP32, not faster.
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

// bf16 reports whether ctx asks for bf16 products.
func (c *Ctx) bf16() bool { return c != nil && c.Precision == BF16 }

// convWeights returns the layer's weights as the products read them: the
// weights themselves in FP32, a bf16-rounded copy (in c.wr) in BF16.
func (c *Conv2d) convWeights(ctx *Ctx) []float32 {
	w := c.W.Value.Data
	if !ctx.bf16() {
		return w
	}
	if cap(c.wr) < len(w) {
		c.wr = make([]float32, len(w))
	}
	c.wr = c.wr[:len(w)]
	kernel.RoundBF16(c.wr, w)
	return c.wr
}

// operand returns src as the products read it: src itself in FP32, in
// BF16 a bf16-rounded copy at floats [off, off+len(src)) of the worker's
// scratch ws.Floats. The two operands of one image take disjoint ranges;
// should the second call reallocate the scratch, the first copy stays
// valid in the old array.
func operand(ctx *Ctx, ws *kernel.Workspace, src []float32, off int) []float32 {
	if !ctx.bf16() {
		return src
	}
	dst := ws.Floats(off + len(src))[off : off+len(src)]
	kernel.RoundBF16(dst, src)
	return dst
}
