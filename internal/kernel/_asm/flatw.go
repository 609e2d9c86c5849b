package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// flatWSig is the signature of the kernFlat16 and kernFlat32 kernels
// (declared by hand in ../flat8_amd64.go).
const flatWSig = "func(nc int, w *float32, lda int, choffs *int32, x *float32, edge int, q0 int, c *float32, coffs *int, bias *float32, lo float32, add *float32)"

// flatWPos names the tile positions: the tile holding the plane's first
// rows (its taps above them are skipped), one inside, and the one holding
// its last rows.
var flatWPos = []string{"t", "m", "b"}

// flatW emits kernFlat<w>_<m><pos> (../flat8_amd64.s, with flat8) for
// planes w = 16 and 32 floats wide (and as high), m = 1 to flat8MaxM (but
// for w = 32 not the m of the kernFlat32h kernels, flatwh.go) and the
// three tile positions: flat8's kernel for a tile of flatTile(w, m)
// outputs (64: 4 rows of 16, or 2 rows of 32; more for one or two
// filters) of the unpadded plane, rows q0/w on. A
// vector is part of one row, so the masks are those of the row's first
// lane (dx = -1) and last (dx = +1), and the taps of the rows above the
// plane (top tile) or below it (bottom tile) are left out. As in flat8,
// loads reach one float outside the plane (the first row's tap at dx =
// -1, the last row's at dx = +1): planes within 16 floats of x's start
// or more than edge floats past it run a body that makes those from the
// plane's own vectors with VALIGND.
func flatW() {
	for _, w := range []int{16, 32} {
		for m := 1; m <= flat8MaxM; m++ {
			if w == 32 && m >= flatHalfMinM && m <= flatWReuseM {
				continue // kernFlat32h's (flatwh.go)
			}
			for pos := range flatWPos {
				flatWKernel(w, m, pos)
			}
		}
	}
}

func flatWKernel(width, m, pos int) {
	TEXT(fmt.Sprintf("kernFlat%d_%d%s", width, m, flatWPos[pos]), NOSPLIT, flatWSig)
	Pragma("noescape")
	Doc(fmt.Sprintf("kernFlat%d_%d%s is flatWGo for %d filters (tile position %q).", width, m, flatWPos[pos], m, flatWPos[pos]))
	nv := flatTile(width, m) / 16
	acc := func(i, v int) VecPhysical { return zmm[nv*i+v] }
	wr := zmm[24 : 24+m]
	bv := []VecPhysical{Z30, Z31}

	body := flatWBody
	if m <= flatWReuseM {
		body = flatWBodyRows
	}
	flatEdgeLoop(m, nv, pos, acc, func(l *flatLoop, safe bool) {
		body(width, m, pos, l.p, l.wa, acc, wr, bv, safe)
	})
	flatEnd(m, nv, acc, wr, true)
}

// flatEdgeLoop emits the channel loop of a whole-row flat kernel at tile
// position pos: the edge masks (K1 drops a row's first lane, dx = -1; K2
// its last, dx = +1), then per channel body(l, false), or body(l, true)
// for a plane within 16 floats of x's start or more than edge floats past
// it (only at the first and last positions).
func flatEdgeLoop(m, nv, pos int, acc func(i, v int) VecPhysical, body func(l *flatLoop, safe bool)) {
	Comment("K1 drops a row's first lane (dx = -1), K2 its last (dx = +1).")
	t := GP32()
	MOVL(U32(0xFFFE), t)
	KMOVW(t, K1)
	MOVL(U32(0x7FFF), t)
	KMOVW(t, K2)
	l := flatBegin(m, nv, acc, true)
	edge := Load(Param("edge"), GP64())
	l.head()
	if pos != 1 {
		CMPQ(l.off, U8(16))
		JLT(LabelRef("safe"))
		CMPQ(l.off, edge)
		JGT(LabelRef("safe"))
	}
	body(&l, false)
	if pos != 1 {
		JMP(LabelRef("next"))
		Label("safe")
		body(&l, true)
		Label("next")
	}
	l.next()
}

