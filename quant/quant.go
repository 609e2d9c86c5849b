// Package quant is post-training quantization of a compiled network to
// int8: it calibrates the input range of every conv that package compile
// runs on its fast path (a node whose Layer is an *nn.Conv2d), and
// compiles the network with those convs on the int8 route
// (compile.Options.Int8, kernel.Int8Plan).
//
// The scheme: each int8 conv quantizes its fp32 input on the way in and
// dequantizes its int32 sums in registers on the way out, where the folded
// BatchNorm bias, the residual add and the ReLU are applied before the
// fp32 store (kernel.Int8Plan); every other layer stays fp32. The bias is
// rounded to the grid of the int32 sums (kernel.QuantBias), as ONNX's
// QLinearConv and the QDQ export (export/onnx) hold it.
//
//   - Weights: per output channel, symmetric int8 in [-127, 127], from the
//     weights with BatchNorm folded in (done by compile).
//   - Activations: per tensor, asymmetric uint8 (scale and zero point).
//     VPDPBUSD multiplies unsigned by signed bytes, so the input needs no
//     +128 shift; a ReLU output (range [0, max]) gets zero point 0 and all
//     256 levels, the normalised image a zero point near the middle.
//   - Calibration: the running minimum and maximum of each conv's input
//     over the calibration images (sgcnn quantize takes them from the
//     validation split), run in fp32 through the graph's own node forwards
//     (evaluation mode, masks applied).
//   - Groups: each group of a pruned conv reads exactly its own input
//     channels, four to a 32-bit word, so an uneven group costs its own
//     products rounded up to a multiple of four channels.
//
// On a CPU without AVX512_VNNI the same kernels run in pure Go (correct,
// several times slower than fp32); ForcePureGo selects them anywhere.
//
// Layout: quant.go (Calibrate, Compile), errors.go (per-layer error).
package quant

