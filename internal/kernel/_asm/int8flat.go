package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// i8FlatMaxM is the most filters of one int8 flat kernel (must match
// kernel.i8FlatMaxM): 4*m accumulators at most, 3*m broadcast weights and
// two input vectors fit the 32 registers.
const i8FlatMaxM = 4

// i8FlatWidths are the plane widths of the int8 flat kernels (must match
// kernel.i8FlatWidths).
var i8FlatWidths = []int{16, 32}

// i8FlatRows is the output rows of one tile of kernI8F<w>_<m> (must match
// kernel.i8FlatRows): 16 accumulators (12 for three filters), whole rows.
func i8FlatRows(w, m int) int {
	r := map[int]int{1: 16, 2: 8, 3: 4, 4: 4}[m]
	return r * 16 / w
}

// i8FlatSet emits the int8 flat kernels kernI8FY<w>_<m> and
// kernI8FQ<w>_<m> (see i8Flat).
func i8FlatSet() {
	for _, w := range i8FlatWidths {
		for m := 1; m <= i8FlatMaxM; m++ {
			i8Flat(w, m, false)
			i8Flat(w, m, true)
		}
	}
}

// i8Flat emits kernI8FY<w>_<m> (q false: fp32 stores, as i8KernelY) or
// kernI8FQ<w>_<m> (q true: bytes for the next conv, as i8KernelQ): the
// flat route of a 3x3 stride-1 pad-1 conv of w x w planes for m filters,
// nt tiles of R = i8FlatRows(w, m) output rows each. The input is the
// padded quad planes of Int8Plan (pitch wq = w+1 words, qs bytes apart;
// b at the tile's first padded row), but each vector holds 16 outputs of
// one row, so that no lane computes a halo column; the halo is the
// planes' own padding, so no load is masked. Each input row vector is
// loaded once per column shift kx and serves the three taps ky of the
// output rows it feeds (row in of the tile: output rows in-ky).
func i8Flat(width, m int, q bool) {
	wq := width + 1
	rows := i8FlatRows(width, m)
	nvr := width / 16
	name := fmt.Sprintf("kernI8FY%d_%d", width, m)
	sig := "func(nq int, a *int32, lda int, b *uint8, qs int, y *float32, yoff *int32, add *float32, sc *float32, bias *float32, flags int, nt int)"
	if q {
		name = fmt.Sprintf("kernI8FQ%d_%d", width, m)
		sig = "func(nq int, a *int32, lda int, b *uint8, qs int, y *uint8, yoff *int32, add *float32, aoff *int32, sc *float32, bias *float32, q *float32, flags int, nt int)"
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s is i8FlatGo for %d filters on %dx%d planes, tiles of %d rows.", name, m, width, width, rows))
	acc := func(i, r, u int) VecPhysical { return zmm[(i*rows+r)*nvr+u] }
	wr := func(i, ky int) VecPhysical { return zmm[16+3*i+ky] }
	bv := []VecPhysical{Z28, Z29}

	Label("tile")
	for i := range m {
		for r := range rows {
			for u := range nvr {
				VPXORD(acc(i, r, u), acc(i, r, u), acc(i, r, u))
			}
		}
	}
	nq := Load(Param("nq"), GP64())
	w := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	var w3 Register
	if m == 4 {
		w3 = GP64()
		LEAQ(Mem{Base: w, Index: lda, Scale: 2}, w3)
		ADDQ(lda, w3)
	}
	wa := func(i, tap int) Mem {
		d := 4 * tap
		switch i {
		case 0:
			return Mem{Base: w, Disp: d}
		case 3:
			return Mem{Base: w3, Disp: d}
		default:
			return Mem{Base: w, Index: lda, Scale: uint8(i), Disp: d}
		}
	}
	p := Load(Param("b"), GP64())
	qs := Load(Param("qs"), GP64())
	Label("quad")
	n := 0
	for kx := range 3 {
		for i := range m {
			for ky := range 3 {
				VPBROADCASTD(wa(i, 3*ky+kx), wr(i, ky))
			}
		}
		for in := range rows + 2 { // padded row, from the tile's first
			for u := range nvr {
				b := bv[n%2]
				n++
				VMOVDQU32(Mem{Base: p, Disp: 4 * (in*wq + 16*u + kx)}, b)
				for ky := 2; ky >= 0; ky-- {
					r := in - ky // the output row this load serves at tap ky
					if r < 0 || r >= rows {
						continue
					}
					for i := range m {
						VPDPBUSD(wr(i, ky), b, acc(i, r, u))
					}
				}
			}
		}
	}
	ADDQ(U8(36), w)
	if m == 4 {
		ADDQ(U8(36), w3)
	}
	ADDQ(qs, p)
	DECQ(nq)
	JNZ(LabelRef("quad"))

	y := Load(Param("y"), GP64())
	yoff := Load(Param("yoff"), GP64())
	add := Load(Param("add"), GP64())
	var aoff, qp Register
	if q {
		aoff = Load(Param("aoff"), GP64())
		qp = Load(Param("q"), GP64())
		VBROADCASTSS(Mem{Base: qp}, Z26)
		VBROADCASTSS(Mem{Base: qp, Disp: 4}, Z27)
	}
	sc := Load(Param("sc"), GP64())
	bias := Load(Param("bias"), GP64())
	flags := Load(Param("flags"), GP64())
	VPXORD(Z31, Z31, Z31)
	ro, yrow, arow := GP64(), GP64(), GP64()
	for _, vr := range epilogueVariants(flags) {
		Label(vr.label)
		for i := range m {
			VBROADCASTSS(Mem{Base: sc, Disp: 4 * i}, Z24)
			VBROADCASTSS(Mem{Base: bias, Disp: 4 * i}, Z25)
			MOVLQSX(Mem{Base: yoff, Disp: 4 * i}, ro)
			if q {
				LEAQ(Mem{Base: y, Index: ro, Scale: 1}, yrow)
				if vr.add {
					MOVLQSX(Mem{Base: aoff, Disp: 4 * i}, arow)
					LEAQ(Mem{Base: add, Index: arow, Scale: 4}, arow)
				}
			} else {
				LEAQ(Mem{Base: y, Index: ro, Scale: 4}, yrow)
				if vr.add {
					LEAQ(Mem{Base: add, Index: ro, Scale: 4}, arow)
				}
			}
			for r := range rows {
				for u := range nvr {
					a := acc(i, r, u)
					VCVTDQ2PS(a, a)
					VFMADD213PS(Z25, Z24, a)
					if vr.add {
						VADDPS(Mem{Base: arow, Disp: 4 * (r*width + 16*u)}, a, a)
					}
					if vr.relu {
						VMAXPS(Z31, a, a)
					}
					if q {
						VFMADD213PS(Z27, Z26, a)
						VCVTPS2DQ(a, a)
						VPMAXSD(Z31, a, a)
						VPMOVUSDB(a, Mem{Base: yrow, Disp: r*wq + 16*u})
					} else {
						VMOVUPS(a, Mem{Base: yrow, Disp: 4 * (r*width + 16*u)})
					}
				}
			}
		}
		JMP(LabelRef("done"))
	}
	Label("done")
	// The next tile: b, y and (when set) add move on by its rows.
	t := GP64()
	Load(Param("nt"), t)
	DECQ(t)
	JLE(LabelRef("ret"))
	Store(t, Param("nt"))
	step := func(name string, by int) {
		Load(Param(name), t)
		ADDQ(U32(uint32(by)), t)
		Store(t, Param(name))
	}
	step("b", 4*rows*wq)
	if q {
		step("y", rows*wq)
	} else {
		step("y", 4*rows*width)
	}
	Load(Param("add"), t)
	TESTQ(t, t)
	JZ(LabelRef("tile"))
	ADDQ(U32(uint32(4*rows*width)), t)
	Store(t, Param("add"))
	JMP(LabelRef("tile"))
	Label("ret")
	VZEROUPPER()
	RET()
}
