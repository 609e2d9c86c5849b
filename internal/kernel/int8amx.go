package kernel

import "sync"

// This file holds the AMX route of Int8Plan: a group's products on the
// AMX-INT8 tiles (TDPBSUD: signed weight bytes times unsigned activation
// bytes into int32 tiles of 16x16) instead of VPDPBUSD, for CPUs that
// have them (Intel Sapphire Rapids and later). A tile product costs the
// same whatever the share of its rows (filters) and K bytes in use, so
// it pays only for groups that fill most of 16 filters and 64 bytes of
// K; the smaller groups of pruned networks stay on VPDPBUSD.
//
// The weights are A tiles (16 filters, a row of 64 bytes per step along
// K, zero padded), the input B tiles (16 rows of K quads, 16 positions
// each), in one of two forms:
//
//   - tap rows (3x3 stride-1 pad-1 convs of planes 8 or 16k wide): for
//     each of the group's channel slots (its quads' four channels each)
//     and each input row, a row of words holding the byte plane's three
//     taps (and one more, zero weighted) at each output column
//     (i8AMXImpl.taps, one band of output rows at a time). A B tile is 16
//     slots' words for one kernel row ky, at one stride (the tap planes'),
//     read in place: step 3*cb+ky covers slots 16cb.. at row ky. Outputs
//     are whole vectors of consecutive pixels (no halo columns).
//   - gathered rows (every other conv): the group's interleaved quads
//     (int8.go), each (quad, tap) row of 16*nv positions copied into a
//     buffer (i8AMXImpl.gather), 16 rows a step, on the padded pitch.
//
// i8AMXImpl.blocks multiplies them 16 filters by 64 positions (four C
// tiles, amxI8Wide) or 32 by 32 (2x2, amxI8Blocks2), and the int32 sums go
// through the epilogue of the VPDPBUSD kernels (i8AMXImpl.epiY, epiQ,
// epiQF: the same arithmetic on the same exact sums, so that the AMX
// route's output has the same bits as the VPDPBUSD route's).
//
// A group runs on AMX where measured faster, per process, implementation
// and group shape, than on the route it would take otherwise (tuneI8AMX);
// SetInt8AMX forces the route on or off. It runs only where the CPU has AMX-INT8 and the
// OS grants the tile state (Int8AMX), unless forced (then on the pure-Go
// form of the same steps where AMX is missing).

const (
	i8AMXChunk = 8 // vectors of 16 positions per chunk of gathered rows (multiple of 4)
	i8AMXBand  = 8 // vectors per band of tap rows at most (multiple of 4)
	i8AMXStep  = 16
)

// i8AMXImpl is one implementation of the AMX route's steps.
type i8AMXImpl struct {
	// gather copies, for k < k4, the nv*64 bytes at b[offs[k]:] to
	// dst[k*ldd:].
	gather func(k4 int, b []byte, offs []int32, nv int, dst []byte, ldd int)
	// taps writes, for each of n byte planes (at idx[s] of planes, rows
	// wq bytes apart), rows rows of w words, word x of row r holding the
	// bytes at r*wq+x .. r*wq+x+3, to dst[s*ps+r*w+x].
	taps func(n int, planes []byte, idx []int32, rows, wq, w int, dst []uint32, ps int)
	// blocks computes, for 32*nb columns p (nb even where mt = 1), the
	// 16*mt rows i of c[i*ldc+p] = the sum over steps s < ks and k < 16
	// of the four products of the signed bytes of a[i*lda+16*s+k] and the
	// unsigned bytes b[boffs[s]+k*ldb+4*p:][:4] (lda, ldc in words; ldb,
	// boffs in bytes).
	blocks func(mt int, a []int32, lda int, b []byte, boffs []int32, ldb int, c []int32, ldc int, ks, nb int)
	// epiY is i8KernelY's epilogue on mr rows of nv vectors of sums
	// c[i*ldc+16*v+l].
	epiY func(mr, nv int, c []int32, ldc int, y []float32, yoff []int32, add []float32, vinfo []int32, sc, bias []float32, relu bool)
	// epiQ is i8KernelQ's epilogue on the same sums.
	epiQ func(mr, nv int, c []int32, ldc int, y []byte, yoff []int32, add []float32, aoff []int32, vinfo []int32, sc, bias []float32, q *[2]float32, relu bool)
	// epiQF is epiQ on whole vectors of consecutive outputs: the residual
	// at add[aoff[i]+16*v+l], lanes 0-7 and 8-15 of vector v to bytes
	// y[yoff[i]+voff[2*v]:] and y[yoff[i]+voff[2*v+1]:].
	epiQF func(mr, nv int, c []int32, ldc int, y []byte, yoff []int32, add []float32, aoff []int32, voff []int32, sc, bias []float32, q *[2]float32, relu bool)
}

// i8AMXState is the AMX-INT8 probe, run once.
var i8AMXState struct {
	once sync.Once
	ok   bool
	why  string
}

