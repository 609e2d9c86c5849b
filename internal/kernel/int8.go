package kernel

// This file holds Int8Plan, the int8 form of GroupPlan: a diverse group
// convolution (dense is one group) whose products run as int8 weights
// times uint8 activations into int32 sums (VPDPBUSD on CPUs with
// AVX512_VNNI), for package compile's int8 route.
//
// Quantization:
//   - weights per output channel, symmetric int8: w ~ sw[n]*qw, qw in
//     [-127, 127];
//   - activations per tensor, asymmetric uint8: x ~ sx*(qx - zx), qx in
//     [0, 255] (VPDPBUSD multiplies unsigned by signed bytes, so no +128
//     shift is needed; ReLU outputs get zx = 0 and all 256 levels).
//
// so that conv[n] = sx*sw[n]*(sum qw*qx - zx*sum qw): the second term is
// one constant per filter, folded into the bias.
//
// Layout (per image): every channel some group reads is quantized once
// into a zero-padded byte plane (padding holds zx, the quantized 0). Each
// group then interleaves its own channels, four at a time (a quad; a last
// partial quad repeats a channel, with zero weights), into planes of
// 32-bit words, one word per pixel holding the quad's four bytes, and runs
// its tiles on them: a group reads exactly its channels, rounded up to a
// multiple of four (int8_pack.go). Groups that read the same four
// channels share their quad: it is interleaved once per image, for the
// first group that reads it (int8_share.go). A stride-s input is split into s*s
// phase planes, so that every tap of every stride reads its 16 output
// pixels from consecutive words: output (oy, ox) is computed at position
// oy*wq+ox of a pitch-wq plane, the columns ox >= OutW dropped, as in the
// fp32 direct route (direct.go). At stride 1 with a centred kernel the
// pitch is W+Pad, not W+2*Pad: a row's right padding is the next row's
// left padding.
//
// Stores: a tile's sums are dequantized in registers and, with the bias,
// the residual add and the ReLU, stored straight into the output planes
// (i8KernelY; the lanes of dropped columns compressed out). Groups with a
// skipped channel or a bias plane store through an fp32 tile and the
// shared epilogue instead. After HandOff the output is quantized again in
// registers into the next int8 conv's byte planes (i8KernelQ,
// int8_handoff.go).
//
// Groups of 3x3 stride-1 convs of 8x8, 16x16 and 32x32 planes may run on
// the flat route instead (int8_flat.go: tiles of whole output rows, each
// input row vector loaded once for three output rows), where measured
// faster; and on CPUs with AMX-INT8, any group may run on the AMX tiles
// (int8amx.go: TDPBSUD, the same int32 sums and epilogue), where measured
// faster.
//
// Implementations (three, as the fp32 kernels): i8Go, i8GoY, i8GoQ,
// quantRowsGo, quantDeintGo and interQuadsGo, pure Go, the fallback for
// -tags noasm and CPUs without AVX512_VNNI; kernI8_*, kernI8Y_*,
// kernI8Q_*, kernQuantRows, kernQuantDeint and kernInterQuads, generated
// by _asm/int8.go and _asm/int8pack.go (int8_amd64.s); and the naive
// loops i8ConvRef in int8_test.go, the oracle.

import (
	"math"
	"unsafe"
)

const (
	i8MaxMR  = 6  // filters per tile
	i8MaxNV  = 8  // 16-pixel vectors per tile
	i8MaxAcc = 24 // mr*nv at most: the accumulators (6x4, 3x8 tiles)
)

// i8NV returns the most vectors per tile of mr filters.
func i8NV(mr int) int { return min(i8MaxNV, i8MaxAcc/mr) }

// ActQuant is the per-tensor quantization of a conv's input: x is stored
// as clamp(round(x/Scale) + Zero, 0, 255).
type ActQuant struct {
	Scale float32 // > 0
	Zero  uint8
}

// ActQuantRange returns the ActQuant that covers [lo, hi] (widened to
// include 0, so that 0 and the padding are exact).
func ActQuantRange(lo, hi float32) ActQuant {
	lo, hi = min(lo, 0), max(hi, 0)
	if hi-lo < 1e-8 {
		return ActQuant{Scale: 1}
	}
	s := (hi - lo) / 255
	z := math.Round(float64(-lo / s))
	return ActQuant{Scale: s, Zero: uint8(min(max(z, 0), 255))}
}

