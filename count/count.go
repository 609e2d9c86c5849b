package count

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// Totals are a network's parameter and FLOP counts.
type Totals struct {
	Params int64
	FLOPs  int64
}

// Row is the count of one conv or fully connected layer.
type Row struct {
	Name   string
	Kind   string // "conv" or "linear"
	Weight []int  // weight shape, [N C k k] or [N C]
	Out    []int  // output shape of one item, [N Hout Wout] or [N]
	Masked bool   // counted with the masked rule
	Totals
	Filters int     // N
	Live    int     // filters with at least one kept input (N when unmasked)
	Kept    int64   // kept connections, sum(m)
	Pruned  float64 // pruned fraction of the N*C connections
}

// Table is a network's per-layer counts, in forward order, and the totals.
type Table struct {
	Rows []Row
	Totals
}

// Shaper is implemented by layers outside package nn that can say their
// output shape for one item's input shape (both without the batch
// dimension). Count uses it before falling back to a forward pass.
type Shaper interface {
	OutShape(in []int) ([]int, error)
}

// Count counts net for one input of shape input (channels, height, width).
// Layers named in asMasked are counted with the masked rule even when they
// carry no mask (an absent mask reads as all ones); layers that carry a
// mask always are. See the package comment for the rules.
func Count(net nn.Layer, input [3]int, asMasked ...string) (*Table, error) {
	c := &counter{asMasked: map[string]bool{}, table: &Table{}}
	for _, n := range asMasked {
		c.asMasked[n] = true
	}
	nn.Walk(net, func(l nn.Layer) {
		if _, ok := l.(*nn.BatchNorm2d); ok {
			c.hasBN = true
		}
	})
	if _, err := c.walk(net, input[:]); err != nil {
		return nil, err
	}
	if len(c.asMasked) > 0 {
		var unknown []string
		for n := range c.asMasked {
			unknown = append(unknown, n)
		}
		slices.Sort(unknown)
		return nil, fmt.Errorf("count: no prunable layer named %s", strings.Join(unknown, ", "))
	}
	for _, r := range c.table.Rows {
		c.table.Params += r.Params
		c.table.FLOPs += r.FLOPs
	}
	return c.table, nil
}

type counter struct {
	asMasked map[string]bool // names not yet seen
	hasBN    bool
	table    *Table
}

// walk returns l's output shape for one item of shape in, adding a row for
// every prunable layer on the way.
func (c *counter) walk(l nn.Layer, in []int) ([]int, error) {
	switch l := l.(type) {
	case *nn.Sequential:
		var err error
		for _, ch := range l.Layers {
			if in, err = c.walk(ch, in); err != nil {
				return nil, err
			}
		}
		return in, nil
	case *nn.Residual:
		out, err := c.walk(l.Body, in)
		if err != nil {
			return nil, err
		}
		short := in
		if l.Shortcut != nil {
			if short, err = c.walk(l.Shortcut, in); err != nil {
				return nil, err
			}
		}
		if !slices.Equal(out, short) {
			return nil, fmt.Errorf("count: layer %s: body gives %v, shortcut %v", l.Name(), out, short)
		}
		return out, nil
	case *nn.DenseConcat:
		out, err := c.walk(l.Body, in)
		if err != nil {
			return nil, err
		}
		if len(in) != 3 || len(out) != 3 || out[1] != in[1] || out[2] != in[2] {
			return nil, fmt.Errorf("count: layer %s: cannot concatenate %v to %v", l.Name(), out, in)
		}
		return []int{in[0] + out[0], in[1], in[2]}, nil
	case *nn.Conv2d:
		if err := want3(l.Name(), in, l.In); err != nil {
			return nil, err
		}
		g := l.Geometry(in[1], in[2])
		if g.OutH() < 1 || g.OutW() < 1 {
			return nil, fmt.Errorf("count: layer %s: input %v is smaller than its %dx%d kernel", l.Name(), in, l.K, l.K)
		}
		out := []int{l.Out, g.OutH(), g.OutW()}
		c.add(l, out)
		return out, nil
	case *nn.Linear:
		if n := tensor.Numel(in...); n != l.In {
			return nil, fmt.Errorf("count: layer %s: input %v has %d values, want %d", l.Name(), in, n, l.In)
		}
		out := []int{l.Out}
		c.add(l, out)
		return out, nil
	case *nn.BatchNorm2d:
		return in, want3(l.Name(), in, l.C)
	case *nn.ReLU, *nn.Dropout:
		return in, nil
	case *nn.MaxPool2d:
		return pool(l.Name(), in, l.K, l.Stride, l.Pad)
	case *nn.AvgPool2d:
		return pool(l.Name(), in, l.K, l.Stride, l.Pad)
	case *nn.GlobalAvgPool:
		if err := want3(l.Name(), in, 0); err != nil {
			return nil, err
		}
		return []int{in[0]}, nil
	case *nn.ShortcutA:
		if err := want3(l.Name(), in, l.In); err != nil {
			return nil, err
		}
		return []int{l.Out, ceilDiv(in[1], l.Stride), ceilDiv(in[2], l.Stride)}, nil
	}
	return c.other(l, in)
}