import (
	"fmt"
	"math"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// Range is the calibrated input range of one conv.
type Range struct {
	Layer    string  // conv node name
	Min, Max float32 // over all calibration images
}

// Quant returns the input quantization that covers r.
func (r Range) Quant() kernel.ActQuant { return kernel.ActQuantRange(r.Min, r.Max) }

// Calibration is the result of Calibrate: one Range per int8 conv, in graph
// order.
type Calibration struct {
	Ranges []Range
	Images int // calibration images seen
}

// Int8 returns the map compile.Options.Int8 takes.
func (c *Calibration) Int8() map[string]kernel.ActQuant {
	m := make(map[string]kernel.ActQuant, len(c.Ranges))
	for _, r := range c.Ranges {
		m[r.Layer] = r.Quant()
	}
	return m
}

// Convs returns the nodes of g that the int8 route takes: convs with one
// input whose Layer is an *nn.Conv2d.
func Convs(g *graph.Graph) []*graph.Node {
	var out []*graph.Node
	for _, n := range g.Nodes {
		if _, ok := n.Layer.(*nn.Conv2d); ok && n.Op == graph.Conv && len(n.Inputs) == 1 && len(n.Outputs) == 1 {
			out = append(out, n)
		}
	}
	return out
}

// Calibrate runs images ([N, C, H, W], the graph's input shape) through g
// in fp32, batch images at a time, and records the input range of every
// conv of Convs(g). It is an error to give fewer images than one batch.
func Calibrate(g *graph.Graph, images *tensor.Tensor, batch int) (*Calibration, error) {
	if batch < 1 {
		return nil, fmt.Errorf("quant: calibration batch %d: want at least 1", batch)
	}
	if images == nil || len(images.Shape) != 1+len(g.InputShape) {
		return nil, fmt.Errorf("quant: calibration images: want a batch of %v images", g.InputShape)
	}
	for i, d := range g.InputShape {
		if images.Shape[1+i] != d {
			return nil, fmt.Errorf("quant: calibration images of shape %v, the network takes %v", images.Shape[1:], g.InputShape)
		}
	}
	n := images.Shape[0]
	if n < batch {
		return nil, fmt.Errorf("quant: %d calibration images: want at least one batch (%d)", n, batch)
	}
	if g.Shapes == nil {
		if err := g.Infer(); err != nil {
			return nil, fmt.Errorf("quant: %w", err)
		}
	}
	convs := Convs(g)
	cal := &Calibration{Ranges: make([]Range, len(convs))}
	byInput := map[*graph.Node]int{}
	for i, c := range convs {
		cal.Ranges[i] = Range{Layer: c.Name, Min: float32(math.Inf(1)), Max: float32(math.Inf(-1))}
		byInput[c] = i
	}
	per := tensor.Numel(g.InputShape...)
	for b0 := 0; b0+batch <= n; b0 += batch {
		x, err := tensor.From(images.Data[b0*per:(b0+batch)*per], append([]int{batch}, g.InputShape...)...)
		if err != nil {
			return nil, fmt.Errorf("quant: calibration images: %w", err)
		}
		err = walk(g, x, func(nd *graph.Node, xs []*tensor.Tensor) {
			if i, ok := byInput[nd]; ok {
				r := &cal.Ranges[i]
				for _, v := range xs[0].Data {
					r.Min, r.Max = min(r.Min, v), max(r.Max, v)
				}
			}
		})
		if err != nil {
			return nil, err
		}
		cal.Images += batch
	}
	for _, r := range cal.Ranges {
		if math.IsNaN(float64(r.Min)) || math.IsInf(float64(r.Min), 0) || math.IsNaN(float64(r.Max)) || math.IsInf(float64(r.Max), 0) {
			return nil, fmt.Errorf("quant: layer %s: input range [%v, %v] on the calibration images is not finite", r.Layer, r.Min, r.Max)
		}
	}
	return cal, nil
}

// walk runs every node of g on the batch x in evaluation mode, calling
// visit with each node's inputs before it runs, and frees each value after
// its last reader.
func walk(g *graph.Graph, x *tensor.Tensor, visit func(*graph.Node, []*tensor.Tensor)) error {
	last := map[string]int{}
	for i, nd := range g.Nodes {
		for _, t := range nd.Inputs {
			last[t] = i
		}
	}
	vals := map[string]*tensor.Tensor{g.Input: x}
	ctx := nn.NewCtx(false)
	for i, nd := range g.Nodes {
		xs := make([]*tensor.Tensor, len(nd.Inputs))
		for j, t := range nd.Inputs {
			if xs[j] = vals[t]; xs[j] == nil {
				return fmt.Errorf("quant: node %s reads %s before it is computed", nd.Name, t)
			}
		}
		visit(nd, xs)
		ys, err := nd.Forward(ctx, xs)
		if err != nil {
			return fmt.Errorf("quant: %w", err)
		}
		for j, t := range nd.Outputs {
			vals[t] = ys[j]
		}
		for _, t := range nd.Inputs {
			if last[t] == i && t != g.Output {
				delete(vals, t)
			}
		}
	}
	return nil
}

// Compile compiles g as compile.CompileGraph with opt, its calibrated convs
// on the int8 route.
func Compile(g *graph.Graph, cal *Calibration, opt compile.Options) (*compile.Net, error) {
	opt.Int8 = cal.Int8()
	return compile.CompileGraph(g, opt)
}

// Accelerated reports whether the int8 kernels run in assembly (AVX-512
// VNNI); without it they run in pure Go, correct but several times slower
// than fp32.
func Accelerated() bool { return kernel.Int8Impl() != "go" }

// ForcePureGo makes the int8 kernels run in pure Go, as on a CPU without
// AVX512_VNNI (for tests, and to compare the two), and returns the
// function that restores the fastest implementation. It is not safe to
// call while an int8 network runs.
func ForcePureGo() (restore func()) {
	prev := kernel.Int8Impl()
	kernel.SetInt8Impl("go")
	return func() { kernel.SetInt8Impl(prev) }
}