// i8Kernel computes an mr x 16*nv tile (see _asm/int8.go):
//
//	for i := range mr {
//		for p := range 16 * nv {
//			var s int32 // the sum of 4*k4 products
//			for k := range k4 {
//				for j := range 4 {
//					s += int32(int8(a[i*lda+k] >> (8 * j))) * int32(b[boffs[k]+4*p+j])
//				}
//			}
//			c[i*ldc+p] = float32(s)*sc[i] + bias[i]
//		}
//	}
type i8Kernel func(mr, nv, k4 int, a []int32, lda int, b []byte, boffs []int32, c []float32, ldc int, sc, bias []float32)

// i8KernelY computes nt tiles side by side (tile t on b[64*nv*t:] and
// vinfo[2*nv*t:], as another call would) and stores each, as follows.
// A tile of i8Kernel is stored straight into
// the output planes through the epilogue: vector v covers positions
// 16v..16v+15 of the padded pitch, of which those set in the low 16 bits
// of vinfo[2v] are outputs, going in order to outputs vinfo[2v+1],
// vinfo[2v+1]+1, ... (the high 16 bits hold the mask of their count):
//
//	for i := range mr {
//		for v := range nv {
//			d := int(vinfo[2*v+1])
//			for l := range 16 {
//				if vinfo[2*v]>>l&1 == 0 {
//					continue
//				}
//				r := float32(s[i][16*v+l])*sc[i] + bias[i] // s: the sums of i8Kernel
//				if add != nil {
//					r += add[int(yoff[i])+d]
//				}
//				if relu {
//					r = max(r, 0)
//				}
//				y[int(yoff[i])+d] = r
//				d++
//			}
//		}
//	}
type i8KernelY func(mr, nv, nt, k4 int, a []int32, lda int, b []byte, boffs []int32, y []float32, yoff []int32, add []float32, vinfo []int32, sc, bias []float32, relu bool)

// i8KernelQ computes nt tiles as i8KernelY (y too moves on by 16*nv
// bytes a tile); each is the tile of i8KernelY, quantized again
// (r*q[0] + q[1], rounded half to even and clamped to [0, 255]) into the
// next conv's input planes: the lanes set in vinfo[2v] go to byte
// y[yoff[i]+16v+l] (a shift of the padded pitch, see Int8Plan.HandOff);
// the residual add reads add[aoff[i]+d] as i8KernelY's add[yoff[i]+d].
type i8KernelQ func(mr, nv, nt, k4 int, a []int32, lda int, b []byte, boffs []int32, y []byte, yoff []int32, add []float32, aoff []int32, vinfo []int32, sc, bias []float32, q *[2]float32, relu bool)

// quantKernel quantizes rows of w floats (pitch xp) to bytes (pitch dp):
//
//	for r := range rows {
//		for p := range w {
//			dst[r*dp+p] = uint8(min(max(roundEven(x[r*xp+p]*inv+zp), 0), 255))
//		}
//	}
type quantKernel func(rows, w int, x []float32, xp int, dst []byte, dp int, inv, zp float32)

// deintKernel quantizes rows of 2*n floats (pitch xp) as quantKernel,
// the even values to d0 and the odd ones to d1 (pitch dp each): a
// stride-2 conv's two column phases.
//
//	for r := range rows {
//		for p := range n {
//			d0[r*dp+p] = quantByte(x[r*xp+2*p], inv, zp)
//			d1[r*dp+p] = quantByte(x[r*xp+2*p+1], inv, zp)
//		}
//	}
type deintKernel func(rows, n int, x []float32, xp int, d0, d1 []byte, dp int, inv, zp float32)

// interKernel interleaves quads of byte planes (four byte offsets each
// into planes) into planes of n 32-bit words, plane j in byte j:
//
//	for i := range len(idx) / 4 {
//		for p := range n {
//			var w uint32
//			for j := range 4 {
//				w |= uint32(planes[idx[4*i+j]+p]) << (8 * j)
//			}
//			dst[i*n+p] = w
//		}
//	}
type interKernel func(n int, planes []byte, idx []int32, dst []uint32)

// i8Impl is one implementation of the int8 kernels.
type i8Impl struct {
	name  string
	kern  i8Kernel
	kernY i8KernelY
	kernQ i8KernelQ
	quant quantKernel
	deint deintKernel
	inter interKernel
	flat  i8FlatImpl
	amx   func() i8AMXImpl // the AMX route's steps (int8amx.go)
}