// other handles a layer of a type package nn does not define.
func (c *counter) other(l nn.Layer, in []int) ([]int, error) {
	var out []int
	if s, ok := l.(Shaper); ok {
		var err error
		if out, err = s.OutShape(slices.Clone(in)); err != nil {
			return nil, fmt.Errorf("count: layer %s: %w", l.Name(), err)
		}
	} else {
		if _, ok := l.(nn.Container); ok {
			return nil, fmt.Errorf("count: cannot see inside layer %s of type %T: implement count.Shaper or build it from nn containers", l.Name(), l)
		}
		y, err := l.Forward(nn.NewCtx(false), tensor.New(append([]int{1}, in...)...))
		if err != nil {
			return nil, fmt.Errorf("count: layer %s: inferring its output shape: %w", l.Name(), err)
		}
		out = slices.Clone(y.Shape[1:])
	}
	if p, ok := l.(nn.Prunable); ok {
		c.add(p, out)
	}
	return out, nil
}

// add appends the row of prunable layer p whose output per item is out.
func (c *counter) add(p nn.Prunable, out []int) {
	w := p.Weight().Value.Shape
	n, ch := p.MaskShape()
	kk := 1
	for _, d := range w[2:] {
		kk *= d
	}
	bias := false
	for _, q := range p.Params() {
		if strings.HasSuffix(q.Name, ".bias") {
			bias = true
		}
	}
	mask := p.Mask()
	masked := mask != nil || c.asMasked[p.Name()]
	delete(c.asMasked, p.Name())
	r := Row{Name: p.Name(), Kind: "linear", Weight: slices.Clone(w), Out: slices.Clone(out),
		Masked: masked, Filters: n, Live: n, Kept: int64(n * ch)}
	if len(w) == 4 {
		r.Kind = "conv"
	}
	if mask != nil {
		r.Kept, r.Live = 0, 0
		for i := range n {
			k := 0
			for _, v := range mask[i*ch : (i+1)*ch] {
				if v != 0 {
					k++
				}
			}
			r.Kept += int64(k)
			if k > 0 {
				r.Live++
			}
		}
	}
	r.Pruned = 1 - float64(r.Kept)/float64(n*ch)
	hw := int64(1)
	if r.Kind == "conv" && len(out) == 3 {
		hw = int64(out[1] * out[2])
	}
	live, b := int64(r.Live), int64(0)
	if bias {
		b = 1
	}
	switch {
	case r.Kind == "linear":
		r.Params = r.Kept + b*live
		r.FLOPs = r.Params
	case masked:
		a := b
		if c.hasBN {
			a += 2
		}
		r.Params = int64(kk)*r.Kept + a*live
		r.FLOPs = hw*int64(kk)*r.Kept + live
	default:
		r.Params = int64(kk)*r.Kept + b*live
		r.FLOPs = hw * int64(kk) * r.Kept
	}
	c.table.Rows = append(c.table.Rows, r)
}

func want3(name string, in []int, ch int) error {
	if len(in) != 3 || (ch > 0 && in[0] != ch) {
		want := "[C H W]"
		if ch > 0 {
			want = fmt.Sprintf("[%d H W]", ch)
		}
		return fmt.Errorf("count: layer %s: input %v, want %s", name, in, want)
	}
	return nil
}

func pool(name string, in []int, k, s, p int) ([]int, error) {
	if err := want3(name, in, 0); err != nil {
		return nil, err
	}
	oh, ow := (in[1]+2*p-k)/s+1, (in[2]+2*p-k)/s+1
	if oh < 1 || ow < 1 {
		return nil, fmt.Errorf("count: layer %s: input %v is smaller than the %dx%d window", name, in, k, k)
	}
	return []int{in[0], oh, ow}, nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// CompressionRatio is the paper's compression ratio,
// base.Params / pruned.Params (+Inf when pruned has none).
func CompressionRatio(base, pruned Totals) float64 {
	return ratio(base.Params, pruned.Params)
}

// FLOPsReduction is the paper's FLOPs reduction, base.FLOPs / pruned.FLOPs
// (+Inf when pruned has none). It is a count ratio, not a speedup.
func FLOPsReduction(base, pruned Totals) float64 {
	return ratio(base.FLOPs, pruned.FLOPs)
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return math.Inf(1)
	}
	return float64(a) / float64(b)
}
