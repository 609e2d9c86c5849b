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
// kernI8FQ<w>_<m> (see i8Flat, i8Flat8), kernInterQuads8 and
// kernInterQuads8VBMI.
func i8FlatSet() {
	for m := 1; m <= i8FlatMaxM; m++ {
		i8Flat8(m, false)
		i8Flat8(m, true)
	}
	interQuads8()
	interQuads8VBMI()
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
// padded quad planes of Int8Plan (pitch wq = w+1 words, quad k at byte
// qo[k] of b; b at the tile's first padded row), but each vector holds 16 outputs of
// one row, so that no lane computes a halo column; the halo is the
// planes' own padding, so no load is masked. Each input row vector is
// loaded once per column shift kx and serves the three taps ky of the
// output rows it feeds (row in of the tile: output rows in-ky).
func i8Flat(width, m int, q bool) {
	wq := width + 1
	rows := i8FlatRows(width, m)
	nvr := width / 16
	name := fmt.Sprintf("kernI8FY%d_%d", width, m)
	sig := "func(nq int, a *int32, lda int, b *uint8, qo *int32, y *float32, yoff *int32, add *float32, sc *float32, bias *float32, flags int, nt int)"
	if q {
		name = fmt.Sprintf("kernI8FQ%d_%d", width, m)
		sig = "func(nq int, a *int32, lda int, b *uint8, qo *int32, y *uint8, yoff *int32, add *float32, aoff *int32, sc *float32, bias *float32, q *float32, flags int, nt int)"
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
	nq, w, w3, p, qo, wa := i8FlatLoop(m)
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
	i8FlatNextQuad(m, w, w3, qo, nq)
	i8FlatStores(m, q, func(i int, vr epiVariant, yrow, arow Register) {
		for r := range rows {
			for u := range nvr {
				a := acc(i, r, u)
				i8FlatDequant(a, vr, q, Mem{Base: arow, Disp: 4 * (r*width + 16*u)})
				if q {
					VPMOVUSDB(a, Mem{Base: yrow, Disp: r*wq + 16*u})
				} else {
					VMOVUPS(a, Mem{Base: yrow, Disp: 4 * (r*width + 16*u)})
				}
			}
		}
	})
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

// i8Flat8QS is the words of one quad's compact plane of an 8x8 input
// (must match kernel.i8Flat8QS): a slack word, rows -1 to 8 of 8 words
// (rows -1 and 8 the zero padding), slack.
const i8Flat8QS = 96

// i8Flat8 emits kernI8FY8_<m> or kernI8FQ8_<m>: the flat route of 8x8
// planes, one tile of the whole plane (nt is 1), on the compact quad
// planes of kernInterQuads8 (pitch 8, quad k at byte qo[k] of b, no halo
// columns):
// vector j holds output rows 2j and 2j+1, and input vector k (rows k and
// k+1, loaded once per column shift) serves the taps ky of output rows
// 2j = k+1-ky. The taps off the plane's left and right edges (lanes 0
// and 8 at kx = 0, 7 and 15 at kx = 2) are masked out of the VPDPBUSD,
// so the route needs the zero point 0. The handoff stores each output
// row's 8 bytes at its place in the next conv's padded plane (pitch 9).
func i8Flat8(m int, q bool) {
	name := fmt.Sprintf("kernI8FY8_%d", m)
	sig := "func(nq int, a *int32, lda int, b *uint8, qo *int32, y *float32, yoff *int32, add *float32, sc *float32, bias *float32, flags int, nt int)"
	if q {
		name = fmt.Sprintf("kernI8FQ8_%d", m)
		sig = "func(nq int, a *int32, lda int, b *uint8, qo *int32, y *uint8, yoff *int32, add *float32, aoff *int32, sc *float32, bias *float32, q *float32, flags int, nt int)"
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s is i8FlatGo for %d filters on 8x8 planes.", name, m))
	acc := func(i, j int) VecPhysical { return zmm[4*i+j] }
	wr := func(i, ky int) VecPhysical { return zmm[16+3*i+ky] }
	bv := []VecPhysical{Z28, Z29}

	Comment("K1 drops the lanes of column 0 (kx = 0), K2 those of column 7 (kx = 2).")
	t := GP32()
	MOVL(U32(0xFEFE), t)
	KMOVW(t, K1)
	MOVL(U32(0x7F7F), t)
	KMOVW(t, K2)
	for i := range m {
		for j := range 4 {
			VPXORD(acc(i, j), acc(i, j), acc(i, j))
		}
	}
	nq, w, w3, p, qo, wa := i8FlatLoop(m)
	n := 0
	for kx := range 3 {
		for i := range m {
			for ky := range 3 {
				VPBROADCASTD(wa(i, 3*ky+kx), wr(i, ky))
			}
		}
		for k := -1; k <= 7; k++ { // input rows k, k+1
			b := bv[n%2]
			n++
			VMOVDQU32(Mem{Base: p, Disp: 4 * ((k+1)*8 + kx)}, b)
			for ky := 2; ky >= 0; ky-- {
				r := k + 1 - ky // the first output row this load serves at tap ky
				if r < 0 || r > 6 || r%2 != 0 {
					continue
				}
				for i := range m {
					switch kx {
					case 0:
						VPDPBUSD(wr(i, ky), b, K1, acc(i, r/2))
					case 2:
						VPDPBUSD(wr(i, ky), b, K2, acc(i, r/2))
					default:
						VPDPBUSD(wr(i, ky), b, acc(i, r/2))
					}
				}
			}
		}
	}
	i8FlatNextQuad(m, w, w3, qo, nq)
	i8FlatStores(m, q, func(i int, vr epiVariant, yrow, arow Register) {
		for j := range 4 {
			a := acc(i, j)
			i8FlatDequant(a, vr, q, Mem{Base: arow, Disp: 64 * j})
			if q {
				VPMOVUSDB(a, X30)
				VMOVQ(X30, Mem{Base: yrow, Disp: 18 * j})
				VPEXTRQ(U8(1), X30, Mem{Base: yrow, Disp: 18*j + 9})
			} else {
				VMOVUPS(a, Mem{Base: yrow, Disp: 64 * j})
			}
		}
	})
	Label("done")
	VZEROUPPER()
	RET()
}

// interQuads8 emits kernInterQuads8: nq quads of padded 8x8 byte planes
// (pitch 9, four byte offsets each into planes, at the plane's padded
// row 0) interleaved into the compact planes of i8Flat8, i8Flat8QS words
// apart: padded row r's 8 bytes of column 1 on to words 1+8r to 8+8r,
// r = 0 to 9, one ymm of words a row.
func interQuads8() {
	TEXT("kernInterQuads8", NOSPLIT, "func(nq int, planes *uint8, idx *int32, dst *uint32)")
	Pragma("noescape")
	Comment(
		"for i := range nq {",
		"	for r := range 10 {",
		"		for c := range 8 {",
		"			var w uint32",
		"			for j := range 4 {",
		"				w |= uint32(planes[idx[4*i+j]+9*r+1+c]) << (8 * j)",
		"			}",
		"			dst[i*96+1+8*r+c] = w",
		"		}",
		"	}",
		"}",
	)
	quads8Loop(func() {}, func(bs []GPVirtual, dst Register) {
		for r := range 10 {
			for j := range 4 {
				VPMOVZXBD(Mem{Base: bs[j], Disp: 9*r + 1}, ymm4[j])
				if j > 0 {
					VPSLLD(Imm(uint64(8*j)), ymm4[j], ymm4[j])
				}
			}
			VPTERNLOGD(Imm(0xfe), Y2, Y1, Y0) // Y0 | Y1 | Y2
			VPOR(Y3, Y0, Y0)
			VMOVDQU(Y0, Mem{Base: dst, Disp: 4 * (1 + 8*r)})
		}
	})
}

// quads8Loop emits the loop of kernInterQuads8 and kernInterQuads8VBMI
// over their nq quads: setup runs once (when nq > 0), then, per quad, the
// four planes' bases are loaded into bs and quad writes the quad's words
// at dst.
func quads8Loop(setup func(), quad func(bs []GPVirtual, dst Register)) {
	nq := Load(Param("nq"), GP64())
	planes := Load(Param("planes"), GP64())
	idx := Load(Param("idx"), GP64())
	dst := Load(Param("dst"), GP64())
	bs := []GPVirtual{GP64(), GP64(), GP64(), GP64()}
	TESTQ(nq, nq)
	JZ(LabelRef("done"))
	setup()
	Label("quad")
	for j := range 4 {
		MOVLQSX(Mem{Base: idx, Disp: 4 * j}, bs[j])
		ADDQ(planes, bs[j])
	}
	quad(bs, dst)
	ADDQ(Imm(16), idx)
	ADDQ(U32(4*i8Flat8QS), dst)
	DECQ(nq)
	JNZ(LabelRef("quad"))
	Label("done")
	VZEROUPPER()
	RET()
}

// ymm4 are the registers of kernInterQuads8's four planes.
var ymm4 = []VecPhysical{Y0, Y1, Y2, Y3}

// i8FlatNextQuad emits the end of the int8 flat kernels' loop over quads:
// the weight pointers (w, and w3 for four filters) and the quad offsets
// qo move on one quad, and back to "quad" while nq quads remain.
func i8FlatNextQuad(m int, w, w3, qo, nq Register) {
	ADDQ(U8(36), w)
	if m == 4 {
		ADDQ(U8(36), w3)
	}
	ADDQ(U8(4), qo)
	DECQ(nq)
	JNZ(LabelRef("quad"))
}

// i8FlatStores emits the int8 flat kernels' stores: per epilogue variant
// (flags) and filter i, Z24 and Z25 set to its scale and bias, yrow to its
// output (yoff[i] floats, or bytes with q, into y) and, with an add,
// arow to its residual (at the same index, or aoff[i] floats with q);
// then store(i, ...) emits the filter's vectors. With q, Z26 and Z27 hold
// the next conv's quantization (1/scale, zero point). Z31 is zero.
func i8FlatStores(m int, q bool, store func(i int, vr epiVariant, yrow, arow Register)) {
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
			store(i, vr, yrow, arow)
		}
		JMP(LabelRef("done"))
	}
}

// i8FlatDequant emits the dequantization of int32 sums a: a*Z24 + Z25,
// plus the residual at add (vr.add), the ReLU (vr.relu), and with q the
// next conv's quantization to int32, at least 0 (the byte store that
// follows saturates at 255).
func i8FlatDequant(a VecPhysical, vr epiVariant, q bool, add Mem) {
	VCVTDQ2PS(a, a)
	VFMADD213PS(Z25, Z24, a)
	if vr.add {
		VADDPS(add, a, a)
	}
	if vr.relu {
		VMAXPS(Z31, a, a)
	}
	if q {
		VFMADD213PS(Z27, Z26, a)
		VCVTPS2DQ(a, a)
		VPMAXSD(Z31, a, a)
	}
}

// i8FlatLoop loads the int8 flat kernels' loop registers: the quad count
// nq, the weights w (filter 0's) and w3 (filter 3's, for four filters),
// the quad offsets qo; wa(i, tap) addresses filter i's weight word of a
// tap. It then emits the loop's label, "quad", and there sets p to the
// quad's planes (b + qo[0]).
func i8FlatLoop(m int) (nq, w, w3, p, qo Register, wa func(i, tap int) Mem) {
	nq = Load(Param("nq"), GP64())
	w = Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	if m == 4 {
		w3 = GP64()
		LEAQ(Mem{Base: w, Index: lda, Scale: 2}, w3)
		ADDQ(lda, w3)
	}
	wa = func(i, tap int) Mem {
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
	b := Load(Param("b"), GP64())
	qo = Load(Param("qo"), GP64())
	p = GP64()
	Label("quad")
	MOVLQSX(Mem{Base: qo}, p)
	ADDQ(b, p)
	return nq, w, w3, p, qo, wa
}

// interQuads8VBMI emits kernInterQuads8VBMI, kernInterQuads8 for CPUs with
// AVX512_VBMI, two rows (16 words) a store: the 16 bytes of each plane
// from the first row's column 0 gathered into one register's four 128-bit
// lanes (a broadcast load, three more merged under masks, as
// kernInterQuadsVBMI) and transposed by one VPERMB (table
// i8inter8Idx); they hold all but the second row's last byte, which a
// second such register, loaded one byte further on, supplies to the last
// four bytes under a mask (table i8inter8Last).
func interQuads8VBMI() {
	var perm, last [64]byte
	for p := range 16 {
		for j := range 4 {
			perm[4*p+j] = byte(16*j + p + p/8) // rows r and r+1: bytes 0-7 and 9-16 from column 0 of row r
			last[4*p+j] = byte(16*j + 15)      // byte 17 from row r's column 0, 16 from the second load
		}
	}
	tbls := [2]Mem{byteTable("i8inter8Idx", perm[:]), byteTable("i8inter8Last", last[:])}
	TEXT("kernInterQuads8VBMI", NOSPLIT, "func(nq int, planes *uint8, idx *int32, dst *uint32)")
	Pragma("noescape")
	Comment("kernInterQuads8's loops, two rows at a time.")
	quads8Loop(func() {
		VMOVDQU8(tbls[0], Z30)
		VMOVDQU8(tbls[1], Z31)
		m := GP64()
		for j, k := range []Register{K1, K2, K3} { // dword lanes 4(j+1) to 4(j+1)+3
			MOVL(U32(0xf<<(4*(j+1))), m.As32())
			KMOVW(m.As32(), k)
		}
		MOVQ(U64(0xf<<60), m) // bytes 60-63: the second row's last word
		KMOVQ(m, K4)
	}, func(bs []GPVirtual, dst Register) {
		for r := 0; r < 10; r += 2 {
			gather := func(disp int, z VecPhysical) {
				VBROADCASTI32X4(Mem{Base: bs[0], Disp: disp}, z)
				for j, k := range []Register{K1, K2, K3} {
					VBROADCASTI32X4(Mem{Base: bs[j+1], Disp: disp}, k, z)
				}
			}
			gather(9*r+1, Z0)
			gather(9*r+2, Z1)
			VPERMB(Z0, Z30, Z2)
			VPERMB(Z1, Z31, K4, Z2)
			VMOVDQU32(Z2, Mem{Base: dst, Disp: 4 * (1 + 8*r)})
		}
	})
}