var (
	i8ImplGo = i8Impl{"go", i8Go, i8GoY, i8GoQ, quantRowsGo, quantDeintGo, interQuadsGo, i8FlatGo, func() i8AMXImpl { return i8AMXGo }}
	i8Cur    = i8ImplGo           // the implementation in use
	i8Impls  = []i8Impl{i8ImplGo} // all usable on this CPU, fastest last
)

// Int8Impl names the int8 implementation in use: "avx512vnni" (generated
// assembly) or "go" (the pure-Go fallback, several times slower).
func Int8Impl() string { return i8Cur.name }

// SetInt8Impl selects the int8 implementation by name ("go", or
// "avx512vnni" where the CPU has it) and reports whether it exists here.
// It is not safe to call while int8 convolutions run.
func SetInt8Impl(name string) bool {
	for _, im := range i8Impls {
		if im.name == name {
			i8Cur = im
			return true
		}
	}
	return false
}

// i8Go is the i8Kernel in Go.
func i8Go(mr, nv, k4 int, a []int32, lda int, b []byte, boffs []int32, c []float32, ldc int, sc, bias []float32) {
	np := 16 * nv
	var acc [i8MaxMR][16 * i8MaxNV]int32
	for k := range k4 {
		o := int(boffs[k])
		row := b[o : o+4*np]
		for i := range mr {
			w := a[i*lda+k]
			w0, w1, w2, w3 := int32(int8(w)), int32(int8(w>>8)), int32(int8(w>>16)), int32(int8(w>>24))
			s := acc[i][:np]
			for p := range s {
				q := row[4*p : 4*p+4 : 4*p+4]
				s[p] += w0*int32(q[0]) + w1*int32(q[1]) + w2*int32(q[2]) + w3*int32(q[3])
			}
		}
	}
	for i := range mr {
		ci := c[i*ldc : i*ldc+np]
		for p, s := range acc[i][:np] {
			ci[p] = fmaf(float32(s), sc[i], bias[i])
		}
	}
}

// i8GoY is the i8KernelY in Go.
func i8GoY(mr, nv, nt, k4 int, a []int32, lda int, b []byte, boffs []int32, y []float32, yoff []int32, add []float32, vinfo []int32, sc, bias []float32, relu bool) {
	for t := range nt {
		i8GoY1(mr, nv, k4, a, lda, b[64*nv*t:], boffs, y, yoff, add, vinfo[2*nv*t:], sc, bias, relu)
	}
}

// i8GoY1 is one tile of i8GoY.
func i8GoY1(mr, nv, k4 int, a []int32, lda int, b []byte, boffs []int32, y []float32, yoff []int32, add []float32, vinfo []int32, sc, bias []float32, relu bool) {
	var c [i8MaxMR * 16 * i8MaxNV]float32
	ldc := 16 * nv
	i8Go(mr, nv, k4, a, lda, b, boffs, c[:], ldc, sc, bias)
	for i := range mr {
		o := int(yoff[i])
		for v := range nv {
			d := o + int(vinfo[2*v+1])
			for l := range 16 {
				if vinfo[2*v]>>l&1 == 0 {
					continue
				}
				r := epiAddRelu(c[i*ldc+16*v+l], add, d, relu)
				y[d] = r
				d++
			}
		}
	}
}

// quantRowsGo is the quantKernel in Go.
func quantRowsGo(rows, w int, x []float32, xp int, dst []byte, dp int, inv, zp float32) {
	for r := range rows {
		d := dst[r*dp : r*dp+w]
		for p, v := range x[r*xp : r*xp+w] {
			d[p] = quantByte(v, inv, zp)
		}
	}
}

// quantDeintGo is the deintKernel in Go.
func quantDeintGo(rows, n int, x []float32, xp int, d0, d1 []byte, dp int, inv, zp float32) {
	for r := range rows {
		e, o, row := d0[r*dp:r*dp+n], d1[r*dp:r*dp+n], x[r*xp:r*xp+2*n]
		for p := range e {
			e[p] = quantByte(row[2*p], inv, zp)
			o[p] = quantByte(row[2*p+1], inv, zp)
		}
	}
}

// fmaf returns a*b+c rounded once, as the generated kernels' VFMADD
// does, so that the pure-Go kernels give the same bits whatever the
// build's GOAMD64 (Go fuses a*b+c only from v3 on). a*b of two float32 is
// exact in float64; the sum is rounded to float64 and then to float32,
// which differs from one rounding only when the first lands exactly
// halfway between two float32 (about one sum in 2^29).
func fmaf(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}

