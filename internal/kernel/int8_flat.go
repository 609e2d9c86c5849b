package kernel

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// This file holds the flat route of Int8Plan for 3x3, stride-1, pad-1
// convolutions of square planes 8, 16 or 32 wide (as the fp32 flat route,
// flat8.go). On the padded pitch (int8.go) a 16x16 plane computes 17
// lanes per 16 outputs (an 8x8 one 80 for 64) in tiles of 16 consecutive
// positions that straddle rows, so that a tile's taps share no loads:
// each (quad, tap) loads every vector of the tile again. Here a group's
// filters run in blocks of up to i8FlatMaxM, each over tiles of whole
// output rows (i8FlatRows), every vector 16 outputs of one row (two rows
// of an 8x8 plane); an input row vector is loaded once per column shift
// and used for the three output rows it feeds (row reuse), and the
// stores are whole vectors, unmasked (the fp32 outputs are contiguous
// rows; the handoff's rows go to their places in the next conv's padded
// planes).
//
// Planes 16 and 32 wide read the plan's own input, the padded quad planes
// that every group interleaves (pitch W+1, halos holding the zero point):
// the halo columns are never computed but serve as the taps off the
// plane's edge, so no load is masked and any zero point works (its term
// is in the bias, as on the padded pitch). For 8x8 planes, whose vectors
// hold two rows, a group's quads are interleaved instead into compact
// planes of pitch 8 (interQuads8Go; rows -1 and 8 the padding) and the
// taps off the left and right edges are masked out of the VPDPBUSD, which
// needs the zero point 0 (ReLU outputs; other plans keep the padded
// tiles). The byte planes (pack) and the HandOff layout stay as they
// are. Groups that store through the fp32 epilogue (a skipped or planed
// filter) keep the padded tiles.
//
// Whether a group runs flat is measured once per process, implementation
// and shape (width, filters, quads), the flat route against the padded
// tiles (tuneI8Flat); SetInt8Flat forces it. Implementations: i8FlatGoY,
// i8FlatGoQ and interQuads8Go (pure Go, the sums exact in int32), and the
// generated kernI8FY<w>_<m>, kernI8FQ<w>_<m> and kernInterQuads8
// (_asm/int8flat.go).

const (
	i8FlatMaxM = 4  // filters per block (as _asm/int8flat.go)
	i8Flat8QS  = 96 // words per quad of the compact planes of 8x8 inputs (as _asm/int8flat.go)
)

// i8FlatWidths are the plane widths of the flat route.
var i8FlatWidths = [...]int{8, 16, 32}

// i8FlatRows is the output rows of one tile of m filters on planes w
// wide (as _asm/int8flat.go): 16 accumulators (12 for three filters), or
// the whole 8x8 plane.
func i8FlatRows(w, m int) int {
	if w == 8 {
		return 8
	}
	r := [i8FlatMaxM + 1]int{1: 16, 2: 8, 3: 4, 4: 4}[m]
	return r * 16 / w
}

// i8FlatWord returns the byte offset in b of the input word at row iy,
// column ix (-1 <= iy, ix <= w) of the quad at byte q0 of b, as the flat
// kernels of planes w wide read it, or -1 for a tap they mask out: the
// padded quad planes (pitch w+1) for w = 16 and 32; for w = 8 the compact
// planes of interQuads8Go (pitch 8, rows -1 and 8 the padding), whose
// columns -1 and 8 are masked out.
func i8FlatWord(w, q0, iy, ix int) int {
	if w != 8 {
		return q0 + 4*((iy+1)*(w+1)+ix+1)
	}
	if ix < 0 || ix >= w {
		return -1
	}
	return q0 + 4*(1+(iy+1)*8+ix)
}

// interQuads8Go interleaves quads of padded 8x8 byte planes (pitch 9,
// each quad's four byte offsets into planes at padded row 0) into the
// compact planes of the 8x8 flat kernels, i8Flat8QS words a quad:
//
//	for i := range len(idx) / 4 {
//		for r := range 10 {
//			for c := range 8 {
//				var w uint32
//				for j := range 4 {
//					w |= uint32(planes[idx[4*i+j]+9*r+1+c]) << (8 * j)
//				}
//				dst[i*i8Flat8QS+1+8*r+c] = w
//			}
//		}
//	}
func interQuads8Go(planes []byte, idx []int32, dst []uint32) {
	for i := range len(idx) / 4 {
		o := idx[4*i : 4*i+4]
		for r := range 10 {
			d := dst[i*i8Flat8QS+1+8*r:][:8]
			for c := range d {
				p := 9*r + 1 + c
				d[c] = uint32(planes[int(o[0])+p]) | uint32(planes[int(o[1])+p])<<8 | uint32(planes[int(o[2])+p])<<16 | uint32(planes[int(o[3])+p])<<24
			}
		}
	}
}

