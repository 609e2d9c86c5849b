package graph

import (
	"fmt"

	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// binary is Add, Sub, Mul or Div of two activations, or of an activation
// and the node's constant, with numpy broadcasting per image (a constant
// broadcasts over the batch too). Operands are ordered: a is the left one.
type binary struct {
	name   string
	op     Op
	sa, sb []int // per-image shapes of a and b (a constant's is its own shape)
	so     []int // output per-image shape
	// constAt is -1 for two activation inputs, else the operand (0: a, 1:
	// b) that is the constant c.
	constAt int
	c       *tensor.Tensor
	// inplace is -1, or the input (0 or 1) whose memory Add overwrites
	// with the sum; Net sets it where no other node needs that input.
	inplace int

	plan   bplan
	a, b   *tensor.Tensor // operands of the last forward (batch or constant)
	bsize  int
	y      *tensor.Tensor
	da, db *tensor.Tensor
	outs   [1]*tensor.Tensor
	grads  [2]*tensor.Tensor
	ran    bool
}

// broadcastShape returns numpy's broadcast of two shapes.
func broadcastShape(a, b []int) ([]int, error) {
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := range r {
		da, db := dimFromEnd(a, r-1-i), dimFromEnd(b, r-1-i)
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %s and %s do not broadcast", tensor.ShapeString(a), tensor.ShapeString(b))
		}
	}
	return out, nil
}

// dimFromEnd returns s[len(s)-1-k], or 1 beyond s's rank.
func dimFromEnd(s []int, k int) int {
	if k >= len(s) {
		return 1
	}
	return s[len(s)-1-k]
}

// newBinary returns the runner of a binary node whose activation inputs
// have the per-image shapes in.
func newBinary(n *Node, in [][]int) (*binary, error) {
	r := &binary{name: n.Name, op: n.Op, constAt: -1, inplace: -1}
	switch {
	case len(in) == 2 && n.Const == nil:
		r.sa, r.sb = in[0], in[1]
	case len(in) == 1 && n.Const != nil:
		cs := n.Const.Shape
		// A constant exported with a batch dimension of 1 has a rank above
		// the image's: drop its leading ones.
		for len(cs) > len(in[0]) && cs[0] == 1 {
			cs = cs[1:]
		}
		if len(cs) > len(in[0]) {
			return nil, fmt.Errorf("constant of shape %s has a higher rank than the input %s", tensor.ShapeString(n.Const.Shape), tensor.ShapeString(in[0]))
		}
		r.c = &tensor.Tensor{Shape: cs, Data: n.Const.Data}
		r.sa, r.sb, r.constAt = in[0], cs, 1
		if n.Attrs.ConstFirst {
			r.sa, r.sb, r.constAt = cs, in[0], 0
		}
	default:
		return nil, fmt.Errorf("%d inputs and %s constant, want two inputs or one input and a constant", len(in), map[bool]string{true: "a", false: "no"}[n.Const != nil])
	}
	var err error
	if r.so, err = broadcastShape(r.sa, r.sb); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *binary) props() props { return props{aliases: r.inplace >= 0} }

// canInPlace reports whether Add may write its sum into input i.
func (r *binary) canInPlace(i int) bool {
	return r.op == Add && r.constAt < 0 && tensor.SameShape(r.sa, r.so) && tensor.SameShape(r.sb, r.so) && i >= 0 && i < 2
}

func (r *binary) operands(xs []*tensor.Tensor) (a, b *tensor.Tensor, bs int, err error) {
	want := 2
	if r.constAt >= 0 {
		want = 1
	}
	if len(xs) != want {
		return nil, nil, 0, fmt.Errorf("node %s: %d inputs, want %d", r.name, len(xs), want)
	}
	switch r.constAt {
	case 0:
		a, b = r.c, xs[0]
		bs, err = batchOf(r.name, b, r.sb)
	case 1:
		a, b = xs[0], r.c
		bs, err = batchOf(r.name, a, r.sa)
	default:
		a, b = xs[0], xs[1]
		if bs, err = batchOf(r.name, a, r.sa); err == nil {
			var bb int
			if bb, err = batchOf(r.name, b, r.sb); err == nil && bb != bs {
				err = fmt.Errorf("node %s: batch sizes %d and %d differ", r.name, bs, bb)
			}
		}
	}
	return a, b, bs, err
}

func (r *binary) forward(ctx *nn.Ctx, xs []*tensor.Tensor) ([]*tensor.Tensor, error) {
	a, b, bs, err := r.operands(xs)
	if err != nil {
		return nil, err
	}
	r.a, r.b, r.bsize, r.ran = a, b, bs, true
	r.plan.init(bs, r.so, r.sa, r.constAt != 0, r.sb, r.constAt != 1)
	if r.inplace >= 0 {
		y, o := xs[r.inplace], xs[1-r.inplace]
		forChunks(ctx.Pool(), y.Len(), func(lo, hi int) { kernel.AddTo(y.Data[lo:hi], o.Data[lo:hi]) })
		r.outs[0] = y
		return r.outs[:], nil
	}
	y := reuse(&r.y, bs, r.so)
	if r.plan.same {
		forChunks(ctx.Pool(), y.Len(), func(lo, hi int) { r.apply(a.Data[lo:hi], b.Data[lo:hi], y.Data[lo:hi], 1, 1) })
	} else {
		r.plan.each(func(o, ia, ib, n, sa, sb int) {
			r.apply(a.Data[ia:], b.Data[ib:], y.Data[o:o+n], sa, sb)
		})
	}
	r.outs[0] = y
	return r.outs[:], nil
}