// quantByte is one value of quantRowsGo: round half to even, as VCVTPS2DQ.
func quantByte(x, inv, zp float32) uint8 {
	q := math.RoundToEven(float64(fmaf(x, inv, zp)))
	return uint8(min(max(q, 0), 255))
}

// interQuadsGo is the interKernel in Go.
func interQuadsGo(n int, planes []byte, idx []int32, dst []uint32) {
	for i := range len(idx) / 4 {
		o := idx[4*i : 4*i+4]
		b0, b1, b2, b3 := planes[o[0]:int(o[0])+n], planes[o[1]:int(o[1])+n], planes[o[2]:int(o[2])+n], planes[o[3]:int(o[3])+n]
		d := dst[i*n : (i+1)*n]
		for p := range d {
			d[p] = uint32(b0[p]) | uint32(b1[p])<<8 | uint32(b2[p])<<16 | uint32(b3[p])<<24
		}
	}
}

// Int8Plan is a prepared int8 diverse group convolution.
type Int8Plan struct {
	p       Conv
	act     ActQuant
	s       int     // stride: phase planes per channel s*s
	hq, wq  int     // one phase plane
	plen    int     // words (or bytes) per phase plane
	qstride int     // words per quad, bytes per byte plane: s*s*plen rounded up to 16
	pr      int     // output positions computed per filter (multiple of 16)
	used    []int   // the channels some group reads, ascending: quantized once per image
	bplane  []int   // [C]: a channel's byte plane (index into used), or -1
	gwords  int     // words of the largest group's interleaved input, slack included
	vinfo   []int32 // [2 * pr/16]: the output lanes of each vector (see i8KernelY)
	groups  []i8Group
	reach   int          // words a padded tile reads past its quad's start, at most
	sets    [2]i8QuadSet // the groups' distinct quads (int8_share.go): padded, compact
	swords  int          // words of the shared quads, slack included (0: none laid out)
	covered []bool
	zero    []float32
	// With groups on AMX tap rows (int8amx.go): vectors and output rows
	// per band, words per tap plane of a band, and the output lanes and
	// handoff offsets of whole vectors.
	tcv, trows, tps int
	vinfoF, voffF   []int32
	// next, when set (HandOff), is the conv this one's output goes to, in
	// next's packed input layout; packedIn marks the conv that takes it.
	next     *Int8Plan
	nextQ    [2]float32 // next's 1/scale and zero point
	packedIn bool
}

type i8Group struct {
	filters  []int
	quads    []int32   // [4*quads] byte offsets of the planes interleaved into each quad
	k4       int       // quads * taps
	w        []int32   // [len(filters)][k4] packed weights
	offs     []int32   // [k4] byte offsets of each (quad, tap) into the interleaved input
	yoff     []int32   // [len(filters)] where each filter's output plane starts
	qoff     []int32   // [len(filters)] with next: where its plane starts in next's input, shifted
	sc, bias []float32 // [len(filters)] dequantization
	flat     bool      // the group runs on the flat route (int8_flat.go)
	amx      bool      // the group runs on AMX (int8amx.go)
	taps     bool      // with amx: on tap rows of the byte planes (else gathered quads)
	ks       int       // with amx: steps of 16 words along K
	wa       []int32   // with amx: the weights as A tiles [filters rounded up to 16][16*ks]
	boffs    []int32   // with taps: each step's B tile, bytes into the tap planes
	qo       []int32   // [quads] byte offsets of its quads for the flat kernels
	// The same in the plan's shared quads (int8_share.go): its set, the
	// quads it interleaves there first (lo to hi), offs and qo.
	set, lo, hi int
	soffs, sqo  []int32
}

// Forward computes y = act(conv(x) + e's terms) as GroupPlan.Forward,
// with x quantized per tensor and the products in int8. After HandOff, x
// of the conv that takes a handoff holds its packed input (PackedLen
// floats' worth of bytes), and y of the conv that hands off holds the next
// conv's.
func (q *Int8Plan) Forward(x, y []float32, e *Epilogue, ws *Workspace) {
	p := q.p
	ho, wo := p.OutH(), p.OutW()
	hw := ho * wo
	var planes []byte
	if q.packedIn {
		planes = floatBytes(x[:q.PackedLen()])
	} else {
		_ = x[p.C*p.H*p.W-1]
		planes = q.pack(x, ws)
	}
	if q.next != nil {
		q.forwardNext(planes, floatBytes(y[:q.next.PackedLen()]), e, ws)
		return
	}
	_ = y[p.N*hw-1]
	q.walk(planes, e, ws,
		func(g *i8Group, b []byte, offs, qo []int32) { q.forwardY(g, b, offs, qo, y, e, ws) },
		func(n int, src []float32, sp int) { q.store(y[n*hw:], src, sp, n, e) })
}