// flatStore emits the flat kernels' stores: max(sum + bias[i] (+ add),
// lo) to c + coffs[i] floats, four vectors a filter, add at the same
// index when ap is not nil, vector v at vp*v bytes. MAXPS returns its
// second source (the sum) when either is NaN.
func flatStore(m, nv int, acc func(i, v int) VecPhysical, wr []VecPhysical, c, ap Register, vp int) {
	bp := Load(Param("bias"), GP64())
	for i := range m {
		VBROADCASTSS(Mem{Base: bp, Disp: 4 * i}, wr[i])
	}
	lo := Z30
	VBROADCASTSS(paramAddr("lo"), lo)
	coffs := Load(Param("coffs"), GP64())
	r := GP64()
	store := func(withAdd bool) {
		for i := range m {
			MOVQ(Mem{Base: coffs, Disp: 8 * i}, r)
			SHLQ(U8(2), r)
			for v := range nv {
				VADDPS(wr[i], acc(i, v), acc(i, v))
				if withAdd {
					VADDPS(Mem{Base: ap, Index: r, Scale: 1, Disp: vp * v}, acc(i, v), acc(i, v))
				}
				VMAXPS(acc(i, v), lo, acc(i, v))
				VMOVUPS(acc(i, v), Mem{Base: c, Index: r, Scale: 1, Disp: vp * v})
			}
		}
	}
	TESTQ(ap, ap)
	JNZ(LabelRef("add"))
	store(false)
	VZEROUPPER()
	RET()
	Label("add")
	store(true)
	VZEROUPPER()
	RET()
}

// flatWBody emits one channel's taps of a tile of rows 64/width at p;
// with safe, the loads at the plane's first float minus one and last
// plus one are made inside the plane.
func flatWBody(width, m, pos int, p Register, wa func(i, tap int) Mem, acc func(i, v int) VecPhysical, wr, bv []VecPhysical, safe bool) {
	nvr := width / 16 // vectors per row
	rows := 4 / nvr
	n := 0
	for _, tap := range flatTapOrder {
		dy, dx := tap/3-1, tap%3-1
		for i := range m {
			VBROADCASTSS(wa(i, tap), wr[i])
		}
		for r := range rows {
			in := r + dy // input row, from the tile's first
			if pos == 0 && in < 0 || pos == 2 && in >= rows {
				continue // above or below the plane
			}
			for u := range nvr {
				v := r*nvr + u
				b := bv[n%2]
				n++
				k := flatWLoad(width, rows, pos, p, in, u, dx, b, safe)
				for i := range m {
					maskedFMA(b, wr[i], k, acc(i, v))
				}
			}
		}
	}
}

// flatWLoad loads into b vector u of input row in (from the tile's first,
// plane at p) shifted by dx, and returns the mask of its FMAs: K1 where
// the vector starts a row and dx = -1 (its lane 0 would read the row
// before), K2 where it ends one and dx = +1, nil otherwise. With safe,
// the two loads that would reach outside the plane (its first float
// minus one, its last plus one) are made from the plane's own vector with
// VALIGND instead.
func flatWLoad(width, rows, pos int, p Register, in, u, dx int, b VecPhysical, safe bool) Op {
	nvr := width / 16
	var k Op
	switch {
	case dx == -1 && u == 0:
		k = K1
	case dx == 1 && u == nvr-1:
		k = K2
	}
	switch {
	case safe && pos == 0 && in == 0 && u == 0 && dx == -1:
		VMOVUPS(Mem{Base: p}, b) // lane l = row[l-1]
		VALIGND_Z(U8(15), b, b, K1, b)
	case safe && pos == 2 && in == rows-1 && u == nvr-1 && dx == 1:
		VALIGND_Z(U8(1), Mem{Base: p, Disp: 4 * (in*width + 16*u)}, b, K2, b) // lane l = row[l+1]
	default:
		VMOVUPS(Mem{Base: p, Disp: 4 * (in*width + 16*u + dx)}, b)
	}
	return k
}