// apply computes y[k] = a[k*sa] op b[k*sb].
func (r *binary) apply(a, b, y []float32, sa, sb int) {
	switch r.op {
	case Add:
		for k := range y {
			y[k] = a[k*sa] + b[k*sb]
		}
	case Sub:
		for k := range y {
			y[k] = a[k*sa] - b[k*sb]
		}
	case Mul:
		for k := range y {
			y[k] = a[k*sa] * b[k*sb]
		}
	case Div:
		for k := range y {
			y[k] = a[k*sa] / b[k*sb]
		}
	}
}

func (r *binary) backward(ctx *nn.Ctx, dys []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if !r.ran || len(dys) != 1 || dys[0] == nil || dys[0].Len() != r.bsize*tensor.Numel(r.so...) {
		return nil, noForward(r.name)
	}
	dy := dys[0]
	if r.op == Add && r.plan.same && r.constAt < 0 {
		// Both gradients are dy itself; Net copies where one is changed.
		r.grads[0], r.grads[1] = dy, dy
		return r.grads[:], nil
	}
	var da, db *tensor.Tensor
	if r.constAt != 0 {
		da = reuse(&r.da, r.bsize, r.sa)
	}
	if r.constAt != 1 {
		db = reuse(&r.db, r.bsize, r.sb)
	}
	if da != nil {
		da.Zero()
	}
	if db != nil {
		db.Zero()
	}
	if r.plan.same {
		forChunks(ctx.Pool(), dy.Len(), func(lo, hi int) {
			r.grad(dy.Data[lo:hi], r.a.Data[lo:hi], r.b.Data[lo:hi], sub(da, lo, hi), sub(db, lo, hi), 1, 1)
		})
	} else {
		r.plan.each(func(o, ia, ib, n, sa, sb int) {
			r.grad(dy.Data[o:o+n], r.a.Data[ia:], r.b.Data[ib:], sub(da, ia, -1), sub(db, ib, -1), sa, sb)
		})
	}
	g := r.grads[:0]
	if da != nil {
		g = append(g, da)
	}
	if db != nil {
		g = append(g, db)
	}
	return g, nil
}

// sub returns t.Data[lo:hi] (hi < 0: to the end), nil for a nil t.
func sub(t *tensor.Tensor, lo, hi int) []float32 {
	if t == nil {
		return nil
	}
	if hi < 0 {
		return t.Data[lo:]
	}
	return t.Data[lo:hi]
}

// grad accumulates da[k*sa] += dy[k] * d(a op b)/da and likewise db (nil
// gradients are skipped); a broadcast operand (stride 0) sums over the row.
func (r *binary) grad(dy, a, b, da, db []float32, sa, sb int) {
	for k, g := range dy {
		var ga, gb float32
		av, bv := a[k*sa], b[k*sb]
		switch r.op {
		case Add:
			ga, gb = g, g
		case Sub:
			ga, gb = g, -g
		case Mul:
			ga, gb = g*bv, g*av
		case Div:
			ga, gb = g/bv, -g*av/(bv*bv)
		}
		if da != nil {
			da[k*sa] += ga
		}
		if db != nil {
			db[k*sb] += gb
		}
	}
}

// bplan iterates over a broadcast binary op's output row by row (the last
// axis), giving each row's offsets into the output and both operands.
type bplan struct {
	same       bool // no broadcasting: both operands have the output's full shape
	dims       []int
	astr, bstr []int
	idx        []int
}

// init plans for batch b, output per-image shape so, and operands of
// per-image shapes sa, sb (batched: one per image, else shared by all).
func (p *bplan) init(b int, so, sa []int, aBatched bool, sb []int, bBatched bool) {
	p.same = aBatched && bBatched && tensor.SameShape(sa, so) && tensor.SameShape(sb, so)
	p.dims = append(append(p.dims[:0], b), so...)
	p.astr = strides(p.astr, p.dims, sa, aBatched)
	p.bstr = strides(p.bstr, p.dims, sb, bBatched)
}

// strides returns the element strides of an operand of per-image shape s
// over the full output dims, 0 along broadcast axes.
func strides(dst, dims, s []int, batched bool) []int {
	r := len(dims)
	dst = zeroInts(dst, r)
	st := 1
	for i := r - 1; i >= 0; i-- {
		d := 1
		switch {
		case i == 0 && batched:
			d = dims[0]
		case i > 0:
			d = dimFromEnd(s, r-1-i)
		}
		if d != 1 || dims[i] == 1 {
			dst[i] = st
		}
		st *= d
	}
	return dst
}

// each calls fn once per output row: o, ia, ib are the row's offsets in
// the output and the operands, n its length, sa and sb the operands'
// strides along it.
func (p *bplan) each(fn func(o, ia, ib, n, sa, sb int)) {
	r := len(p.dims)
	n := p.dims[r-1]
	p.idx = zeroInts(p.idx, r)
	rows := tensor.Numel(p.dims[:r-1]...)
	ia, ib := 0, 0
	for row := range rows {
		fn(row*n, ia, ib, n, p.astr[r-1], p.bstr[r-1])
		for d := r - 2; d >= 0; d-- {
			p.idx[d]++
			ia += p.astr[d]
			ib += p.bstr[d]
			if p.idx[d] < p.dims[d] {
				break
			}
			ia -= p.astr[d] * p.dims[d]
			ib -= p.bstr[d] * p.dims[d]
			p.idx[d] = 0
		}
	}
}

// zeroInts returns s resized to n zeros, reusing its memory.
func zeroInts(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	s = s[:n]
	clear(s)
	return s
}