// walk runs every group of the plan on planes, the packed input: a group
// the epilogue can be fused into through fused (on b, its quads at tap
// offsets offs or, flat, at quad offsets qo), the others through their
// tiles and then out for each filter's plane (pitch q.wq, e's planes
// added); then out for each channel no group computes (e's plane, or
// zeros, at pitch 0). out applies the rest of the epilogue and stores.
// The fusable groups read the plan's shared quads (int8_share.go) where
// it has them, the others their own; fusable groups on AMX tap rows
// (int8amx.go) get planes itself (offs and qo nil).
func (q *Int8Plan) walk(planes []byte, e *Epilogue, ws *Workspace, fused func(g *i8Group, b []byte, offs, qo []int32), out func(n int, src []float32, sp int)) {
	p := q.p
	ho, wo := p.OutH(), p.OutW()
	var shared, words []uint32
	if q.swords > 0 {
		shared = grow(&ws.i8t, q.swords)
	} else {
		words = grow(&ws.i8t, q.gwords)
	}
	allFus := e.Skip == nil && e.Planes == nil
	for gi := range q.groups {
		g := &q.groups[gi]
		fus := allFus || q.fusable(g, e)
		if shared != nil {
			st := &q.sets[g.set]
			if g.hi > g.lo { // every group's, fusable or not: later groups read them
				idx, dst := st.idx[4*g.lo:4*g.hi], shared[st.start+g.lo*st.qw:]
				if g.set == 1 {
					i8Cur.flat.inter(planes, idx, dst)
				} else {
					i8Cur.inter(q.qstride, planes, idx, dst)
				}
			}
			if fus && !g.taps {
				fused(g, wordBytes(shared)[4*st.start:], g.soffs, g.sqo)
				continue
			}
			words = grow(&ws.i8o, q.gwords)
		}
		if fus && g.taps { // AMX on tap rows: it reads the byte planes
			fused(g, planes, nil, nil)
			continue
		}
		q.interleave(g, planes, words, g.flat && fus)
		b := wordBytes(words)
		nf := len(g.filters)
		if fus {
			fused(g, b, g.offs, g.qo)
			continue
		}
		t := grow(&ws.s2, nf*q.pr)
		q.tiles(nf, func(i0, mr, j0, nv int) {
			i8Cur.kern(mr, nv, g.k4, g.w[i0*g.k4:], g.k4, b[4*j0:], g.offs, t[i0*q.pr+j0:], q.pr, g.sc[i0:], g.bias[i0:])
		})
		for fi, n := range g.filters {
			if e.Skip != nil && e.Skip[n] {
				continue
			}
			tn := t[fi*q.pr:]
			if e.Planes != nil && e.Planes[n] != nil {
				pl := e.Planes[n]
				for oy := range ho {
					row := tn[oy*q.wq : oy*q.wq+wo]
					for j, v := range pl[oy*wo : (oy+1)*wo] {
						row[j] += v
					}
				}
			}
			out(n, tn, q.wq)
		}
	}
	q.uncovered(e, out)
}

// wordBytes views a word slice as its bytes.
func wordBytes(w []uint32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(w))), 4*len(w))
}

// uncovered calls walk's out for each channel no group computes.
func (q *Int8Plan) uncovered(e *Epilogue, out func(n int, src []float32, sp int)) {
	p := q.p
	wo := p.OutW()
	for n := range p.N {
		if q.covered[n] || (e.Skip != nil && e.Skip[n]) {
			continue
		}
		src, sp := q.zero, 0
		if e.Planes != nil && e.Planes[n] != nil {
			src, sp = e.Planes[n], wo
		}
		out(n, src, sp)
	}
}

// i8RowMR returns the filters of the tile row starting at filter i0 of
// nf: the fewest rows of at most i8MaxMR, of even heights (7 filters run
// as 4 + 3, not 6 + 1, whose one-filter tiles load a vector per product).
func i8RowMR(nf, i0 int) int {
	rows := (nf + i8MaxMR - 1) / i8MaxMR
	base, extra := nf/rows, nf%rows
	// Rows 0..extra-1 have base+1 filters, the rest base.
	if i0 < extra*(base+1) {
		return base + 1
	}
	return base
}