// i8FlatKernelY computes nt tiles of R = i8FlatRows(w, m) output rows of
// m filters (w = 16 or 32; w = 8 reads the compact planes, see
// i8FlatWord, nt = 1) on the padded quad planes b (pitch wq = w+1
// words, quad k at byte qo[k] of b, b at the first tile's first padded
// row; the quads need not be in order or evenly spaced),
// weights a [m][nq][9] (rows lda words apart, tap 3*ky+kx), and stores
// them with the epilogue as i8KernelY, output rows contiguous:
//
//	for i := range m {
//		for r := range nt * R {
//			for ox := range w {
//				var s int32
//				for k := range nq {
//					for t := range 9 {
//						ky, kx := t/3, t%3
//						s += the 4 products of a[i*lda+9*k+t]'s bytes and b[qo[k]+4*((r+ky)*wq+ox+kx):][:4]
//					}
//				}
//				d := int(yoff[i]) + r*w + ox
//				v := float32(s)*sc[i] + bias[i]
//				if add != nil {
//					v += add[d]
//				}
//				if relu {
//					v = max(v, 0)
//				}
//				y[d] = v
//			}
//		}
//	}
type i8FlatKernelY func(w, m, nt, nq int, a []int32, lda int, b []byte, qo []int32, y []float32, yoff []int32, add []float32, sc, bias []float32, relu bool)

// i8FlatKernelQ computes the tiles of i8FlatKernelY and quantizes each
// output v again (v*q[0] + q[1], rounded half to even, clamped to [0,
// 255]) into byte y[yoff[i] + r*wq + ox] of the next conv's padded
// planes (as i8KernelQ); the residual add reads add[aoff[i] + r*w + ox].
type i8FlatKernelQ func(w, m, nt, nq int, a []int32, lda int, b []byte, qo []int32, y []byte, yoff []int32, add []float32, aoff []int32, sc, bias []float32, q *[2]float32, relu bool)

// i8FlatImpl is one implementation of the flat kernels.
type i8FlatImpl struct {
	y     i8FlatKernelY
	q     i8FlatKernelQ
	inter func(planes []byte, idx []int32, dst []uint32) // interQuads8Go
}

// i8FlatGo is the pure-Go flat implementation.
var i8FlatGo = i8FlatImpl{i8FlatGoY, i8FlatGoQ, interQuads8Go}

// i8FlatSums returns the int32 sums of i8FlatKernelY, [m][rows*w].
func i8FlatSums(w, m, rows, nq int, a []int32, lda int, b []byte, qo []int32) []int32 {
	n := rows * w
	s := make([]int32, m*n)
	for k := range nq {
		for t := range 9 {
			ky, kx := t/3, t%3
			for i := range m {
				wv := a[i*lda+9*k+t]
				w0, w1, w2, w3 := int32(int8(wv)), int32(int8(wv>>8)), int32(int8(wv>>16)), int32(int8(wv>>24))
				si := s[i*n : (i+1)*n]
				for r := range rows {
					sr := si[r*w : (r+1)*w]
					for ox := range sr {
						o := i8FlatWord(w, int(qo[k]), r+ky-1, ox+kx-1)
						if o < 0 {
							continue
						}
						q := b[o : o+4 : o+4]
						sr[ox] += w0*int32(q[0]) + w1*int32(q[1]) + w2*int32(q[2]) + w3*int32(q[3])
					}
				}
			}
		}
	}
	return s
}

// i8FlatGoY is the i8FlatKernelY in Go.
func i8FlatGoY(w, m, nt, nq int, a []int32, lda int, b []byte, qo []int32, y []float32, yoff []int32, add []float32, sc, bias []float32, relu bool) {
	n := nt * i8FlatRows(w, m) * w
	s := i8FlatSums(w, m, nt*i8FlatRows(w, m), nq, a, lda, b, qo)
	for i := range m {
		o := int(yoff[i])
		for j, v := range s[i*n : (i+1)*n] {
			r := fmaf(float32(v), sc[i], bias[i])
			if add != nil {
				r += add[o+j]
			}
			if relu {
				r = max(r, 0)
			}
			y[o+j] = r
		}
	}
}

