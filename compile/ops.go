package compile

import (
	"fmt"
	"math"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// This file holds the compiled ops other than the conv (conv.go) and the
// generic op (generic.go): BatchNorm, ReLU, pools, shortcuts, residual
// add, concatenation and linear layers, each on m whole images.

// bnOp is an eval-mode BatchNorm (not after a conv: DenseNet's
// pre-activation), optionally followed by ReLU.
type bnOp struct {
	c, hw        int
	scale, shift []float32
	relu         bool
}

func newBNOp(bn *nn.BatchNorm2d, in []int, relu bool) *bnOp {
	o := &bnOp{c: in[0], hw: in[1] * in[2], relu: relu,
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

func (o *bnOp) run(_ *worker, xs, ys [][]float32, m int) {
	x, y := xs[0], ys[0]
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
}

// reluOp is a ReLU that is not fused into the op before it.
type reluOp struct{}

func (o *reluOp) run(_ *worker, xs, ys [][]float32, _ int) {
	y := ys[0]
	for j, v := range xs[0] {
		y[j] = max(v, 0)
	}
}

// poolOp is a max or average pool over K x K windows.
type poolOp struct {
	isMax            bool
	k, s, pad        int
	c, h, wd, oh, ow int
}

// newPoolOp compiles a MaxPool or AveragePool node on input shape in, or
// returns nil for a form it has no kernel for (rectangular windows or
// strides, asymmetric pads, dilation, ceil mode, an average that leaves the
// padding out of the count).
func newPoolOp(n *graph.Node, in []int) *poolOp {
	a := n.Attrs
	k, s, pad := a.Kernel[0], a.Stride[0], a.Pads[0]
	if len(in) != 3 || a.Kernel[1] != k || a.Stride[1] != s || k < 1 || s < 1 || a.CeilMode ||
		a.Pads != [4]int{pad, pad, pad, pad} || a.Dilation[0] > 1 || a.Dilation[1] > 1 ||
		(n.Op == graph.AveragePool && !a.CountIncludePad && pad != 0) || in[1]+2*pad < k || in[2]+2*pad < k {
		return nil
	}
	o := &poolOp{isMax: n.Op == graph.MaxPool, k: k, s: s, pad: pad, c: in[0], h: in[1], wd: in[2]}
	o.oh, o.ow = (in[1]+2*pad-k)/s+1, (in[2]+2*pad-k)/s+1
	return o
}

func (o *poolOp) run(_ *worker, xs, ys [][]float32, m int) {
	x, y := xs[0], ys[0]
	inv := 1 / float32(o.k*o.k)
	if o.k == 2 && o.s == 2 && o.pad == 0 {
		o.run2x2(x, y, m)
		return
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
type gapOp struct{ c, hw int }

func (o *gapOp) run(_ *worker, xs, ys [][]float32, m int) {
	x, y := xs[0], ys[0]
	inv := 1 / float32(o.hw)
	for p := range m * o.c {
		var s float32
		for _, v := range x[p*o.hw : (p+1)*o.hw] {
			s += v
		}
		y[p] = s * inv
	}
}

// shortcutAOp is the option-A shortcut: subsample, zero-pad channels.
type shortcutAOp struct {
	in, out, pad, s, h, wd, oh, ow int
}

func newShortcutAOp(n *graph.Node, in []int) *shortcutAOp {
	s := n.Attrs.Stride[0]
	o := &shortcutAOp{in: in[0], out: n.Attrs.Out, pad: (n.Attrs.Out - in[0]) / 2, s: s, h: in[1], wd: in[2]}
	o.oh, o.ow = (in[1]+s-1)/s, (in[2]+s-1)/s
	return o
}

func (o *shortcutAOp) run(w *worker, xs, ys [][]float32, m int) {
	x, y := xs[0], ys[0]
	ohw := o.oh * o.ow
	for i := range m {
		img := y[i*o.out*ohw : (i+1)*o.out*ohw]
		clear(img[:o.pad*ohw])
		clear(img[(o.pad+o.in)*ohw:])
		for c := range o.in {
			kernel.Subsample(img[(o.pad+c)*ohw:], x[(i*o.in+c)*o.h*o.wd:], o.h, o.wd, o.s, &w.ws)
		}
	}
}

// addOp adds two tensors of one shape (a residual add that no conv's
// epilogue took), optionally followed by ReLU.
type addOp struct{ relu bool }

func (o *addOp) run(_ *worker, xs, ys [][]float32, _ int) {
	a, b, y := xs[0], xs[1], ys[0]
	b = b[:len(a)]
	y = y[:len(a)]
	for j, v := range a {
		s := v + b[j]
		if o.relu {
			s = max(s, 0)
		}
		y[j] = s
	}
}

// concatOp concatenates its inputs along channels (the first per-image
// axis: each image's inputs are copied one after another).
type concatOp struct {
	sizes []int // floats per image of each input
}

func (o *concatOp) run(_ *worker, xs, ys [][]float32, m int) {
	y := ys[0]
	n := len(y) / m
	for i := range m {
		off := i * n
		for k, x := range xs {
			sz := o.sizes[k]
			copy(y[off:off+sz], x[i*sz:(i+1)*sz])
			off += sz
		}
	}
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
	gid     int // gathered-input slot
	yid     int // live-output slot
}

// linear compiles the linear layer l of node name on input shape in.
func (c *compiler) linear(name string, l *nn.Linear, in []int, relu bool) (*linearOp, error) {
	if tensor.Numel(in...) != l.In {
		return nil, fmt.Errorf("compile: layer %s: input %v has %d values, want %d", name, in, tensor.Numel(in...), l.In)
	}
	mask := l.Mask()
	if c.opt.IgnoreMasks {
		mask = nil
	}
	kept := func(n, j int) bool { return mask == nil || mask[n*l.In+j] != 0 }
	used := make([]bool, l.In)
	o := &linearOp{in: l.In, out: l.Out, relu: relu, bias: make([]float32, l.Out), gid: c.slot(), yid: c.slot()}
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
	c.layers = append(c.layers, &LayerInfo{Name: name, Route: Dense, Groups: 1, Patterns: 1, Dead: dead,
		MACs: int64(len(o.rows) * k), DenseMACs: int64(l.In * l.Out)})
	return o, nil
}

func (o *linearOp) run(w *worker, xs, ys [][]float32, m int) {
	x := xs[0]
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
	y := ys[0]
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
}