// i8TileNV returns the width, in vectors, of tile ti of the n tiles that cut
// nvec vectors: the fewest tiles of at most i8NV(mr) vectors, of even
// widths (the first nvec%n one wider).
func i8TileNV(nvec, n, ti int) int {
	nv := nvec / n
	if ti < nvec%n {
		nv++
	}
	return nv
}

// tiles calls f on the tiles of nf filters by q.pr/16 vectors: filters
// i0..i0+mr-1 (rows of i8RowMR), positions j0..j0+16*nv-1.
func (q *Int8Plan) tiles(nf int, f func(i0, mr, j0, nv int)) {
	nvec := q.pr / 16
	for i0, mr := 0, i8RowMR(nf, 0); i0 < nf; i0, mr = i0+mr, i8RowMR(nf, i0+mr) {
		n := (nvec + i8NV(mr) - 1) / i8NV(mr)
		for ti, j0 := 0, 0; ti < n; ti++ {
			nv := i8TileNV(nvec, n, ti)
			f(i0, mr, j0, nv)
			j0 += 16 * nv
		}
	}
}

// fusable reports whether group g's epilogue runs inside the kernels
// (i8KernelY): none of its filters is skipped or has a bias plane.
func (q *Int8Plan) fusable(g *i8Group, e *Epilogue) bool {
	for _, n := range g.filters {
		if (e.Skip != nil && e.Skip[n]) || (e.Planes != nil && e.Planes[n] != nil) {
			return false
		}
	}
	return true
}

// forwardY runs group g's tiles with the epilogue fused, storing into y
// (its quads in b as walk's fused gets them).
func (q *Int8Plan) forwardY(g *i8Group, b []byte, offs, qo []int32, y []float32, e *Epilogue, ws *Workspace) {
	nf := len(g.filters)
	bias := grow(&ws.s3, nf)
	copy(bias, g.bias)
	if e.Bias != nil {
		for fi, n := range g.filters {
			bias[fi] += e.Bias[n]
		}
	}
	if g.flat { // fusable, so b holds the flat route's input (interleave)
		q.forwardFlatY(g, b, qo, y, e, bias)
		return
	}
	if g.amx {
		q.forwardAMXY(g, b, offs, y, e, bias, ws)
		return
	}
	kern, nvec := i8Cur.kernY, q.pr/16
	for i0, mr := 0, i8RowMR(nf, 0); i0 < nf; i0, mr = i0+mr, i8RowMR(nf, i0+mr) { // as q.tiles, a call per run of equal tiles
		a, yoff, sc, bi := g.w[i0*g.k4:], g.yoff[i0:], g.sc[i0:], bias[i0:]
		for _, r := range i8TileRuns(nvec, mr) {
			if r.nt == 0 {
				continue
			}
			kern(mr, r.nv, r.nt, g.k4, a, g.k4, b[64*r.v0:], offs, y, yoff, e.Add, q.vinfo[2*r.v0:], sc, bi, e.ReLU)
		}
	}
}

// i8Run is a run of nt tiles of nv vectors each, from vector v0.
type i8Run struct{ v0, nv, nt int }

// i8TileRuns returns the tiles of q.tiles' row of mr filters over nvec
// vectors as at most two runs of equal widths: the wider tiles first.
func i8TileRuns(nvec, mr int) [2]i8Run {
	n := (nvec + i8NV(mr) - 1) / i8NV(mr)
	w, wide := nvec/n, nvec%n // wide tiles of w+1 vectors, then n-wide of w
	return [2]i8Run{{0, w + 1, wide}, {wide * (w + 1), w, n - wide}}
}

// store writes output plane n from src (row pitch sp) through e.
func (q *Int8Plan) store(dst, src []float32, sp, n int, e *Epilogue) {
	ho, wo := q.p.OutH(), q.p.OutW()
	var b float32
	if e.Bias != nil {
		b = e.Bias[n]
	}
	var add []float32
	if e.Add != nil {
		add = e.Add[n*ho*wo : (n+1)*ho*wo]
	}
	biasActRows(dst, src, add, ho, wo, sp, wo, b, e.ReLU)
}

// epiAddRelu is the epilogue's last steps on one output value r at index d:
// plus add[d] when add is not nil, then max(r, 0) when relu.
func epiAddRelu(r float32, add []float32, d int, relu bool) float32 {
	if add != nil {
		r += add[d]
	}
	if relu {
		r = max(r, 0)
	}
	return r
}
