package onnx

import (
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/maskgroup"
	"github.com/sgcnn/sgcnn/internal/onnxpb"
)

// convSpec is one conv as it is written: geometry, masked (and possibly
// BN-folded) weights [N][C/group][KH][KW], and an optional bias [N].
type convSpec struct {
	name         string
	wName, bName string // initializer names
	in, out      int    // input channels, filters
	group        int
	kh, kw       int
	stride, dil  [2]int
	pads         [4]int
	w, bias      []float32
	mask         []float32 // N x C, group 1 only
	h, wd        int       // input height and width
	outH, outW   int
}

// conv writes a Conv node, with the BatchNorm node bn folded in when bn
// is not nil; a masked conv in the form Options chooses.
func (b *builder) conv(n, bn *graph.Node) error {
	x, err := b.in(n, 0)
	if err != nil {
		return err
	}
	a := n.Attrs
	y := b.src.Shapes[n.Outputs[0]]
	g := max(a.Group, 1)
	if len(x.shape) != 3 || len(y) != 3 || x.shape[0]%g != 0 || y[0] != a.Out {
		return unsupported(n, fmt.Sprintf("input %v, output %v, %d filters, group %d", x.shape, y, a.Out, g))
	}
	sp := convSpec{name: n.Name, in: x.shape[0], out: a.Out, group: g, kh: a.Kernel[0], kw: a.Kernel[1],
		stride: pair(a.Stride), dil: pair(a.Dilation), pads: a.Pads, h: x.shape[1], wd: x.shape[2], outH: y[1], outW: y[2]}
	kk := sp.in / g * sp.kh * sp.kw
	w, err := needParam(n, ".weight", sp.out*kk)
	if err != nil {
		return err
	}
	if n.Prunable() {
		if sp.mask = n.PrunableLayer().Mask(); sp.mask != nil && (g != 1 || len(sp.mask) != sp.out*sp.in) {
			return unsupported(n, fmt.Sprintf("mask of %d entries for %d filters, %d channels, group %d", len(sp.mask), sp.out, sp.in, g))
		}
	}
	sp.wName, sp.w = w.Name, masked(w.Value.Data, sp.mask, sp.kh*sp.kw)
	if a.Bias {
		bias, err := needParam(n, ".bias", sp.out)
		if err != nil {
			return err
		}
		sp.bias, sp.bName = slices.Clone(bias.Value.Data), bias.Name
	}
	out := n.Outputs[0]
	if bn != nil {
		if err := foldBN(&sp, bn); err != nil {
			return err
		}
		out = bn.Outputs[0]
	}
	var v value
	if q, ok := b.opts.QDQ[sp.name]; ok {
		v, err = b.qdqConv(&sp, x, q) // masked weights as zeros, in one Conv
	} else {
		v, err = b.convForms(&sp, x)
	}
	if err != nil {
		return err
	}
	v.shape = y
	b.vals[out] = v
	return nil
}

// convForms writes sp dense, or, when it is masked, in the form Options
// chooses, and records the choice.
func (b *builder) convForms(sp *convSpec, x value) (value, error) {
	if sp.mask == nil {
		return b.denseConv(sp, x), nil
	}
	groups, err := b.groupsOf(sp)
	if err != nil {
		return value{}, err
	}
	form, ok := b.opts.Forms[sp.name]
	if !ok {
		form = b.opts.Conv
	}
	ch := Choice{Layer: sp.name, Form: form}
	for _, g := range groups {
		if len(g.Channels) == 0 {
			ch.Dead += len(g.Filters)
		} else {
			ch.Groups++
		}
	}
	switch form {
	case ConvDense, ConvGrouped:
	case ConvFastest:
		if err := b.time(sp, groups, &ch); err != nil {
			return value{}, err
		}
	default:
		return value{}, fmt.Errorf("onnx: layer %s: unknown conv mode %v", sp.name, form)
	}
	b.choices = append(b.choices, ch)
	if b.opts.Log != nil {
		line := fmt.Sprintf("%s: %d groups, %d dead filters: %s", ch.Layer, ch.Groups, ch.Dead, ch.Form)
		if form == ConvFastest {
			line += fmt.Sprintf(" (dense %.3f ms, grouped %.3f ms at batch %d)",
				ch.Dense.Seconds()*1e3, ch.Grouped.Seconds()*1e3, b.timeBatch())
		}
		fmt.Fprintln(b.opts.Log, line)
	}
	if ch.Form == ConvGrouped {
		return b.groupedConv(sp, groups, x), nil
	}
	return b.denseConv(sp, x), nil
}