// Int8AMX reports whether the int8 convolutions may run on AMX-INT8 here
// (the CPU has AMX-TILE, AMX-INT8 and AVX512_VNNI, the OS granted the
// tile state, and the build has assembly) and, when not, why.
func Int8AMX() (bool, string) {
	i8AMXState.once.Do(func() { i8AMXState.ok, i8AMXState.why = i8AMXProbe() })
	return i8AMXState.ok, i8AMXState.why
}

// i8AMXMode forces the AMX route on (1) or off (-1) for the Int8Plans
// built from now on; 0 (the default) leaves it to tuneI8AMX where
// Int8AMX allows it.
var i8AMXMode int

// SetInt8AMX forces the AMX route of Int8Plan on (1: on the generated
// kernels where Int8AMX allows them, else on their pure-Go form) or off
// (-1) for the plans built from now on, or leaves it to the measurement
// per group shape (0, the default; never where Int8AMX is false, on the
// pure-Go implementation, or where SetInt8Flat forces the flat route on
// or off), and returns the previous setting. It must not be called while an Int8Plan is being
// built.
func SetInt8AMX(mode int) (was int) {
	was, i8AMXMode = i8AMXMode, mode
	return was
}

// setAMX chooses, for each group of q, whether it runs on AMX (after
// setFlat, before share).
func (q *Int8Plan) setAMX() {
	if i8AMXMode < 0 {
		return
	}
	if ok, _ := Int8AMX(); i8AMXMode == 0 && (!ok || i8Cur.name == i8ImplGo.name || i8FlatMode != 0) {
		return // no AMX (or pure Go), or a test or benchmark forces the flat route on or off
	}
	for gi := range q.groups {
		g := &q.groups[gi]
		if i8AMXMode > 0 || i8AMXFaster(q.p, len(g.filters), len(g.quads)/4, g.flat) {
			q.amxPrepare(g)
		}
	}
}

// amxTapsOK reports whether p's groups on AMX read tap rows (taps, no
// halo columns): 3x3, stride 1, pad 1, planes 8 or a multiple of 16 wide
// whose outputs fill whole vectors.
func amxTapsOK(p Conv) bool {
	return p.KH == 3 && p.KW == 3 && p.Stride == 1 && p.Pad == 1 && (p.W == 8 || p.W%16 == 0) && p.H*p.W%16 == 0
}

// amxPrepare puts group g on AMX: its weights as A tiles (rows of 16*ks
// words, K padded with zeros to whole steps, the filters to a multiple
// of 16) in the order of its B rows: the gathered (quad, tap) rows, or
// where amxTapsOK the tap rows (step 3*cb+ky: the three taps of kernel row
// ky of the group's 16 channel slots 16cb.., a zero fourth), and the
// plan's tables for the latter.
func (q *Int8Plan) amxPrepare(g *i8Group) {
	g.amx, g.flat = true, false
	nf := len(g.filters)
	if !amxTapsOK(q.p) {
		g.ks = (g.k4 + i8AMXStep - 1) / i8AMXStep
		lda := g.ks * i8AMXStep
		g.wa = make([]int32, (nf+15)/16*16*lda)
		for i := range nf {
			copy(g.wa[i*lda:i*lda+g.k4], g.w[i*g.k4:(i+1)*g.k4])
		}
		return
	}
	g.taps = true
	q.amxTapTables()
	nc := len(g.quads) // channel slots
	ncb := (nc + 15) / 16
	g.ks = 3 * ncb
	lda := g.ks * i8AMXStep
	g.wa = make([]int32, (nf+15)/16*16*lda)
	g.boffs = make([]int32, g.ks)
	for cb := range ncb {
		for ky := range 3 {
			s := 3*cb + ky
			g.boffs[s] = int32(4 * (cb*16*q.tps + ky*q.p.W))
			for i := range nf {
				for c := cb * 16; c < min(nc, cb*16+16); c++ {
					var w uint32
					for kx := range 3 {
						b := uint8(g.w[i*g.k4+(c/4)*9+3*ky+kx] >> (8 * (c % 4)))
						w |= uint32(b) << (8 * kx)
					}
					g.wa[i*lda+16*s+c-cb*16] = int32(w)
				}
			}
		}
	}
}

// amxTapTables sets the plan's tables for groups on tap rows, once: the
// tap planes' words (tps), the output lanes of whole vectors (vinfoF, as
// vinfo) and, for the handoff, each vector's two halves' byte offsets in
// an output plane of the padded pitch (voffF).
func (q *Int8Plan) amxTapTables() {
	if q.vinfoF != nil {
		return
	}
	p := q.p
	nv := p.H * p.W / 16
	// Bands of whole output rows (the tap planes of a band stay in L1):
	// up to i8AMXBand vectors, a multiple of 4 (amxI8Wide's 64 columns),
	// else the whole plane in one band.
	q.tcv = min(i8AMXBand, (nv+3)&^3)
	q.trows = p.H
	if 16*q.tcv%p.W == 0 {
		q.trows = min(p.H, 16*q.tcv/p.W)
	} else {
		q.tcv = (nv + 3) &^ 3
	}
	q.tps = (q.trows+2)*p.W + 64
	q.vinfoF = make([]int32, 2*nv)
	q.voffF = make([]int32, 2*nv)
	for v := range nv {
		q.vinfoF[2*v], q.vinfoF[2*v+1] = -1, int32(16*v)
		for h := range 2 {
			j := 16*v + 8*h
			q.voffF[2*v+h] = int32(j/p.W*q.wq + j%p.W)
		}
	}
}