// flatTapOrder is the order in which every flat kernel sums a channel's
// taps into an output: column shift dx outer, row shift dy inner, as the
// row bodies (flat8BodyRows, flatWBodyRows) meet them, so that a block's
// results are the same bits whatever its size (a conv split over two
// threads blocks its filters differently).
var flatTapOrder = [9]int{0, 3, 6, 1, 4, 7, 2, 5, 8}

// flatWReuseM is the most filters of the kernels whose input rows are
// loaded once per column shift (flatWBodyRows): their 4*m accumulators,
// 3*m weights and two input vectors fit the 32 registers up to m = 4.
const flatWReuseM = 4

// flatWBodyRows is flatWBody with each input row loaded once per column
// shift dx instead of once per tap: row in of the tile serves the taps
// (dy, dx) of output rows in-dy, dy = -1, 0, +1, whose 3*m weights are
// broadcast first (into Z16 on, above the 4*m accumulators). A tile of 4
// rows of 16 then loads 6 rows a shift, not 12 (2 rows of 32: 8 vectors,
// not 12); one-filter and two-filter blocks, whose loads outnumbered
// their FMAs, ran load-bound. Each accumulator sums its taps in
// flatTapOrder.
func flatWBodyRows(width, m, pos int, p Register, wa func(i, tap int) Mem, acc func(i, v int) VecPhysical, _, bv []VecPhysical, safe bool) {
	nvr := width / 16 // vectors per row
	rows := flatTile(width, m) / width
	wr := func(i, dy int) VecPhysical { return zmm[16+3*i+dy+1] }
	n := 0
	for dx := -1; dx <= 1; dx++ {
		for i := range m {
			for dy := -1; dy <= 1; dy++ {
				VBROADCASTSS(wa(i, 3*(dy+1)+dx+1), wr(i, dy))
			}
		}
		for in := -1; in <= rows; in++ { // input row, from the tile's first
			if pos == 0 && in < 0 || pos == 2 && in >= rows {
				continue // above or below the plane
			}
			for u := range nvr {
				b := bv[n%2]
				n++
				k := flatWLoad(width, rows, pos, p, in, u, dx, b, safe)
				for dy := 1; dy >= -1; dy-- {
					r := in - dy // the output row this load serves at tap dy
					if r < 0 || r >= rows {
						continue
					}
					for i := range m {
						maskedFMA(b, wr(i, dy), k, acc(i, r*nvr+u))
					}
				}
			}
		}
	}
}

// flatTile is the outputs of a tile of the kernFlat<width>_<m> kernels
// (must match kernel.flatTile): 64 (four vectors a filter), but 128 for
// two filters and 256 for one (at most half a plane), whose four
// accumulators a filter left the loads, shared by three rows each, too
// few FMAs to hide.
func flatTile(width, m int) int {
	t := 64
	switch m {
	case 1:
		t = 256
	case 2:
		t = 128
	}
	return min(t, width*width/2)
}

// flatWeights loads the flat kernels' weight pointers: w is filter 0's
// row of the block ([m][nc][9], rows lda floats apart, as the group's
// own weights: a plan keeps and never copies them, since its caller may
// change them after building it), w3 filter 3's; wa(i, tap) addresses
// the weight of filter i and tap (w and w3 advance 9 floats a channel).
func flatWeights() (w, w3 Register, wa func(i, tap int) Mem) {
	w = Load(Param("w"), GP64())
	s := Load(Param("lda"), GP64())
	SHLQ(U8(2), s)
	w3 = GP64()
	LEAQ(Mem{Base: w, Index: s, Scale: 2}, w3)
	ADDQ(s, w3)
	return w, w3, func(i, tap int) Mem {
		d := 4 * tap
		switch i {
		case 0:
			return Mem{Base: w, Disp: d}
		case 1, 2, 4:
			return Mem{Base: w, Index: s, Scale: uint8(i), Disp: d}
		case 3:
			return Mem{Base: w3, Disp: d}
		default: // 5
			return Mem{Base: w3, Index: s, Scale: 2, Disp: d}
		}
	}
}
