package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// flatLoop holds the registers of a flat kernel's loop over its block's
// channels (flat8, flatW, flatS2): the channel count nc, the weight
// pointers of flatWeights, cs (set by channelMajor; nil: 36), the bytes
// from one channel's weights to the next, the channel offsets co, the
// input x (at the tile's first output for tiled kernels), and off and p, a
// channel's offset and its plane at the tile.
type flatLoop struct {
	nc, w, w3, cs, co, x, off, p Register
	wa                           func(i, tap int) Mem
}

// flatBegin emits a flat kernel's start: its m*nv accumulators zeroed,
// the loop's registers loaded (x moved q0 floats on for a tiled kernel),
// and a jump to "store" when the block reads no channel.
func flatBegin(m, nv int, acc func(i, v int) VecPhysical, tiled bool) flatLoop {
	for i := range m {
		for v := range nv {
			VPXORD(acc(i, v), acc(i, v), acc(i, v))
		}
	}
	var l flatLoop
	l.nc = Load(Param("nc"), GP64())
	l.w, l.w3, l.wa = flatWeights()
	l.co = Load(Param("choffs"), GP64())
	l.x = Load(Param("x"), GP64())
	if tiled {
		q0 := Load(Param("q0"), GP64())
		LEAQ(Mem{Base: l.x, Index: q0, Scale: 4}, l.x) // the tile's first output
	}
	l.off, l.p = GP64(), GP64()
	TESTQ(l.nc, l.nc)
	JZ(LabelRef("store"))
	return l
}

// channelMajor emits the setting of l.cs for a kernel of m filters that
// also takes its weights channel-major: 36 bytes a channel for rows of
// [nc][9] lda floats apart, 36*m for lda 9, the layout [nc][m][9] of
// kernel.flatPackLDA (the 8x8 kernels).
func (l *flatLoop) channelMajor(m int) {
	l.cs = Load(Param("lda"), GP64())
	cm := GP64()
	MOVQ(U32(36*m), cm)
	CMPQ(l.cs, U8(9))
	MOVQ(U32(36), l.cs) // flags kept
	CMOVQEQ(cm, l.cs)
}

// head emits the loop's head: label "chan", and p set to the next
// channel's plane.
func (l flatLoop) head() {
	Label("chan")
	MOVLQSX(Mem{Base: l.co}, l.off)
	LEAQ(Mem{Base: l.x, Index: l.off, Scale: 4}, l.p)
}

// next emits the loop's tail: the weights and channel offsets moved on
// one channel, and back to "chan" while channels remain.
func (l flatLoop) next() {
	var cs Op = U8(36)
	if l.cs != nil {
		cs = l.cs
	}
	ADDQ(cs, l.w)
	ADDQ(cs, l.w3)
	ADDQ(U8(4), l.co)
	DECQ(l.nc)
	JNZ(LabelRef("chan"))
}

// flatEnd emits label "store" and the stores of flatStore, to c and from
// add moved q0 floats on for a tiled kernel.
func flatEnd(m, nv int, acc func(i, v int) VecPhysical, wr []VecPhysical, tiled bool) {
	flatEndPitch(m, nv, acc, wr, tiled, 64)
}

// flatEndPitch is flatEnd with the accumulators' vectors stored vp
// bytes apart (64: contiguous).
func flatEndPitch(m, nv int, acc func(i, v int) VecPhysical, wr []VecPhysical, tiled bool, vp int) {
	Label("store")
	c := Load(Param("c"), GP64())
	if !tiled {
		flatStore(m, nv, acc, wr, c, Load(Param("add"), GP64()), vp)
		return
	}
	q := Load(Param("q0"), GP64())
	LEAQ(Mem{Base: c, Index: q, Scale: 4}, c)
	ap := Load(Param("add"), GP64())
	TESTQ(ap, ap)
	JZ(LabelRef("noadd"))
	LEAQ(Mem{Base: ap, Index: q, Scale: 4}, ap)
	Label("noadd")
	flatStore(m, nv, acc, wr, c, ap, vp)
}

// maskedFMA emits acc += b*w, in the lanes of mask k where k is not nil.
func maskedFMA(b, w VecPhysical, k Op, acc VecPhysical) {
	if k != nil {
		VFMADD231PS(b, w, k, acc)
		return
	}
	VFMADD231PS(b, w, acc)
}
