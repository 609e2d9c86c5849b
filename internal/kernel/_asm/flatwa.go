package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// flatOneRows is the rows of a kernFlat32a_1 tile (16 accumulators; a
// kernFlat16a_1 tile is the whole plane, 16 rows of one vector).
const flatOneRows = 8

// flatOne emits kernFlat32a_1<pos> and kernFlat16a_1w (../flat8_amd64.s,
// with flat8): the kernels of a group of one filter on 32x32 planes, a
// tile of flatOneRows whole rows from float q0 on, and on 16x16 planes,
// the whole plane (position w: no rows above or below it). The
// kernFlat32_1 kernels load
// each input row once per column shift (three loads a row and channel,
// each feeding three FMAs) and ran load-bound at 64% of the FMA peak.
// Here each input row is loaded once per channel, aligned, and the
// column shifts dx = -1 and +1 are made from its two vectors with
// VALIGND (a shuffle, not a load): two loads and four shuffles for 18
// FMAs. Its nine weights stay in registers, and each input row feeds
// all nine taps of the three output rows it serves, so an output sums
// its taps in the natural order (tap t = 3*(dy+1) + dx+1 ascending,
// flatOneTapOrder), not in flatTapOrder: its results differ in rounding
// from those of a block of one filter of a larger group, and the plans
// run it only for groups of one filter (which are never split).
// The loads stay inside the plane, so there is no safe body.
func flatOne() {
	for pos := range flatWPos {
		flatOneKernel(32, pos)
	}
	flatOneKernel(16, flatOneWhole)
}

// flatOneWhole is the tile position of a tile that is the whole plane.
const flatOneWhole = 3

func flatOneKernel(width, pos int) {
	nvr, rows, name := width/16, flatOneRows, "w"
	if pos != flatOneWhole {
		name = flatWPos[pos]
	} else {
		rows = width
	}
	top, bottom := pos == 0 || pos == flatOneWhole, pos == 2 || pos == flatOneWhole
	TEXT(fmt.Sprintf("kernFlat%da_1%s", width, name), NOSPLIT, flatWSig)
	Pragma("noescape")
	Doc(fmt.Sprintf("kernFlat%da_1%s is flatOneGo on a tile of %d rows of a %dx%d plane (tile position %q).", width, name, rows, width, width, name))
	acc := func(_, v int) VecPhysical { return zmm[v] }
	wr := func(t int) VecPhysical { return zmm[16+t] }
	a := []VecPhysical{Z25, Z26}
	sh := []VecPhysical{Z27, Z28}

	Comment("K1 drops a row's first lane (dx = -1), K2 its last (dx = +1).")
	t := GP32()
	MOVL(U32(0xFFFE), t)
	KMOVW(t, K1)
	MOVL(U32(0x7FFF), t)
	KMOVW(t, K2)
	l := flatBegin(1, nvr*rows, acc, true)
	l.head()
	for tap := range 9 {
		VBROADCASTSS(l.wa(0, tap), wr(tap))
	}
	n := 0
	for in := -1; in <= rows; in++ { // input row, from the tile's first
		if top && in < 0 || bottom && in >= rows {
			continue // above or below the plane
		}
		for u := range nvr {
			VMOVUPS(Mem{Base: l.p, Disp: 4 * (in*width + 16*u)}, a[u])
		}
		for dx := -1; dx <= 1; dx++ {
			for u := range nvr {
				v, k := a[u], Op(nil)
				switch dx {
				case -1: // lane l = row[16u+l-1]; lane 0 of u = 0 masked
					v = sh[n%2]
					n++
					VALIGND(U8(15), a[max(u-1, 0)], a[u], v)
					if u == 0 {
						k = K1
					}
				case 1: // lane l = row[16u+l+1]; lane 15 of the last masked
					v = sh[n%2]
					n++
					VALIGND(U8(1), a[u], a[min(u+1, nvr-1)], v)
					if u == nvr-1 {
						k = K2
					}
				}
				for dy := -1; dy <= 1; dy++ {
					r := in - dy // the output row this vector serves at tap (dy, dx)
					if r < 0 || r >= rows {
						continue
					}
					maskedFMA(v, wr(3*(dy+1)+dx+1), k, acc(0, r*nvr+u))
				}
			}
		}
	}
	l.next()
	flatEnd(1, nvr*rows, acc, zmm[24:25], true)
}