// amxRun runs group g's products on AMX, chunk by chunk, and hands each
// chunk's sums to store: filters f0..f0+mr-1, vectors v0..v0+nv-1 (of the
// padded pitch, or with taps of the plane), sums c[i*ldc+16*v'+l] of
// filter f0+i and vector v0+v'. Its input in is the interleaved quads at
// tap offsets offs, or with taps the byte planes.
func (q *Int8Plan) amxRun(g *i8Group, in []byte, offs []int32, ws *Workspace, store func(f0, mr, v0, nv int, c []int32, ldc int)) {
	im := i8Cur.amx()
	nf := len(g.filters)
	lda := g.ks * i8AMXStep
	var b []byte
	var boffs []int32
	var ldb, nvec, cv int
	var tp []uint32
	if g.taps {
		nvec, cv = q.p.H*q.p.W/16, q.tcv
		tp = grow(&ws.i8g, (len(g.quads)+15)/16*16*q.tps)
		b, boffs, ldb = wordBytes(tp), g.boffs, 4*q.tps
	} else {
		nvec = q.pr / 16
		cv = min(i8AMXChunk, (nvec+3)&^3)
		ldb = 64 * cv
		b = wordBytes(grow(&ws.i8g, g.ks*i8AMXStep*ldb/4))
		boffs = grow(&ws.i8s, g.ks)
		for s := range boffs {
			boffs[s] = int32(s * i8AMXStep * ldb)
		}
	}
	ldc := 16*cv + 16 // rows an odd number of cache lines apart
	c := grow(&ws.i8c, 32*ldc)
	for v0 := 0; v0 < nvec; v0 += cv {
		nv := min(cv, nvec-v0)
		if g.taps { // the band's rows of output, and two more
			r0 := 16 * v0 / q.p.W
			im.taps(len(g.quads), in[r0*q.wq:], g.quads, min(q.trows, q.p.H-r0)+2, q.wq, q.p.W, tp, q.tps)
		} else {
			im.gather(g.k4, in[64*v0:], offs, nv, b, ldb)
		}
		for f0 := 0; f0 < nf; f0 += 32 {
			mt, nb := 1, (nv+3)/4*2 // even: 64 columns at a time (amxI8Wide)
			if nf-f0 > 16 {
				mt, nb = 2, (nv+1)/2
			}
			im.blocks(mt, g.wa[f0*lda:], lda, b, boffs, ldb, c, ldc, g.ks, nb)
			store(f0, min(16*mt, nf-f0), v0, nv, c, ldc)
		}
	}
}

// forwardAMXY is forwardY for a group on AMX.
func (q *Int8Plan) forwardAMXY(g *i8Group, in []byte, offs []int32, y []float32, e *Epilogue, bias []float32, ws *Workspace) {
	epi, vinfo := i8Cur.amx().epiY, q.vinfo
	if g.taps {
		vinfo = q.vinfoF
	}
	q.amxRun(g, in, offs, ws, func(f0, mr, v0, nv int, c []int32, ldc int) {
		epi(mr, nv, c, ldc, y, g.yoff[f0:], e.Add, vinfo[2*v0:], g.sc[f0:], bias[f0:], e.ReLU)
	})
}

// forwardAMXQ is forwardQ for a group on AMX.
func (q *Int8Plan) forwardAMXQ(g *i8Group, in []byte, offs []int32, out []byte, e *Epilogue, bias []float32, ws *Workspace) {
	im := i8Cur.amx()
	if g.taps {
		q.amxRun(g, in, offs, ws, func(f0, mr, v0, nv int, c []int32, ldc int) {
			add := e.Add
			if add != nil {
				add = add[16*v0:]
			}
			im.epiQF(mr, nv, c, ldc, out, g.qoff[f0:], add, g.yoff[f0:], q.voffF[2*v0:], g.sc[f0:], bias[f0:], &q.nextQ, e.ReLU)
		})
		return
	}
	q.amxRun(g, in, offs, ws, func(f0, mr, v0, nv int, c []int32, ldc int) {
		im.epiQ(mr, nv, c, ldc, out[16*v0:], g.qoff[f0:], e.Add, g.yoff[f0:], q.vinfo[2*v0:], g.sc[f0:], bias[f0:], &q.nextQ, e.ReLU)
	})
}
