package graph

import (
	"fmt"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// This file holds the data-movement ops: Concat and Split (runners with
// several inputs or outputs), and Slice, Transpose, Pad and
// GlobalAveragePool (layers).

// axisBlocks splits shape at axis: outer is the product of the dimensions
// before it, inner of the axis and those after it.
func axisBlocks(shape []int, axis int) (outer, inner int) {
	return tensor.Numel(shape[:axis]...), tensor.Numel(shape[axis:]...)
}

// concat joins its inputs along a per-image axis.
type concat struct {
	name   string
	in     [][]int
	out    []int
	outer  int
	inner  []int // per input
	total  int   // output's inner block
	bsize  int
	y      *tensor.Tensor
	dx     []*tensor.Tensor
	outs   [1]*tensor.Tensor
	grads  []*tensor.Tensor
	hasRun bool
}

func newConcat(name string, axis int, in [][]int) (*concat, error) {
	out, err := concatShape(axis, in)
	if err != nil {
		return nil, err
	}
	ax, _ := axisOf(axis, len(out))
	c := &concat{name: name, in: in, out: out, dx: make([]*tensor.Tensor, len(in)), grads: make([]*tensor.Tensor, len(in))}
	for _, s := range in {
		o, inner := axisBlocks(s, ax)
		c.outer = o
		c.inner = append(c.inner, inner)
		c.total += inner
	}
	return c, nil
}

func (c *concat) props() props { return props{} }

func (c *concat) forward(ctx *nn.Ctx, xs []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(xs) != len(c.in) {
		return nil, fmt.Errorf("node %s: %d inputs, want %d", c.name, len(xs), len(c.in))
	}
	b := 0
	for i, x := range xs {
		bi, err := batchOf(c.name, x, c.in[i])
		if err != nil {
			return nil, err
		}
		if i > 0 && bi != b {
			return nil, fmt.Errorf("node %s: batch sizes %d and %d differ", c.name, b, bi)
		}
		b = bi
	}
	c.bsize, c.hasRun = b, true
	y := reuse(&c.y, b, c.out)
	forChunks(ctx.Pool(), b*c.outer, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			off := r * c.total
			for k, x := range xs {
				n := c.inner[k]
				copy(y.Data[off:off+n], x.Data[r*n:(r+1)*n])
				off += n
			}
		}
	})
	c.outs[0] = y
	return c.outs[:], nil
}

func (c *concat) backward(ctx *nn.Ctx, dys []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if !c.hasRun || len(dys) != 1 || dys[0] == nil || dys[0].Len() != c.bsize*c.outer*c.total {
		return nil, noForward(c.name)
	}
	dy := dys[0]
	for k := range c.in {
		c.grads[k] = reuse(&c.dx[k], c.bsize, c.in[k])
	}
	forChunks(ctx.Pool(), c.bsize*c.outer, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			off := r * c.total
			for k, n := range c.inner {
				copy(c.grads[k].Data[r*n:(r+1)*n], dy.Data[off:off+n])
				off += n
			}
		}
	})
	return c.grads, nil
}

// split cuts its input along a per-image axis into several outputs.
type split struct {
	name   string
	in     []int
	out    [][]int
	outer  int
	inner  []int
	total  int
	bsize  int
	ys     []*tensor.Tensor
	outs   []*tensor.Tensor
	dx     *tensor.Tensor
	grads  [1]*tensor.Tensor
	hasRun bool
}

func newSplit(name string, axis int, sizes, in []int) (*split, error) {
	out, err := splitShapes(&Attrs{Axis: axis, Sizes: sizes}, in)
	if err != nil {
		return nil, err
	}
	ax, _ := axisOf(axis, len(in))
	s := &split{name: name, in: in, out: out, ys: make([]*tensor.Tensor, len(out)), outs: make([]*tensor.Tensor, len(out))}
	s.outer, s.total = axisBlocks(in, ax)
	for _, o := range out {
		_, inner := axisBlocks(o, ax)
		s.inner = append(s.inner, inner)
	}
	return s, nil
}

func (s *split) props() props { return props{} }

func (s *split) forward(ctx *nn.Ctx, xs []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(xs) != 1 {
		return nil, fmt.Errorf("node %s: %d inputs, want 1", s.name, len(xs))
	}
	b, err := batchOf(s.name, xs[0], s.in)
	if err != nil {
		return nil, err
	}
	s.bsize, s.hasRun = b, true
	for k := range s.out {
		s.outs[k] = reuse(&s.ys[k], b, s.out[k])
	}
	x := xs[0]
	forChunks(ctx.Pool(), b*s.outer, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			off := r * s.total
			for k, n := range s.inner {
				copy(s.outs[k].Data[r*n:(r+1)*n], x.Data[off:off+n])
				off += n
			}
		}
	})
	return s.outs, nil
}

func (s *split) backward(ctx *nn.Ctx, dys []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if !s.hasRun || len(dys) != len(s.out) {
		return nil, noForward(s.name)
	}
	for k, d := range dys {
		if d == nil || d.Len() != s.bsize*s.outer*s.inner[k] {
			return nil, noForward(s.name)
		}
	}
	dx := reuse(&s.dx, s.bsize, s.in)
	forChunks(ctx.Pool(), s.bsize*s.outer, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			off := r * s.total
			for k, n := range s.inner {
				copy(dx.Data[off:off+n], dys[k].Data[r*n:(r+1)*n])
				off += n
			}
		}
	})
	s.grads[0] = dx
	return s.grads[:], nil
}

