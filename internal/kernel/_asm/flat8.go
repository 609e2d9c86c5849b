package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// flat8MaxM is the most filters of one flat8 kernel (must match
// kernel.flat8MaxM): m*4 accumulators, m broadcast weights and two B
// vectors fill the 32 registers at m = 6.
const flat8MaxM = 6

// flat8Sig is the signature of the flat8 kernels (declared by hand in
// ../flat8_amd64.go).
const flat8Sig = "func(nc int, w *float32, lda int, choffs *int32, x *float32, edge int, c *float32, coffs *int, bias *float32, lo float32, add *float32)"

// flat8 emits kernFlat8_<m> (../flat8_amd64.s) for m = 1 to flat8MaxM:
// the 3x3, stride-1, pad-1 convolution of m filters over nc channels of
// an 8x8 plane kept unpadded (pitch 8, 64 floats, four vectors of two
// rows each). In the padded pitch of 10 an 8x8 plane computes 80 lanes
// for 64 outputs; here every lane is an output. Each tap (dy, dx) loads
// the plane at q + 8*dy + dx, and the m filters' weights of the tap are
// broadcast once and used for the four vectors; the FMAs are merge-masked
// to skip the lanes whose row or column falls off the plane (so the halo
// is never stored), which costs nothing, where masked loads took a second
// uop on an FMA port each (the kernel ran 10% slower). Weights are the
// group's own, [m][nc][9] with rows lda floats apart, channel ci's plane
// starts at x + choffs[ci] floats, and after the last channel the tile
// leaves as max(sum + bias[i] (+ add), lo) to c + coffs[i] floats, 64 of
// them (add, when not nil, at the same index as c).
//
// The taps at a plane's top and bottom read up to 9 floats of the planes
// before and after it. Before the first plane of x and after the last
// that memory may be another object, unmapped, or a page never touched,
// where even a masked-out lane took a microcode assist per load (the
// conv ran 15-20% slower in some processes). Planes less than 16 floats
// from x's start or more than edge floats past it therefore run a second
// form of the loop body whose loads stay inside the plane: the edge taps
// come from whole-plane vectors shifted with VALIGND or from row
// broadcasts (VBROADCASTF32X8), zero-masked, at the cost of a few port-5
// uops per channel.
func flat8() {
	for m := 1; m <= flat8MaxM; m++ {
		flat8Kernel(m)
	}
	flatW()
	flatHalf()
	flatOne()
	flatS2()
}

func flat8Kernel(m int) {
	TEXT(fmt.Sprintf("kernFlat8_%d", m), NOSPLIT, flat8Sig)
	Pragma("noescape")
	Doc(fmt.Sprintf("kernFlat8_%d is flatGo on 8x8 planes for %d filters.", m, m))
	acc := func(i, v int) VecPhysical { return zmm[4*i+v] }
	wr := zmm[24 : 24+m]
	bv := []VecPhysical{Z30, Z31}

	Comment("Masks: K1 drops column 0 (dx = -1), K2 column 7 (dx = +1); for the",
		"top rows' taps above (vector 0, dy = -1) K3, K4, K5 keep row 1 only (dx 0,",
		"-1, +1), and for the bottom ones below (vector 3, dy = +1) K6, K7 row 6",
		"only (dx 0, -1; dx +1 loads with K6 and masks the FMAs with K2).")
	t := GP32()
	for _, km := range []struct {
		k    Op
		bits uint32
	}{{K1, 0xFEFE}, {K2, 0x7F7F}, {K3, 0xFF00}, {K4, 0xFE00}, {K5, 0x7F00}, {K6, 0x00FF}, {K7, 0x00FE}} {
		MOVL(U32(km.bits), t)
		KMOVW(t, km.k)
	}
	l := flatBegin(m, 4, acc, false)
	l.channelMajor(m)
	edge := Load(Param("edge"), GP64())
	l.head()
	CMPQ(l.off, U8(16))
	JLT(LabelRef("safe"))
	CMPQ(l.off, edge)
	JGT(LabelRef("safe"))
	body := flat8Body
	if m <= flatWReuseM {
		body = flat8BodyRows
	}
	body(m, l.p, l.wa, acc, wr, bv, false)
	JMP(LabelRef("next"))
	Label("safe")
	body(m, l.p, l.wa, acc, wr, bv, true)
	Label("next")
	l.next()
	flatEnd(m, 4, acc, wr, false)
}

// flat8Body emits one channel's taps (plane at p, weights at w): with
// safe, no load reaches outside the plane (see flat8).
func flat8Body(m int, p Register, wa func(i, tap int) Mem, acc func(i, v int) VecPhysical, wr, bv []VecPhysical, safe bool) {
	n := 0
	for _, tap := range flatTapOrder {
		for i := range m {
			VBROADCASTSS(wa(i, tap), wr[i])
		}
		for v := range 4 {
			flat8Tap(m, p, v, tap, bv[n%2], func(i int) VecPhysical { return wr[i] }, acc, safe)
			n++
		}
	}
}