// foldBN folds an eval-mode BatchNorm node into the conv's weights and
// bias: w' = w * gamma/sqrt(var+eps), b' = b * gamma/sqrt(var+eps) + (beta - mean * gamma/sqrt(var+eps)).
func foldBN(sp *convSpec, bn *graph.Node) error {
	var p [4][]float32
	for i, s := range []string{".weight", ".bias", ".running_mean", ".running_var"} {
		q, err := needParam(bn, s, sp.out)
		if err != nil {
			return err
		}
		p[i] = q.Value.Data
	}
	gamma, beta, mean, vr := p[0], p[1], p[2], p[3]
	if sp.bias == nil {
		sp.bias = make([]float32, sp.out)
	}
	kk := sp.in / sp.group * sp.kh * sp.kw
	for n := range sp.out {
		scale := float64(gamma[n]) / math.Sqrt(float64(vr[n])+bn.Attrs.Eps)
		for i := range sp.w[n*kk : (n+1)*kk] {
			sp.w[n*kk+i] = float32(float64(sp.w[n*kk+i]) * scale)
		}
		sp.bias[n] = float32(float64(sp.bias[n])*scale + (float64(beta[n]) - float64(mean[n])*scale)) // as package compile folds it
	}
	sp.bName = bn.Name + ".folded_bias"
	return nil
}

// timeBatch is the batch size forms are timed at.
func (b *builder) timeBatch() int {
	if b.opts.TimeBatch > 0 {
		return b.opts.TimeBatch
	}
	return 8
}

// groupsOf returns the conv's filter groups, from Options.Groups or by
// equal mask rows, and checks them.
func (b *builder) groupsOf(sp *convSpec) ([]Group, error) {
	var groups []Group
	if b.opts.Groups != nil {
		groups = b.opts.Groups(sp.name, sp.mask, sp.out, sp.in)
	}
	if groups == nil {
		groups = DefaultGroups(sp.mask, sp.out, sp.in)
	}
	seen := make([]bool, sp.out)
	for gi, g := range groups {
		if len(g.Filters) == 0 {
			return nil, fmt.Errorf("onnx: layer %s: group %d has no filters", sp.name, gi)
		}
		reads := make([]bool, sp.in)
		for _, c := range g.Channels {
			if c < 0 || c >= sp.in || reads[c] {
				return nil, fmt.Errorf("onnx: layer %s: group %d lists channel %d twice or out of [0, %d)", sp.name, gi, c, sp.in)
			}
			reads[c] = true
		}
		for _, f := range g.Filters {
			if f < 0 || f >= sp.out || seen[f] {
				return nil, fmt.Errorf("onnx: layer %s: filter %d is in two groups or out of [0, %d)", sp.name, f, sp.out)
			}
			seen[f] = true
			for c := range sp.in {
				if sp.mask[f*sp.in+c] != 0 && !reads[c] {
					return nil, fmt.Errorf("onnx: layer %s: group %d leaves out channel %d, which filter %d keeps", sp.name, gi, c, f)
				}
			}
		}
	}
	for f, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("onnx: layer %s: filter %d is in no group", sp.name, f)
		}
	}
	return groups, nil
}

// DefaultGroups returns the groups of an n x c mask: one per distinct kept
// mask row (maskgroup.Of), reading the channels that row keeps, and
// last, if any, one group of the dead filters with no channels.
func DefaultGroups(mask []float32, n, c int) []Group {
	fs, dead := maskgroup.Of(mask, n, c)
	var groups []Group
	for _, f := range fs {
		g := Group{Filters: f}
		for j := range c {
			if mask == nil || mask[f[0]*c+j] != 0 {
				g.Channels = append(g.Channels, j)
			}
		}
		groups = append(groups, g)
	}
	if len(dead) > 0 {
		groups = append(groups, Group{Filters: dead})
	}
	return groups
}

func (sp *convSpec) attrs() []*onnxpb.AttributeProto {
	a := []*onnxpb.AttributeProto{attrInts("kernel_shape", sp.kh, sp.kw), attrInts("strides", sp.stride[:]...),
		attrInts("pads", sp.pads[:]...), attrInts("dilations", sp.dil[:]...)}
	if sp.group != 1 {
		a = append(a, attrInt("group", sp.group))
	}
	return a
}

