package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// flatHalfRows is the rows of a kernFlat32h tile (four accumulators a
// filter).
const flatHalfRows = 4

// flatHalfMinM is the fewest filters of the kernFlat32h kernels: tiles of
// 16 rows for one filter and 8 for two (their 16 accumulators) were no
// faster than the kernFlat32 ones of 8 and 4 whole rows (one filter: 5%
// slower).
const flatHalfMinM = 3

// flatHalf emits kernFlat32h_<m><pos><u> (../flat8_amd64.s, with flat8)
// for m = flatHalfMinM to flatWReuseM filters: flatWBodyRows on 32x32 planes with a tile of
// one column half u (vector u of each row) of flatHalfRows rows, as the
// kernFlat16 tiles of four rows of one vector, instead of two whole
// rows. Each shift then loads 6 vectors for the tile's 4, not 8: the
// two-row tiles of 32x32 planes ran 10% slower per FMA than the
// four-row ones of 16x16 planes (BenchmarkFlatBlocks). The tile's outputs
// are vectors 128 bytes apart; q0 is its first (row r0, column 16*u).
func flatHalf() {
	for m := flatHalfMinM; m <= flatWReuseM; m++ {
		for pos := range flatWPos {
			for u := range 2 {
				flatHalfKernel(m, pos, u)
			}
		}
	}
}

func flatHalfKernel(m, pos, u int) {
	const width = 32
	nv := flatHalfRows
	TEXT(fmt.Sprintf("kernFlat32h_%d%s%d", m, flatWPos[pos], u), NOSPLIT, flatWSig)
	Pragma("noescape")
	Doc(fmt.Sprintf("kernFlat32h_%d%s%d is flatWGo for %d filters on column half %d of %d rows (tile position %q).", m, flatWPos[pos], u, m, u, nv, flatWPos[pos]))
	acc := func(i, v int) VecPhysical { return zmm[nv*i+v] }
	bv := []VecPhysical{Z30, Z31}

	flatEdgeLoop(m, nv, pos, acc, func(l *flatLoop, safe bool) {
		flatHalfBody(m, pos, u, l.p, l.wa, acc, bv, safe)
	})
	flatEndPitch(m, nv, acc, zmm[24:24+m], true, 4*width)
}

// flatHalfBody is flatWBodyRows for a tile of column half u, rows
// flatHalfRows, of a 32x32 plane (tile at p): per shift dx, input row in
// (from the tile's first) serves the taps (dy, dx) of output rows in-dy.
func flatHalfBody(m, pos, u int, p Register, wa func(i, tap int) Mem, acc func(i, v int) VecPhysical, bv []VecPhysical, safe bool) {
	const width = 32
	const rows = flatHalfRows
	wr := func(i, dy int) VecPhysical { return zmm[16+3*i+dy+1] }
	n := 0
	for dx := -1; dx <= 1; dx++ {
		for i := range m {
			for dy := -1; dy <= 1; dy++ {
				VBROADCASTSS(wa(i, 3*(dy+1)+dx+1), wr(i, dy))
			}
		}
		for in := -1; in <= rows; in++ {
			if pos == 0 && in < 0 || pos == 2 && in >= rows {
				continue // above or below the plane
			}
			b := bv[n%2]
			n++
			var k Op
			switch {
			case dx == -1 && u == 0:
				k = K1
			case dx == 1 && u == 1:
				k = K2
			}
			switch {
			case safe && pos == 0 && in == 0 && u == 0 && dx == -1:
				VMOVUPS(Mem{Base: p}, b) // lane l = row[l-1]
				VALIGND_Z(U8(15), b, b, K1, b)
			case safe && pos == 2 && in == rows-1 && u == 1 && dx == 1:
				VALIGND_Z(U8(1), Mem{Base: p, Disp: 4 * in * width}, b, K2, b) // lane l = row[l+1]
			default:
				VMOVUPS(Mem{Base: p, Disp: 4 * (in*width + dx)}, b)
			}
			for dy := 1; dy >= -1; dy-- {
				r := in - dy
				if r < 0 || r >= rows {
					continue
				}
				for i := range m {
					maskedFMA(b, wr(i, dy), k, acc(i, r))
				}
			}
		}
	}
}