// flat8BodyRows is flat8Body for blocks of up to flatWReuseM filters with
// each shifted vector loaded once: per column shift dx, the vector at
// 8*k+dx (k = 2*v+dy) is tap dy of vector v, and for odd k from 1 to 5 it
// is both tap +1 of vector (k-1)/2 and tap -1 of vector (k+1)/2, so a
// shift loads 9 vectors, not 12. The 3*m weights of a shift are broadcast
// first (Z16 on). Each accumulator sums its taps in flatTapOrder.
func flat8BodyRows(m int, p Register, wa func(i, tap int) Mem, acc func(i, v int) VecPhysical, _, bv []VecPhysical, safe bool) {
	wr := func(i, dy int) VecPhysical { return zmm[16+3*i+dy+1] }
	n := 0
	for dx := -1; dx <= 1; dx++ {
		for i := range m {
			for dy := -1; dy <= 1; dy++ {
				VBROADCASTSS(wa(i, 3*(dy+1)+dx+1), wr(i, dy))
			}
		}
		for k := -1; k <= 7; k++ {
			b := bv[n%2]
			n++
			if k%2 == 0 || k < 1 || k > 5 { // one vector's tap
				v, dy := k/2, 0
				switch k {
				case -1:
					v, dy = 0, -1
				case 7:
					v, dy = 3, 1
				}
				flat8Tap(m, p, v, 3*(dy+1)+dx+1, b, func(i int) VecPhysical { return wr(i, dy) }, acc, safe)
				continue
			}
			// Rows k and k+1: inside the plane, masked by column only.
			VMOVUPS(Mem{Base: p, Disp: 4 * (8*k + dx)}, b)
			k1 := []Op{K1, nil, K2}[dx+1]
			for _, t := range []struct{ v, dy int }{{(k - 1) / 2, 1}, {(k + 1) / 2, -1}} {
				for i := range m {
					maskedFMA(b, wr(i, t.dy), k1, acc(i, t.v))
				}
			}
		}
	}
}

// flat8Tap emits the load of tap of vector v into b and the m FMAs of
// its weights (w(i) holds filter i's, broadcast).
func flat8Tap(m int, p Register, v, tap int, b VecPhysical, w func(i int) VecPhysical, acc func(i, v int) VecPhysical, safe bool) {
	dy, dx := tap/3-1, tap%3-1
	src := Mem{Base: p, Disp: 4 * (16*v + 8*dy + dx)}
	var fmaMask Op
	var k Op
	switch {
	case v == 0 && dy == -1:
		k = []Op{K4, K3, K5}[dx+1]
	case v == 3 && dy == 1:
		k = []Op{K7, K6, K6}[dx+1]
		if dx == 1 {
			fmaMask = K2
		}
	case dx == -1:
		k = K1
	case dx == 1:
		k = K2
	}
	if fmaMask == nil && !(safe && flat8IsEdge(v, tap)) {
		// The mask on the FMAs, not the load: a zeroing masked
		// load took a second uop on an FMA port (the kernel ran
		// 10% slower).
		fmaMask, k = k, nil
	}
	switch {
	case safe && flat8Edge(v, tap, p, b):
	case k == nil:
		VMOVUPS(src, b)
	default:
		VMOVUPS_Z(src, k, b)
	}
	for i := range m {
		if fmaMask != nil {
			VFMADD231PS(b, w(i), fmaMask, acc(i, v))
		} else {
			VFMADD231PS(b, w(i), acc(i, v))
		}
	}
}

// flat8IsEdge reports whether tap of vector v reads outside the plane
// (flat8Edge loads it).
func flat8IsEdge(v, tap int) bool {
	return v == 0 && tap <= 3 || v == 3 && tap >= 5
}

// flat8Edge emits the in-plane load of tap of vector v into b when it is
// one of the loads that reach outside the plane, and reports whether it
// was. Lane l of vector 0 is row l/8, column l%8; A0 is the plane's first
// vector, A3 its last.
func flat8Edge(v, tap int, p Register, b VecPhysical) bool {
	at := func(f int) Mem { return Mem{Base: p, Disp: 4 * f} }
	switch {
	case v == 0 && tap == 0: // dy -1, dx -1: lanes 9-15 = A0[0:7]
		VMOVUPS(at(0), b)
		VALIGND_Z(U8(7), b, b, K4, b)
	case v == 0 && tap == 1: // dy -1, dx 0: lanes 8-15 = row 0
		VBROADCASTF32X8_Z(at(0), K3, b)
	case v == 0 && tap == 2: // dy -1, dx +1: lanes 8-14 = row 0 from column 1
		VBROADCASTF32X8_Z(at(1), K5, b)
	case v == 0 && tap == 3: // dy 0, dx -1: lane l = A0[l-1]
		VMOVUPS(at(0), b)
		VALIGND_Z(U8(15), b, b, K1, b)
	case v == 3 && tap == 5: // dy 0, dx +1: lane l = A3[l+1]
		VALIGND_Z(U8(1), at(48), b, K2, b)
	case v == 3 && tap == 6: // dy +1, dx -1: lanes 1-7 = row 7 from column 0
		VBROADCASTF32X8_Z(at(55), K7, b)
	case v == 3 && tap == 7: // dy +1, dx 0: lanes 0-7 = row 7
		VBROADCASTF32X8_Z(at(56), K6, b)
	case v == 3 && tap == 8: // dy +1, dx +1: lanes 0-6 = A3[9:16] (lane 7, from b, masked by the FMAs)
		VALIGND_Z(U8(9), at(48), b, K6, b)
	default:
		return false
	}
	return true
}
