package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// flatS2Pos names the tile positions of the stride-2 kernels: the tile
// holding the plane's first output rows (their taps above the plane are
// left out) and one below it. The taps of a stride-2 conv reach only up
// and left (see flatS2), so no tile needs a bottom form.
var flatS2Pos = []string{"t", "m"}

// flatS2 emits kernFlatS2_<wo>_<m><pos> (../flat8_amd64.s, with flat8)
// for outputs wo = 8 and 16 floats wide (inputs of 16 and 32), m = 1 to
// flat8MaxM and the tile positions: the 3x3, stride-2, pad-1 convolution
// of m filters over nc channels, a tile of 64 outputs (the whole 8x8
// plane, or 4 rows of 16) from output q0 on. Each channel's input comes
// as its four phase planes of wo x wo floats, one after the other (phase
// 2*py+px holds the input pixels (2*oy+py, 2*ox+px)), so that tap (ky,
// kx) of output (oy, ox) is phase (ky != 1, kx != 1) at (oy+dy, ox+dx),
// dy = -1 for ky = 0 and 0 otherwise (dx likewise): every tap is a
// flat load of a phase plane shifted by wo*dy+dx, and the FMAs are
// merge-masked to drop the lanes whose source row or column is above or
// left of the plane. A shifted load reaches at most wo+1 floats before
// its phase plane, which is the phase before it (phases with dy or dx =
// -1 are never the first), so the loads stay inside the channel's four
// planes. Weights are the group's own, [m][nc][9] with rows lda floats
// apart, the taps summed in flatTapOrder, and the tile leaves as
// max(sum + bias[i] (+ add), lo) to c + coffs[i] + q0 floats.
func flatS2() {
	for _, wo := range []int{8, 16} {
		for m := 1; m <= flat8MaxM; m++ {
			for pos := range flatS2Pos {
				if wo == 8 && pos == 1 {
					continue // one tile is the whole plane
				}
				flatS2Kernel(wo, m, pos)
			}
		}
	}
}

func flatS2Kernel(wo, m, pos int) {
	TEXT(fmt.Sprintf("kernFlatS2_%d_%d%s", wo, m, flatS2Pos[pos]), NOSPLIT, flatWSig)
	Pragma("noescape")
	Doc(fmt.Sprintf("kernFlatS2_%d_%d%s is flatS2Go for %d filters (tile position %q).", wo, m, flatS2Pos[pos], m, flatS2Pos[pos]))
	acc := func(i, v int) VecPhysical { return zmm[4*i+v] }
	wr := zmm[24 : 24+m]
	bv := []VecPhysical{Z30, Z31}

	masks, order := flatS2Masks(wo, pos)
	Comment("Lane masks of the taps that reach above or left of the plane.")
	t := GP32()
	for _, bits := range order {
		MOVL(U32(bits), t)
		KMOVW(t, masks[bits])
	}
	l := flatBegin(m, 4, acc, true)
	l.head()
	flatS2Body(wo, m, pos, l.p, l.wa, acc, wr, bv, masks)
	l.next()
	flatEnd(m, 4, acc, wr, true)
}

// flatS2Lanes returns the lanes of vector v of a tile at position pos
// whose tap shifted by (dy, dx) reads inside the plane.
func flatS2Lanes(wo, pos, v, dy, dx int) uint32 {
	var bits uint32
	for l := range 16 {
		q := 16*v + l
		oy, ox := q/wo, q%wo
		if pos == 0 && oy+dy < 0 || ox+dx < 0 {
			continue
		}
		bits |= 1 << l
	}
	return bits
}

// flatS2Masks assigns a mask register to every partial lane set the taps
// of a tile at pos need, listing the sets in order of first use.
func flatS2Masks(wo, pos int) (masks map[uint32]Op, order []uint32) {
	ks := []Op{K1, K2, K3, K4, K5, K6, K7}
	masks = map[uint32]Op{}
	for v := range 4 {
		for dy := -1; dy <= 0; dy++ {
			for dx := -1; dx <= 0; dx++ {
				b := flatS2Lanes(wo, pos, v, dy, dx)
				if _, ok := masks[b]; !ok && b != 0 && b != 0xFFFF {
					masks[b] = ks[len(masks)]
					order = append(order, b)
				}
			}
		}
	}
	return masks, order
}

// flatS2Body emits one channel's taps (phase planes at p) in
// flatTapOrder.
func flatS2Body(wo, m, pos int, p Register, wa func(i, tap int) Mem, acc func(i, v int) VecPhysical, wr, bv []VecPhysical, masks map[uint32]Op) {
	hw := wo * wo
	n := 0
	for _, tap := range flatTapOrder {
		ky, kx := tap/3, tap%3
		phase := 0
		if ky != 1 {
			phase += 2
		}
		if kx != 1 {
			phase++
		}
		dy, dx := min(0, ky-1), min(0, kx-1)
		for i := range m {
			VBROADCASTSS(wa(i, tap), wr[i])
		}
		for v := range 4 {
			bits := flatS2Lanes(wo, pos, v, dy, dx)
			if bits == 0 {
				continue
			}
			b := bv[n%2]
			n++
			VMOVUPS(Mem{Base: p, Disp: 4 * (phase*hw + 16*v + wo*dy + dx)}, b)
			for i := range m {
				if k, ok := masks[bits]; ok {
					VFMADD231PS(b, wr[i], k, acc(i, v))
				} else {
					VFMADD231PS(b, wr[i], acc(i, v))
				}
			}
		}
	}
}