// i8FlatGoQ is the i8FlatKernelQ in Go.
func i8FlatGoQ(w, m, nt, nq int, a []int32, lda int, b []byte, qo []int32, y []byte, yoff []int32, add []float32, aoff []int32, sc, bias []float32, q *[2]float32, relu bool) {
	n := nt * i8FlatRows(w, m) * w
	s := i8FlatSums(w, m, nt*i8FlatRows(w, m), nq, a, lda, b, qo)
	for i := range m {
		for j, v := range s[i*n : (i+1)*n] {
			r := fmaf(float32(v), sc[i], bias[i])
			if add != nil {
				r += add[int(aoff[i])+j]
			}
			if relu {
				r = max(r, 0)
			}
			y[int(yoff[i])+j/w*(w+1)+j%w] = quantByte(r, q[0], q[1])
		}
	}
}

// i8FlatIndex is the index of p's width in i8FlatWidths when the flat
// route computes p (3x3, stride 1, pad 1, square planes of such a
// width), else -1.
func i8FlatIndex(p Conv) int {
	if p.H != p.W || p.KH != 3 || p.KW != 3 || p.Stride != 1 || p.Pad != 1 {
		return -1
	}
	return slices.Index(i8FlatWidths[:], p.W)
}

// i8FlatMode forces the flat route on (1) or off (-1) for the Int8Plans
// built from now on; 0 leaves it to tuneI8Flat.
var i8FlatMode int

// SetInt8Flat forces the flat route of Int8Plan (3x3 stride-1 convs of
// 8x8, 16x16 and 32x32 planes; 8x8 ones with zero point 0) on (1) or off (-1) for the plans built from
// now on, or leaves it to the measurement (0, the default), and returns
// the previous setting, so that tests and benchmarks can build both. It
// must not be called while an Int8Plan is being built.
func SetInt8Flat(mode int) (was int) {
	was, i8FlatMode = i8FlatMode, mode
	return was
}

// i8FlatBlocks calls f on the blocks of nf filters: the fewest of at most
// i8FlatMaxM, of sizes differing by one at most.
func i8FlatBlocks(nf int, f func(i0, m int)) {
	nb := (nf + i8FlatMaxM - 1) / i8FlatMaxM
	for b, i0 := 0, 0; b < nb; b++ {
		m := nf / nb
		if b < nf%nb {
			m++
		}
		f(i0, m)
		i0 += m
	}
}

// setFlat chooses, for each group of q, whether it runs flat.
func (q *Int8Plan) setFlat() {
	wi := i8FlatIndex(q.p)
	if wi < 0 || i8FlatMode < 0 {
		return
	}
	if q.p.W == 8 && q.act.Zero != 0 {
		return // the kernels mask the taps off the edges out: the padding must be 0
	}
	for gi := range q.groups {
		g := &q.groups[gi]
		g.flat = i8FlatMode > 0 || i8FlatFaster(wi, len(g.filters), len(g.quads)/4)
	}
}

// flatQS returns the bytes per quad of the flat kernels' input.
func (q *Int8Plan) flatQS() int {
	if q.p.W == 8 {
		return 4 * i8Flat8QS
	}
	return 4 * q.qstride
}

// forwardFlatY is forwardY for a group that runs flat (bias: the
// group's, with e's; its quads at byte offsets qo of b).
func (q *Int8Plan) forwardFlatY(g *i8Group, b []byte, qo []int32, y []float32, e *Epilogue, bias []float32) {
	w, nq := q.p.W, len(g.quads)/4
	i8FlatBlocks(len(g.filters), func(i0, m int) {
		i8Cur.flat.y(w, m, w/i8FlatRows(w, m), nq, g.w[i0*g.k4:], g.k4, b, qo, y, g.yoff[i0:], e.Add, g.sc[i0:], bias[i0:], e.ReLU)
	})
}

// forwardFlatQ is forwardQ for a group that runs flat.
func (q *Int8Plan) forwardFlatQ(g *i8Group, b []byte, qo []int32, out []byte, e *Epilogue, bias []float32) {
	w, nq := q.p.W, len(g.quads)/4
	i8FlatBlocks(len(g.filters), func(i0, m int) {
		i8Cur.flat.q(w, m, w/i8FlatRows(w, m), nq, g.w[i0*g.k4:], g.k4, b, qo, out, g.qoff[i0:], e.Add, g.yoff[i0:], g.sc[i0:], bias[i0:], &q.nextQ, e.ReLU)
	})
}

// i8FlatKey is a shape tuneI8Flat measures.
type i8FlatKey struct {
	impl       string
	wi, nf, nq int
}

var (
	i8FlatMu sync.Mutex
	// i8FlatTimes holds the best times of each measured shape on the
	// padded tiles [0] and the flat route [1].
	i8FlatTimes = map[i8FlatKey][2]time.Duration{}
)