// gather is Slice, Transpose or Pad: each output element of an image is
// the input element idx[j] of the same image, or value where idx[j] < 0.
type gather struct {
	name    string
	in, out []int
	idx     []int32
	value   float32
	xlen    int
	bsize   int
	y, dx   *tensor.Tensor
}

func (g *gather) Name() string        { return g.name }
func (g *gather) Params() []*nn.Param { return nil }
func (g *gather) props() props        { return props{} }

// newGather builds the index table: src maps an output multi-index to the
// input offset, or -1.
func newGather(name string, in, out []int, value float32, src func(idx []int) int) *gather {
	g := &gather{name: name, in: in, out: out, value: value, idx: make([]int32, tensor.Numel(out...))}
	idx := make([]int, len(out))
	for j := range g.idx {
		g.idx[j] = int32(src(idx))
		for d := len(out) - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < out[d] {
				break
			}
			idx[d] = 0
		}
	}
	return g
}

// rowStrides returns the row-major strides of shape.
func rowStrides(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
	return st
}

func newSlice(name string, a *Attrs, in []int) (*gather, error) {
	out, err := sliceShape(a, in)
	if err != nil {
		return nil, err
	}
	start, step := make([]int, len(in)), make([]int, len(in))
	for i := range step {
		step[i] = 1
	}
	for i, axis := range a.Axes {
		ax, _ := axisOf(axis, len(in))
		lo, _, _ := SliceRange(a.Starts[i], a.Ends[i], a.Steps[i], in[ax])
		start[ax], step[ax] = lo, a.Steps[i]
	}
	st := rowStrides(in)
	return newGather(name, in, out, 0, func(idx []int) int {
		o := 0
		for d, i := range idx {
			o += (start[d] + i*step[d]) * st[d]
		}
		return o
	}), nil
}

func newTranspose(name string, perm, in []int) (*gather, error) {
	out, err := transposeShape(perm, in)
	if err != nil {
		return nil, err
	}
	st := rowStrides(in)
	return newGather(name, in, out, 0, func(idx []int) int {
		o := 0
		for d, i := range idx {
			o += i * st[perm[d]]
		}
		return o
	}), nil
}

func newPad(name string, a *Attrs, in []int) (*gather, error) {
	out, err := padShape(a, in)
	if err != nil {
		return nil, err
	}
	st := rowStrides(in)
	return newGather(name, in, out, a.Value, func(idx []int) int {
		o := 0
		for d, i := range idx {
			i -= a.PadBefore[d]
			if i < 0 || i >= in[d] {
				return -1
			}
			o += i * st[d]
		}
		return o
	}), nil
}

func (g *gather) Forward(ctx *nn.Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	b, err := batchOf(g.name, x, g.in)
	if err != nil {
		return nil, err
	}
	g.bsize, g.xlen = b, tensor.Numel(g.in...)
	y := reuse(&g.y, b, g.out)
	ny := len(g.idx)
	forChunks(ctx.Pool(), b*ny, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			i, k := j/ny, g.idx[j%ny]
			if k < 0 {
				y.Data[j] = g.value
			} else {
				y.Data[j] = x.Data[i*g.xlen+int(k)]
			}
		}
	})
	return y, nil
}

func (g *gather) Backward(ctx *nn.Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	if g.bsize == 0 || dy == nil || dy.Len() != g.bsize*len(g.idx) {
		return nil, noForward(g.name)
	}
	dx := reuse(&g.dx, g.bsize, g.in)
	dx.Zero()
	ny := len(g.idx)
	for i := range g.bsize {
		dxi, dyi := dx.Data[i*g.xlen:(i+1)*g.xlen], dy.Data[i*ny:(i+1)*ny]
		for j, k := range g.idx {
			if k >= 0 {
				dxi[k] += dyi[j]
			}
		}
	}
	return dx, nil
}

// gap is GlobalAveragePool: the mean of each channel's plane, as [C] or,
// with KeepDims, [C 1 1].
type gap struct {
	name    string
	in, out []int
	hw      int
	bsize   int
	y, dx   *tensor.Tensor
}

func newGAP(name string, in []int, keep bool) (*gap, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("input %s, want [C H W]", tensor.ShapeString(in))
	}
	g := &gap{name: name, in: in, out: []int{in[0]}, hw: tensor.Numel(in[1:]...)}
	if keep {
		for range in[1:] {
			g.out = append(g.out, 1)
		}
	}
	return g, nil
}

func (g *gap) Name() string        { return g.name }
func (g *gap) Params() []*nn.Param { return nil }
func (g *gap) props() props        { return props{} }

func (g *gap) Forward(ctx *nn.Ctx, x *tensor.Tensor) (*tensor.Tensor, error) {
	b, err := batchOf(g.name, x, g.in)
	if err != nil {
		return nil, err
	}
	g.bsize = b
	y := reuse(&g.y, b, g.out)
	inv := 1 / float32(g.hw)
	for p := range y.Data {
		var s float32
		for _, v := range x.Data[p*g.hw : (p+1)*g.hw] {
			s += v
		}
		y.Data[p] = s * inv
	}
	return y, nil
}

func (g *gap) Backward(ctx *nn.Ctx, dy *tensor.Tensor) (*tensor.Tensor, error) {
	if g.bsize == 0 || dy == nil || dy.Len() != g.bsize*g.in[0] {
		return nil, noForward(g.name)
	}
	dx := reuse(&g.dx, g.bsize, g.in)
	inv := 1 / float32(g.hw)
	for p, d := range dy.Data {
		row := dx.Data[p*g.hw : (p+1)*g.hw]
		for j := range row {
			row[j] = d * inv
		}
	}
	return dx, nil
}