// denseConv writes one Conv node.
func (b *builder) denseConv(sp *convSpec, x value) value {
	ins := []string{x.name, b.floats(sp.wName, sp.w, sp.out, sp.in/sp.group, sp.kh, sp.kw)}
	if sp.bias != nil {
		ins = append(ins, b.floats(sp.bName, sp.bias, sp.out))
	}
	return value{b.op("Conv", sp.name, ins, sp.attrs()...), []int{sp.out, sp.outH, sp.outW}}
}

// groupedConv writes per group a Gather of its channels (left out when it
// reads them all) and a Conv, then a Concat of the groups' outputs and a
// Gather that restores the filter order (left out when already in order).
// Dead filters are a conv of zero weights over channel 0: their bias.
func (b *builder) groupedConv(sp *convSpec, groups []Group, x value) value {
	kk := sp.kh * sp.kw
	var outs []string
	var order []int
	for gi, g := range groups {
		chans := g.Channels
		if len(chans) == 0 {
			chans = []int{0}
		}
		in := x.name
		if len(chans) < sp.in {
			in = b.op("Gather", fmt.Sprintf("%s.g%d.gather", sp.name, gi),
				[]string{x.name, b.ints(fmt.Sprintf("%s.g%d.channels", sp.name, gi), chans...)}, attrInt("axis", 1))
		}
		w := make([]float32, 0, len(g.Filters)*len(chans)*kk)
		var bias []float32
		for _, f := range g.Filters {
			for _, c := range chans {
				if len(g.Channels) == 0 {
					w = append(w, make([]float32, kk)...)
				} else {
					w = append(w, sp.w[(f*sp.in+c)*kk:(f*sp.in+c+1)*kk]...)
				}
			}
			if sp.bias != nil {
				bias = append(bias, sp.bias[f])
			}
		}
		ins := []string{in, b.floats(fmt.Sprintf("%s.g%d.weight", sp.name, gi), w, len(g.Filters), len(chans), sp.kh, sp.kw)}
		if bias != nil {
			ins = append(ins, b.floats(fmt.Sprintf("%s.g%d.bias", sp.name, gi), bias, len(g.Filters)))
		}
		outs = append(outs, b.op("Conv", fmt.Sprintf("%s.g%d", sp.name, gi), ins, sp.attrs()...))
		order = append(order, g.Filters...)
	}
	y := outs[0]
	if len(outs) > 1 {
		y = b.op("Concat", sp.name+".concat", outs, attrInt("axis", 1))
	}
	pos := make([]int, sp.out)
	inOrder := true
	for j, f := range order {
		pos[f] = j
		inOrder = inOrder && f == j
	}
	if !inOrder {
		y = b.op("Gather", sp.name, []string{y, b.ints(sp.name+".order", pos...)}, attrInt("axis", 1))
	}
	return value{y, []int{sp.out, sp.outH, sp.outW}}
}

// layerModel returns a one-conv model in the given form, with a fixed
// batch, input "input" and output "output", for timing.
func (b *builder) layerModel(sp *convSpec, groups []Group, grouped bool) ([]byte, error) {
	lb := newBuilder(sp.name, Options{})
	in := value{name: InputName, shape: []int{sp.in, sp.h, sp.wd}}
	lb.g.Input = append(lb.g.Input, valueInfo(InputName, b.timeBatch(), in.shape))
	var y value
	if grouped {
		y = lb.groupedConv(sp, groups, in)
	} else {
		y = lb.denseConv(sp, in)
	}
	lb.rename(y.name, "output")
	lb.g.Output = append(lb.g.Output, valueInfo("output", b.timeBatch(), y.shape))
	return proto.Marshal(&onnxpb.ModelProto{IrVersion: irVersion, ProducerName: "sgcnn",
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: Opset}}, Graph: lb.g})
}

// time measures both forms of a conv and records the faster in ch.
func (b *builder) time(sp *convSpec, groups []Group, ch *Choice) error {
	shape := []int64{int64(b.timeBatch()), int64(sp.in), int64(sp.h), int64(sp.wd)}
	for _, grouped := range []bool{false, true} {
		model, err := b.layerModel(sp, groups, grouped)
		if err != nil {
			return fmt.Errorf("onnx: layer %s: %w", sp.name, err)
		}
		t, err := b.opts.Timer.Time(model, shape)
		if err != nil {
			return fmt.Errorf("onnx: timing layer %s: %w", sp.name, err)
		}
		if grouped {
			ch.Grouped = t
		} else {
			ch.Dense = t
		}
	}
	ch.Form = ConvDense
	if ch.Grouped < ch.Dense {
		ch.Form = ConvGrouped
	}
	return nil
}