// i8FlatFaster reports whether the flat route was measured faster than
// the padded tiles for a group of nf filters over nq quads on planes of
// width i8FlatWidths[wi] (tuneI8Flat, once per shape).
func i8FlatFaster(wi, nf, nq int) bool {
	k := i8FlatKey{i8Cur.name, wi, nf, nq}
	i8FlatMu.Lock()
	defer i8FlatMu.Unlock()
	t, ok := i8FlatTimes[k]
	if !ok {
		t = tuneI8Flat(wi, nf, nq)
		i8FlatTimes[k] = t
	}
	return t[1] < t[0]
}

// tuneI8Flat measures a group of nf filters over 4*nq channels on w x w
// planes (w = i8FlatWidths[wi]), bias and ReLU fused into fp32 stores,
// on the padded tiles and on the flat route in alternation, and returns
// the best time of each over 7 rounds (about 30 microseconds each), which
// other load on the machine can only slow.
func tuneI8Flat(wi, nf, nq int) [2]time.Duration {
	w := i8FlatWidths[wi]
	p := Conv{C: 4 * nq, H: w, W: w, N: nf, KH: 3, KW: 3, Stride: 1, Pad: 1}
	r := rand.New(rand.NewPCG(uint64(w), uint64(nf*100+nq)))
	g := Group{Weights: make([]float32, nf*p.C*9)}
	for i := range g.Weights {
		g.Weights[i] = r.Float32() - 0.5
	}
	g.Filters = make([]int, nf)
	for i := range g.Filters {
		g.Filters[i] = i
	}
	g.Channels = r.Perm(p.C)
	x := make([]float32, p.C*w*w)
	for i := range x {
		x[i] = r.Float32()
	}
	y := make([]float32, nf*w*w)
	e := &Epilogue{Bias: make([]float32, nf), ReLU: true}
	ws := new(Workspace)
	var runs [2]func()
	for i := range runs {
		pl := newInt8Plan(p, []Group{g}, ActQuantRange(0, 1))
		pl.groups[0].flat = i == 1
		runs[i] = func() { pl.Forward(x, y, e, ws) }
		runs[i]() // warm: the workspace grows
	}
	t0 := time.Now()
	runs[0]()
	reps := max(1, min(64, int(30*time.Microsecond/max(time.Since(t0), 1))))
	var best [2]time.Duration
	for round := range 8 {
		for i, run := range runs {
			t0 := time.Now()
			for range reps {
				run()
			}
			d := time.Since(t0)
			if round > 0 && (best[i] == 0 || d < best[i]) {
				best[i] = d
			}
		}
	}
	return best
}

// Int8Tuning describes the int8 kernel choices measured in this process
// so far (Int8Plan's flat route against its padded tiles, per plane
// width: how many group shapes run flat, and the range of the flat
// route's time over the padded tiles'; and the AMX route against the
// other routes), or "" where none were measured.
func Int8Tuning() string {
	f, a := i8FlatTuning(), i8AMXTuning()
	if f != "" && a != "" {
		return f + "; " + a
	}
	return f + a
}

// i8FlatTuning describes tuneI8Flat's measurements for Tuning ("" where
// none ran): per implementation and width, the shapes measured, how many
// run flat, and the range of the flat route's time over the padded
// tiles'.
func i8FlatTuning() string {
	i8FlatMu.Lock()
	defer i8FlatMu.Unlock()
	type wk struct {
		impl string
		wi   int
	}
	type agg struct {
		n, flat int
		lo, hi  float64
	}
	m := map[wk]*agg{}
	var keys []wk
	for k, t := range i8FlatTimes {
		a := m[wk{k.impl, k.wi}]
		if a == nil {
			a = &agg{lo: 1e9}
			m[wk{k.impl, k.wi}] = a
			keys = append(keys, wk{k.impl, k.wi})
		}
		rel := float64(t[1]) / float64(t[0])
		a.n++
		if t[1] < t[0] {
			a.flat++
		}
		a.lo, a.hi = min(a.lo, rel), max(a.hi, rel)
	}
	slices.SortFunc(keys, func(a, b wk) int {
		if c := strings.Compare(a.impl, b.impl); c != 0 {
			return c
		}
		return a.wi - b.wi
	})
	var s []string
	for _, k := range keys {
		a := m[k]
		w := i8FlatWidths[k.wi]
		s = append(s, fmt.Sprintf("int8 flat %dx%d (%s): %d of %d group shapes flat (flat / padded tiles time %.2f to %.2f)", w, w, k.impl, a.flat, a.n, a.lo, a.hi))
	}
	return strings.Join(s, "; ")
}
