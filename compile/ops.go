package compile

import (
	"fmt"
	"math"
	"slices"

	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// This file holds the compiler's walk over a layer list and the ops other
// than the conv (conv.go): BatchNorm, ReLU, pools, shortcuts, residual
// add, concatenation and linear layers, each on m whole images.

// compiler carries state through one Compile.
type compiler struct {
	opt    Options
	layers []*LayerInfo
	nbuf   int
	// Output buffers are reused: cur is the slot holding the value being
	// computed on (-1: the network's input), stack the slots of values a
	// residual or concatenation still needs, pool the reusable slots.
	cur   int
	stack []int
	pool  []int
	sizes []int // top-level program: floats per image entering each op
	// padded holds the slots of each padded layout (by the consuming conv's
	// geometry) for conv-to-conv handoffs: only interiors are ever written
	// there, so halos stay zero. A value lives from one op to the next, so
	// two slots per layout suffice: a chain conv -> conv -> conv of one
	// geometry alternates between them.
	padded map[kernel.Conv][]int
}

// slot allocates a worker buffer slot of its own (scratch).
func (c *compiler) slot() int {
	c.nbuf++
	return c.nbuf - 1
}

// out picks the output slot of the next op, reusing a pooled slot that
// holds no live value (not the op's input, nothing on the stack), and
// makes it current. Reuse keeps a worker's activations in cache: a slot
// per op would stream through megabytes per micro-batch.
func (c *compiler) out() int {
	busy := func(s int) bool { return s == c.cur || slices.Contains(c.stack, s) }
	for _, s := range c.pool {
		if !busy(s) {
			c.cur = s
			return s
		}
	}
	s := c.slot()
	c.pool = append(c.pool, s)
	c.cur = s
	return s
}

// seq compiles a flattened layer list run in order on one image of shape
// in; it returns the ops and the output shape.
func (c *compiler) seq(ls []nn.Layer, in []int) ([]op, []int, error) {
	var prog []op
	var sizes []int
	var prevConv *convOp               // the previous op, when a conv whose output only this op reads
	defer func() { c.sizes = sizes }() // the outermost seq returns last
	var consts map[int]float32         // constant channels of the previous conv's output, not written
	for i := 0; i < len(ls); i++ {
		l := ls[i]
		next := func(k int) nn.Layer {
			if i+k < len(ls) {
				return ls[i+k]
			}
			return nil
		}
		var o op
		var err error
		inSize := tensor.Numel(in...)
		reluNext := false
		if _, ok := next(1).(*nn.ReLU); ok {
			reluNext = true
		}
		switch l := l.(type) {
		case *nn.Conv2d:
			var bn *nn.BatchNorm2d
			j := i + 1
			if b, ok := next(1).(*nn.BatchNorm2d); ok {
				bn, j = b, j+1
			}
			relu := false
			if j < len(ls) {
				if _, ok := ls[j].(*nn.ReLU); ok {
					relu, j = true, j+1
				}
			}
			nextConv := false
			if j < len(ls) {
				_, nextConv = ls[j].(*nn.Conv2d)
			}
			var co *convOp
			co, in, err = c.conv(l, bn, relu, in, consts, nextConv)
			if err != nil {
				return nil, nil, err
			}
			if prevConv != nil {
				c.handoff(prevConv, co)
			}
			prevConv = nil
			if nextConv {
				prevConv = co
			}
			consts = co.consts
			sizes = append(sizes, inSize)
			prog = append(prog, co)
			i = j - 1
			continue
		case *nn.BatchNorm2d:
			if len(in) != 3 || in[0] != l.C {
				return nil, nil, fmt.Errorf("compile: layer %s: input %v, want %d channels", l.Name(), in, l.C)
			}
			o = newBNOp(l, in, reluNext, c.out())
		case *nn.ReLU:
			o = &reluOp{n: tensor.Numel(in...), id: c.out()}
		case *nn.Dropout:
			consts, prevConv = nil, nil
			continue
		case *nn.MaxPool2d:
			o, in, err = newPoolOp(l.Name(), true, l.K, l.Stride, l.Pad, in, c.out())
		case *nn.AvgPool2d:
			o, in, err = newPoolOp(l.Name(), false, l.K, l.Stride, l.Pad, in, c.out())
		case *nn.GlobalAvgPool:
			if len(in) != 3 {
				return nil, nil, fmt.Errorf("compile: layer %s: input %v, want [C H W]", l.Name(), in)
			}
			o, in = &gapOp{c: in[0], hw: in[1] * in[2], id: c.out()}, []int{in[0]}
		case *nn.ShortcutA:
			o, in, err = newShortcutAOp(l, in, c.out())
		case *nn.Residual:
			o, in, err = c.residual(l, in, reluNext)
		case *nn.DenseConcat:
			o, in, err = c.concat(l, in)
			reluNext = false
		case *nn.Linear:
			o, in, err = c.linear(l, in, reluNext)
		default:
			return nil, nil, fmt.Errorf("compile: layer %s: type %T not supported", l.Name(), l)
		}
		if err != nil {
			return nil, nil, err
		}
		consts, prevConv = nil, nil
		sizes = append(sizes, inSize)
		prog = append(prog, o)
		switch l.(type) {
		case *nn.BatchNorm2d, *nn.Residual, *nn.Linear:
			if reluNext {
				i++ // fused
			}
		}
	}
	return prog, in, nil
}

// bnOp is an eval-mode BatchNorm (not after a conv: DenseNet's
// pre-activation), optionally followed by ReLU.
type bnOp struct {
	c, hw        int
	scale, shift []float32
	relu         bool
	id           int
}

func newBNOp(bn *nn.BatchNorm2d, in []int, relu bool, id int) *bnOp {
	o := &bnOp{c: in[0], hw: in[1] * in[2], relu: relu, id: id,
		scale: make([]float32, bn.C), shift: make([]float32, bn.C)}
	for ch := range bn.C {
		s, t := bnScaleShift(bn, ch)
		o.scale[ch], o.shift[ch] = float32(s), float32(t)
	}
	return o
}

// bnScaleShift returns the eval-mode BN of channel ch as y = s*x + t.
func bnScaleShift(bn *nn.BatchNorm2d, ch int) (s, t float64) {
	s = float64(bn.Gamma.Value.Data[ch]) / math.Sqrt(float64(bn.Var.Value.Data[ch])+bn.Eps)
	t = float64(bn.Beta.Value.Data[ch]) - float64(bn.Mean.Value.Data[ch])*s
	return s, t
}

func (o *bnOp) run(w *worker, x []float32, m int) []float32 {
	y := w.buf(o.id, len(x))
	for p := range m * o.c {
		ch := p % o.c
		s, t := o.scale[ch], o.shift[ch]
		src, dst := x[p*o.hw:(p+1)*o.hw], y[p*o.hw:(p+1)*o.hw]
		if o.relu {
			for j, v := range src {
				dst[j] = max(v*s+t, 0)
			}
		} else {
			for j, v := range src {
				dst[j] = v*s + t
			}
		}
	}
	return y
}

// reluOp is a ReLU that is not fused into the op before it.
type reluOp struct{ n, id int }

func (o *reluOp) run(w *worker, x []float32, m int) []float32 {
	y := w.buf(o.id, len(x))
	for j, v := range x {
		y[j] = max(v, 0)
	}
	return y
}

// poolOp is a max or average pool over K x K windows.
type poolOp struct {
	isMax                bool
	k, s, pad            int
	c, h, wd, oh, ow, id int
}

func newPoolOp(name string, isMax bool, k, s, pad int, in []int, id int) (op, []int, error) {
	if len(in) != 3 || in[1]+2*pad < k || in[2]+2*pad < k {
		return nil, nil, fmt.Errorf("compile: layer %s: input %v too small for the %dx%d window", name, in, k, k)
	}
	o := &poolOp{isMax: isMax, k: k, s: s, pad: pad, c: in[0], h: in[1], wd: in[2], id: id}
	o.oh, o.ow = (in[1]+2*pad-k)/s+1, (in[2]+2*pad-k)/s+1
	return o, []int{in[0], o.oh, o.ow}, nil
}

func (o *poolOp) run(w *worker, x []float32, m int) []float32 {
	y := w.buf(o.id, m*o.c*o.oh*o.ow)
	inv := 1 / float32(o.k*o.k)
	if o.k == 2 && o.s == 2 && o.pad == 0 {
		o.run2x2(x, y, m)
		return y
	}
	for p := range m * o.c {
		src, dst := x[p*o.h*o.wd:(p+1)*o.h*o.wd], y[p*o.oh*o.ow:(p+1)*o.oh*o.ow]
		for oy := range o.oh {
			for ox := range o.ow {
				best, first := float32(math.Inf(-1)), true
				var sum float32
				for ky := range o.k {
					iy := oy*o.s - o.pad + ky
					if iy < 0 || iy >= o.h {
						continue
					}
					for kx := range o.k {
						ix := ox*o.s - o.pad + kx
						if ix < 0 || ix >= o.wd {
							continue
						}
						v := src[iy*o.wd+ix]
						sum += v
						if v > best || first || v != v {
							best, first = v, false
						}
					}
				}
				if o.isMax {
					dst[oy*o.ow+ox] = best
				} else {
					dst[oy*o.ow+ox] = sum * inv
				}
			}
		}
	}
	return y
}

// run2x2 is run for 2x2 windows at stride 2 without padding (LeNet-5,
// VGG, DenseNet transitions), with no bounds tests in the loop: the
// general loop is several times slower. Go's max returns NaN when either
// argument is NaN, as MaxPool2d does.
func (o *poolOp) run2x2(x, y []float32, m int) {
	for p := range m * o.c {
		src, dst := x[p*o.h*o.wd:(p+1)*o.h*o.wd], y[p*o.oh*o.ow:(p+1)*o.oh*o.ow]
		for oy := range o.oh {
			r0 := src[2*oy*o.wd : 2*oy*o.wd+2*o.ow]
			r1 := src[(2*oy+1)*o.wd : (2*oy+1)*o.wd+2*o.ow]
			d := dst[oy*o.ow : (oy+1)*o.ow]
			if o.isMax {
				for ox := range d {
					d[ox] = max(max(r0[2*ox], r0[2*ox+1]), max(r1[2*ox], r1[2*ox+1]))
				}
			} else {
				for ox := range d {
					d[ox] = (r0[2*ox] + r0[2*ox+1] + r1[2*ox] + r1[2*ox+1]) * 0.25
				}
			}
		}
	}
}

// gapOp is a global average pool: [C][H][W] -> [C].
type gapOp struct{ c, hw, id int }

func (o *gapOp) run(w *worker, x []float32, m int) []float32 {
	y := w.buf(o.id, m*o.c)
	inv := 1 / float32(o.hw)
	for p := range m * o.c {
		var s float32
		for _, v := range x[p*o.hw : (p+1)*o.hw] {
			s += v
		}
		y[p] = s * inv
	}
	return y
}

// shortcutAOp is the option-A shortcut: subsample, zero-pad channels.
type shortcutAOp struct {
	in, out, pad, s, h, wd, oh, ow, id int
}

func newShortcutAOp(l *nn.ShortcutA, in []int, id int) (op, []int, error) {
	if len(in) != 3 || in[0] != l.In {
		return nil, nil, fmt.Errorf("compile: layer %s: input %v, want %d channels", l.Name(), in, l.In)
	}
	o := &shortcutAOp{in: l.In, out: l.Out, pad: (l.Out - l.In) / 2, s: l.Stride, h: in[1], wd: in[2], id: id}
	o.oh, o.ow = (in[1]+l.Stride-1)/l.Stride, (in[2]+l.Stride-1)/l.Stride
	return o, []int{l.Out, o.oh, o.ow}, nil
}

func (o *shortcutAOp) run(w *worker, x []float32, m int) []float32 {
	ohw := o.oh * o.ow
	y := w.buf(o.id, m*o.out*ohw)
	clear(y)
	for i := range m {
		for c := range o.in {
			src := x[(i*o.in+c)*o.h*o.wd:]
			dst := y[(i*o.out+c+o.pad)*ohw:]
			for oy := range o.oh {
				for ox := range o.ow {
					dst[oy*o.ow+ox] = src[oy*o.s*o.wd+ox*o.s]
				}
			}
		}
	}
	return y
}

// residualOp is body(x) + shortcut(x), optionally followed by ReLU. When
// the body ends with a conv, the add and ReLU run in that conv's epilogue.
type residualOp struct {
	body     []op
	shortcut []op // nil: identity
	fused    *convOp
	relu     bool
	n        int // floats per image of the output
}

func (c *compiler) residual(r *nn.Residual, in []int, relu bool) (op, []int, error) {
	x := c.cur
	depth := len(c.stack)
	defer func() { c.stack = c.stack[:depth] }()
	c.stack = append(c.stack, x) // the shortcut reads x; identity: the add does
	o := &residualOp{relu: relu}
	sout := in
	var err error
	if r.Shortcut != nil {
		if o.shortcut, sout, err = c.seq(flatten([]nn.Layer{r.Shortcut}), in); err != nil {
			return nil, nil, err
		}
		c.stack = append(c.stack, c.cur)
		c.cur = x
	}
	body, out, err := c.seq(flatten([]nn.Layer{r.Body}), in)
	if err != nil {
		return nil, nil, err
	}
	o.body, o.n = body, tensor.Numel(out...)
	if !equalShape(out, sout) {
		return nil, nil, fmt.Errorf("compile: layer %s: body output %v and shortcut output %v differ", r.Name(), out, sout)
	}
	if len(body) > 0 {
		if co, ok := body[len(body)-1].(*convOp); ok && !co.relu {
			o.fused = co
			co.residual = true
			co.relu = relu
		}
	}
	return o, out, nil
}

func equalShape(a, b []int) bool { return tensor.SameShape(a, b) }

func (o *residualOp) run(w *worker, x []float32, m int) []float32 {
	s := x
	for _, op := range o.shortcut {
		s = op.run(w, s, m)
	}
	h := x
	body := o.body
	if o.fused != nil {
		body = body[:len(body)-1]
	}
	for _, op := range body {
		h = op.run(w, h, m)
	}
	if o.fused != nil {
		return o.fused.runAdd(w, h, m, s)
	}
	for j, v := range s[:m*o.n] {
		h[j] += v
		if o.relu && h[j] < 0 {
			h[j] = 0
		}
	}
	return h
}

// concatOp is a DenseNet layer: cat(x, body(x)) along channels.
type concatOp struct {
	body   []op
	nx, nz int // floats per image of x and of body(x)
	id     int
}

func (c *compiler) concat(d *nn.DenseConcat, in []int) (op, []int, error) {
	x := c.cur
	depth := len(c.stack)
	defer func() { c.stack = c.stack[:depth] }()
	c.stack = append(c.stack, x)
	body, out, err := c.seq(flatten([]nn.Layer{d.Body}), in)
	if err != nil {
		return nil, nil, err
	}
	if len(in) != 3 || len(out) != 3 || out[1] != in[1] || out[2] != in[2] {
		return nil, nil, fmt.Errorf("compile: layer %s: body output %v cannot be concatenated to input %v", d.Name(), out, in)
	}
	c.stack = append(c.stack, c.cur) // body(x), copied after x
	o := &concatOp{body: body, nx: tensor.Numel(in...), nz: tensor.Numel(out...), id: c.out()}
	return o, []int{in[0] + out[0], in[1], in[2]}, nil
}

func (o *concatOp) run(w *worker, x []float32, m int) []float32 {
	z := x
	for _, op := range o.body {
		z = op.run(w, z, m)
	}
	n := o.nx + o.nz
	y := w.buf(o.id, m*n)
	for i := range m {
		copy(y[i*n:], x[i*o.nx:(i+1)*o.nx])
		copy(y[i*n+o.nx:], z[i*o.nz:(i+1)*o.nz])
	}
	return y
}

// linearOp is a fully connected layer restricted to its live outputs and
// the inputs they read; dead outputs are their constant bias.
type linearOp struct {
	in, out int
	cols    []int     // inputs read; nil: all
	rows    []int     // live outputs, ascending
	w       []float32 // [len(rows)][len(cols)]
	bias    []float32 // [out]
	relu    bool
	id, gid int // output and gathered-input slots
	yid     int // live-output slot
}

func (c *compiler) linear(l *nn.Linear, in []int, relu bool) (op, []int, error) {
	if tensor.Numel(in...) != l.In {
		return nil, nil, fmt.Errorf("compile: layer %s: input %v has %d values, want %d", l.Name(), in, tensor.Numel(in...), l.In)
	}
	mask := l.Mask()
	if c.opt.IgnoreMasks {
		mask = nil
	}
	kept := func(n, j int) bool { return mask == nil || mask[n*l.In+j] != 0 }
	used := make([]bool, l.In)
	o := &linearOp{in: l.In, out: l.Out, relu: relu, bias: make([]float32, l.Out), id: c.out(), gid: c.slot(), yid: c.slot()}
	if l.B != nil {
		copy(o.bias, l.B.Value.Data)
	}
	for n := range l.Out {
		live := false
		for j := range l.In {
			if kept(n, j) {
				live, used[j] = true, true
			}
		}
		if live {
			o.rows = append(o.rows, n)
		}
	}
	for j, u := range used {
		if u {
			o.cols = append(o.cols, j)
		}
	}
	if len(o.cols) == l.In {
		o.cols = nil
	}
	k := l.In
	if o.cols != nil {
		k = len(o.cols)
	}
	o.w = make([]float32, len(o.rows)*k)
	for r, n := range o.rows {
		for ci := range k {
			j := ci
			if o.cols != nil {
				j = o.cols[ci]
			}
			if kept(n, j) {
				o.w[r*k+ci] = l.W.Value.Data[n*l.In+j]
			}
		}
	}
	var dead int
	if mask != nil {
		dead = l.Out - len(o.rows)
	}
	c.layers = append(c.layers, &LayerInfo{Name: l.Name(), Route: Dense, Groups: 1, Patterns: 1, Dead: dead,
		MACs: int64(len(o.rows) * k), DenseMACs: int64(l.In * l.Out)})
	return o, []int{l.Out}, nil
}

func (o *linearOp) run(w *worker, x []float32, m int) []float32 {
	k := o.in
	if o.cols != nil {
		k = len(o.cols)
		g := w.buf(o.gid, m*k)
		for i := range m {
			xi, gi := x[i*o.in:(i+1)*o.in], g[i*k:(i+1)*k]
			for ci, j := range o.cols {
				gi[ci] = xi[j]
			}
		}
		x = g
	}
	y := w.buf(o.id, m*o.out)
	nr := len(o.rows)
	var t []float32
	if nr > 0 {
		t = w.buf(o.yid, m*nr)
		if k == 0 {
			clear(t)
		} else {
			kernel.Sgemm(false, true, m, nr, k, 1, x, k, o.w, k, 0, t, nr)
		}
	}
	for i := range m {
		yi := y[i*o.out : (i+1)*o.out]
		copy(yi, o.bias)
		for r, n := range o.rows {
			yi[n] += t[i*nr+r]
		}
		if o.relu {
			for j, v := range yi {
				yi[j] = max(v, 0)
			}
		}
	}
	return y
}
