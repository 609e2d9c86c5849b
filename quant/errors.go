package quant

import (
	"fmt"
	"math"
	"slices"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// LayerError is the int8 error of one conv on its own fp32 input.
type LayerError struct {
	Layer string
	// RelRMS is the RMS of (int8 conv - fp32 conv) over the RMS of the fp32
	// conv, before bias and activation, with the calibrated input
	// quantization and the weights quantized per output channel (BatchNorm
	// not folded: its per-channel scale does not change the relative error
	// of a channel).
	RelRMS float64
}

// LayerErrors runs images (at most one batch of them is used) through g in
// fp32 and returns, for every calibrated conv, the relative error of its
// int8 form on the input it sees, largest first.
func LayerErrors(g *graph.Graph, images *tensor.Tensor, batch int, cal *Calibration) ([]LayerError, error) {
	if batch < 1 || images == nil || len(images.Shape) == 0 || images.Shape[0] < batch {
		return nil, fmt.Errorf("quant: LayerErrors: want at least one batch (%d) of images", batch)
	}
	q := cal.Int8()
	per := tensor.Numel(images.Shape[1:]...)
	x, err := tensor.From(images.Data[:batch*per], append([]int{batch}, images.Shape[1:]...)...)
	if err != nil {
		return nil, fmt.Errorf("quant: LayerErrors: %w", err)
	}
	var out []LayerError
	var werr error
	err = walk(g, x, func(nd *graph.Node, xs []*tensor.Tensor) {
		a, ok := q[nd.Name]
		l, _ := nd.Layer.(*nn.Conv2d)
		if !ok || l == nil || werr != nil {
			return
		}
		e, err := convError(l, a, xs[0])
		if err != nil {
			werr = fmt.Errorf("quant: layer %s: %w", nd.Name, err)
			return
		}
		out = append(out, LayerError{Layer: nd.Name, RelRMS: e})
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b LayerError) int { return -cmpFloat(a.RelRMS, b.RelRMS) })
	return out, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// convError is the relative RMS error of l's int8 form on the batch x.
func convError(l *nn.Conv2d, a kernel.ActQuant, x *tensor.Tensor) (float64, error) {
	if len(x.Shape) != 4 || x.Shape[1] != l.In {
		return 0, fmt.Errorf("input %v, want [B %d H W]", x.Shape, l.In)
	}
	p := l.Geometry(x.Shape[2], x.Shape[3])
	kk := p.KH * p.KW
	w := slices.Clone(l.W.Value.Data)
	if m := l.Mask(); m != nil {
		for i, v := range m {
			if v == 0 {
				clear(w[i*kk : (i+1)*kk])
			}
		}
	}
	g := kernel.Group{Filters: make([]int, p.N), Channels: make([]int, p.C), Weights: w}
	for i := range g.Filters {
		g.Filters[i] = i
	}
	for i := range g.Channels {
		g.Channels[i] = i
	}
	f32 := kernel.NewGroupPlan(p, []kernel.Group{g})
	i8 := kernel.NewInt8Plan(p, []kernel.Group{g}, a)
	in, out := p.C*p.H*p.W, p.N*p.OutH()*p.OutW()
	yf, yq := make([]float32, out), make([]float32, out)
	var ws kernel.Workspace
	var e2, n2 float64
	e := &kernel.Epilogue{}
	for b := range x.Shape[0] {
		xb := x.Data[b*in : (b+1)*in]
		f32.Forward(xb, yf, e, &ws)
		i8.Forward(xb, yq, e, &ws)
		for i, v := range yf {
			d := float64(yq[i] - v)
			e2 += d * d
			n2 += float64(v) * float64(v)
		}
	}
	if n2 == 0 {
		return 0, nil
	}
	return math.Sqrt(e2 / n2), nil
}
