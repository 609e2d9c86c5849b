package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const (
	i8MaxMR  = 6  // must match kernel.i8MaxMR: filters per tile
	i8MaxNV  = 8  // must match kernel.i8MaxNV: 16-pixel vectors per tile
	i8MaxAcc = 24 // must match kernel.i8MaxAcc: mr*nv accumulators at most
)

// int8Set emits the int8 kernels of package kernel (../int8_amd64.s,
// declared by hand in ../int8_amd64.go): kernI8_<mr>x<nv>, the VPDPBUSD
// micro-kernels (mr*nv <= i8MaxAcc), kernQuantRows, the activation
// quantizer, kernQuantDeint (int8pack.go), its stride-2 form, and
// kernInterQuads, which interleaves byte planes four at a time into
// planes of 32-bit words.
func int8Set() {
	for _, emit := range []func(mr, nv int){i8Kernel, i8KernelY, i8KernelQ} {
		for mr := 1; mr <= i8MaxMR; mr++ {
			for nv := 1; nv <= min(i8MaxNV, i8MaxAcc/mr); nv++ {
				emit(mr, nv)
			}
		}
	}
	i8FlatSet()
	quantRows()
	interQuads()
	interQuadsVBMI()
	quantDeint()
}

// i8Kernel emits kernI8_<mr>x<nv>: an mr x 16*nv tile of int8 x uint8
// products over k4 quads, dequantized on the way out. A row of a holds k4
// int32 words, each four signed weights (one per input channel of a quad);
// b holds per pixel four unsigned activations (the same four channels), so
// one VPDPBUSD with a broadcast weight word adds four products to each of
// 16 pixels' sums.
func i8Kernel(mr, nv int) {
	TEXT(fmt.Sprintf("kernI8_%dx%d", mr, nv), NOSPLIT,
		"func(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)")
	Pragma("noescape")
	Comment(
		fmt.Sprintf("for i := range %d {", mr),
		fmt.Sprintf("	for p := range %d {", 16*nv),
		"		var s int32",
		"		for k := range k4 {",
		"			for j := range 4 {",
		"				s += int32(int8(a[i*lda+k] >> (8 * j))) * int32(b[boffs[k]+4*p+j])",
		"			}",
		"		}",
		"		c[i*ldc+p] = float32(s)*sc[i] + bias[i]",
		"	}",
		"}",
	)
	acc := func(i, v int) VecPhysical { return i8acc(nv, i, v) }
	i8Products(mr, nv)
	Label("store")
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	sc := Load(Param("sc"), GP64())
	bias := Load(Param("bias"), GP64())
	SHLQ(Imm(2), ldc)
	for i := range mr {
		VBROADCASTSS(Mem{Base: sc, Disp: 4 * i}, Z28)
		VBROADCASTSS(Mem{Base: bias, Disp: 4 * i}, Z29)
		for v := range nv {
			VCVTDQ2PS(acc(i, v), acc(i, v))
			VFMADD213PS(Z29, Z28, acc(i, v))
			VMOVUPS(acc(i, v), Mem{Base: c, Disp: 64 * v})
		}
		if i < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// i8KernelY emits kernI8Y_<mr>x<nv>: the tile of i8Kernel stored
// straight into the output planes, with the epilogue fused. Vector v of
// the tile covers 16 positions of the padded pitch; vinfo[2v] holds the
// mask of those that are outputs (low 16 bits) and the mask of their
// count (high 16 bits), vinfo[2v+1] the output index of the first, so
// that the valid lanes compress into consecutive outputs. Filter i's
// plane starts at y[yoff[i]] (add[yoff[i]] for the residual).
func i8KernelY(mr, nv int) {
	TEXT(fmt.Sprintf("kernI8Y_%dx%d", mr, nv), NOSPLIT,
		"func(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)")
	Pragma("noescape")
	Comment(
		fmt.Sprintf("for i := range %d {", mr),
		fmt.Sprintf("	for v := range %d {", nv),
		"		for l := range 16 { // the lanes set in vinfo[2v], in order, to d = vinfo[2v+1], d+1, ...",
		"			s := the sum of i8Kernel for p = 16v+l",
		"			r := float32(s)*sc[i] + bias[i]",
		"			if flags&2 != 0 { r += add[yoff[i]+d] }",
		"			if flags&1 != 0 { r = max(r, 0) }",
		"			y[yoff[i]+d] = r",
		"		}",
		"	}",
		"}",
	)
	acc := func(i, v int) VecPhysical { return i8acc(nv, i, v) }
	Label("tile")
	i8Products(mr, nv)
	Label("store")
	y := Load(Param("y"), GP64())
	yoff := Load(Param("yoff"), GP64())
	add := Load(Param("add"), GP64())
	vinfo := Load(Param("vinfo"), GP64())
	sc := Load(Param("sc"), GP64())
	bias := Load(Param("bias"), GP64())
	flags := Load(Param("flags"), GP64())
	VPXORD(Z31, Z31, Z31)
	ro, m, d, yrow, arow := GP64(), GP64(), GP64(), GP64(), GP64()
	for _, vr := range epilogueVariants(flags) {
		Label(vr.label)
		for i := range mr {
			VBROADCASTSS(Mem{Base: sc, Disp: 4 * i}, Z28)
			VBROADCASTSS(Mem{Base: bias, Disp: 4 * i}, Z29)
			MOVLQSX(Mem{Base: yoff, Disp: 4 * i}, ro)
			LEAQ(Mem{Base: y, Index: ro, Scale: 4}, yrow)
			if vr.add {
				LEAQ(Mem{Base: add, Index: ro, Scale: 4}, arow)
			}
			for v := range nv {
				MOVL(Mem{Base: vinfo, Disp: 8 * v}, m.As32())
				KMOVW(m.As32(), K1)
				SHRL(Imm(16), m.As32())
				KMOVW(m.As32(), K2)
				MOVLQSX(Mem{Base: vinfo, Disp: 8*v + 4}, d)
				VCVTDQ2PS(acc(i, v), acc(i, v))
				VFMADD213PS(Z29, Z28, acc(i, v))
				if vr.add {
					VMOVUPS_Z(Mem{Base: arow, Index: d, Scale: 4}, K2, Z30)
					VEXPANDPS_Z(Z30, K1, Z30)
					VADDPS(Z30, acc(i, v), acc(i, v))
				}
				if vr.relu {
					VMAXPS(Z31, acc(i, v), acc(i, v))
				}
				VCOMPRESSPS_Z(acc(i, v), K1, Z30)
				VMOVUPS(Z30, K2, Mem{Base: yrow, Index: d, Scale: 4})
			}
		}
		JMP(LabelRef("done"))
	}
	Label("done")
	nextTile(nv, false)
}

// i8KernelQ emits kernI8Q_<mr>x<nv>: the tile of i8KernelY, quantized
// again (scale 1/q[0], zero point q[1]) and stored as bytes straight into
// the next conv's input planes, where position p of the tile's padded
// pitch is byte p of the plane (the caller offsets y): only the lanes set
// in vinfo[2v] are stored. The residual add reads add[aoff[i]+d] as in
// i8KernelY.
func i8KernelQ(mr, nv int) {
	TEXT(fmt.Sprintf("kernI8Q_%dx%d", mr, nv), NOSPLIT,
		"func(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)")
	Pragma("noescape")
	Comment(
		fmt.Sprintf("for i := range %d {", mr),
		fmt.Sprintf("	for v := range %d {", nv),
		"		for l := range 16 { // the lanes set in vinfo[2v]; d counts them from vinfo[2v+1]",
		"			r := float32(s)*sc[i] + bias[i] // s: the sum of i8Kernel for p = 16v+l",
		"			if flags&2 != 0 { r += add[aoff[i]+d] }",
		"			if flags&1 != 0 { r = max(r, 0) }",
		"			y[yoff[i]+16v+l] = uint8(min(max(roundEven(r*q[0]+q[1]), 0), 255))",
		"		}",
		"	}",
		"}",
	)
	acc := func(i, v int) VecPhysical { return i8acc(nv, i, v) }
	Label("tile")
	i8Products(mr, nv)
	Label("store")
	y := Load(Param("y"), GP64())
	yoff := Load(Param("yoff"), GP64())
	add := Load(Param("add"), GP64())
	aoff := Load(Param("aoff"), GP64())
	vinfo := Load(Param("vinfo"), GP64())
	sc := Load(Param("sc"), GP64())
	bias := Load(Param("bias"), GP64())
	q := Load(Param("q"), GP64())
	VBROADCASTSS(Mem{Base: q}, Z26)
	VBROADCASTSS(Mem{Base: q, Disp: 4}, Z27)
	flags := Load(Param("flags"), GP64())
	VPXORD(Z31, Z31, Z31)
	ro, m, d, arow := GP64(), GP64(), GP64(), GP64()
	for _, vr := range epilogueVariants(flags) {
		Label(vr.label)
		for i := range mr {
			VBROADCASTSS(Mem{Base: sc, Disp: 4 * i}, Z28)
			VBROADCASTSS(Mem{Base: bias, Disp: 4 * i}, Z29)
			MOVLQSX(Mem{Base: yoff, Disp: 4 * i}, ro)
			ADDQ(y, ro)
			if vr.add {
				MOVLQSX(Mem{Base: aoff, Disp: 4 * i}, arow)
				LEAQ(Mem{Base: add, Index: arow, Scale: 4}, arow)
			}
			for v := range nv {
				MOVL(Mem{Base: vinfo, Disp: 8 * v}, m.As32())
				KMOVW(m.As32(), K1)
				VCVTDQ2PS(acc(i, v), acc(i, v))
				VFMADD213PS(Z29, Z28, acc(i, v))
				if vr.add {
					SHRL(Imm(16), m.As32())
					KMOVW(m.As32(), K2)
					MOVLQSX(Mem{Base: vinfo, Disp: 8*v + 4}, d)
					VMOVUPS_Z(Mem{Base: arow, Index: d, Scale: 4}, K2, Z30)
					VEXPANDPS_Z(Z30, K1, Z30)
					VADDPS(Z30, acc(i, v), acc(i, v))
				}
				if vr.relu {
					VMAXPS(Z31, acc(i, v), acc(i, v))
				}
				VFMADD213PS(Z27, Z26, acc(i, v))
				VCVTPS2DQ(acc(i, v), acc(i, v))
				VPMAXSD(Z31, acc(i, v), acc(i, v))
				VPMOVUSDB(acc(i, v), K1, Mem{Base: ro, Disp: 16 * v})
			}
		}
		JMP(LabelRef("done"))
	}
	Label("done")
	nextTile(nv, true)
}

// nextTile ends a kernel of nt tiles side by side: while tiles remain, it
// moves b and vinfo (and, with bytes, y: the byte planes of
// i8KernelQ) on by one tile's nv vectors in the arguments and runs the
// tile again from the label "tile"; the output indexes in vinfo are
// absolute, so y of i8KernelY stays.
func nextTile(nv int, bytes bool) {
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
	step("b", 64*nv)
	step("vinfo", 8*nv)
	if bytes {
		step("y", 16*nv)
	}
	JMP(LabelRef("tile"))
	Label("ret")
	VZEROUPPER()
	RET()
}

// i8acc is the accumulator of filter i, vector v of a tile nv wide.
func i8acc(nv, i, v int) VecPhysical { return zmm[i*nv+v] } // Z0-Z23

// i8Products emits the product loop of an mr x 16*nv tile into the
// accumulators i8acc (see i8Kernel), ending at the label "store".
func i8Products(mr, nv int) {
	acc := func(i, v int) VecPhysical { return i8acc(nv, i, v) }
	wv := func(i int) VecPhysical { return zmm[24+i] }   // Z24-Z29: the broadcast weights
	bv := func(v int) VecPhysical { return zmm[30+v%2] } // Z30, Z31: a vector of inputs
	k4 := Load(Param("k4"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	b := Load(Param("b"), GP64())
	boffs := Load(Param("boffs"), GP64())
	arow := make([]GPVirtual, mr)
	for i := range mr {
		arow[i] = GP64()
		if i == 0 {
			MOVQ(a, arow[i])
		} else {
			LEAQ(Mem{Base: arow[i-1], Index: lda, Scale: 4}, arow[i])
		}
	}
	Comment("Zero the accumulators.")
	for i := range mr {
		for v := range nv {
			VPXORD(acc(i, v), acc(i, v), acc(i, v))
		}
	}
	p := GP64()
	XORQ(p, p)
	SHLQ(Imm(2), k4) // bytes of a row of a and of boffs
	off := GP64()
	TESTQ(k4, k4)
	JZ(LabelRef("store"))
	Label("loop")
	MOVLQSX(Mem{Base: boffs, Index: p, Scale: 1}, off)
	ADDQ(b, off)
	for i := range mr { // one broadcast per filter, not one per vector
		VPBROADCASTD(Mem{Base: arow[i], Index: p, Scale: 1}, wv(i))
	}
	for v := range nv {
		VMOVDQU32(Mem{Base: off, Disp: 64 * v}, bv(v))
		for i := range mr {
			VPDPBUSD(wv(i), bv(v), acc(i, v))
		}
	}
	ADDQ(Imm(4), p)
	CMPQ(p, k4)
	JLT(LabelRef("loop"))
}

// quantOrder is kernQuantRows's table of dword indexes (i8quantOrder),
// for kernQuantDeint, which follows it.
var quantOrder Mem

// quantRows emits kernQuantRows: rows of floats quantized to uint8, one
// byte per value. Four vectors at a time are narrowed together, with
// signed then unsigned saturation (VPACKSSDW, VPACKUSWB: the clamp to
// [0, 255], where a vector at a time takes VPMAXSD and VPMOVUSDB's two
// shuffles) and one VPERMD to put the 64 bytes in order: rows of 8, 16
// or 32 values that follow each other in x (xp = w) as blocks of 8, 4 or
// 2 rows, stored a row at a time; 64 values at a time along longer rows; the rest
// of a row a vector at a time, the last partial vector under a mask.
func quantRows() {
	var order [16]uint32 // after the packs, lane k holds dword k of each vector: dword 4k+v to 16v+k
	for v := range 4 {
		for k := range 4 {
			order[4*v+k] = uint32(4*k + v)
		}
	}
	tbl := GLOBL("i8quantOrder", RODATA|NOPTR)
	for o, v := range order {
		DATA(4*o, U32(v))
	}
	quantOrder = tbl
	TEXT("kernQuantRows", NOSPLIT, "func(rows, w int, x *float32, xp int, dst *uint8, dp int, inv, zp float32)")
	Pragma("noescape")
	Comment(
		"for r := range rows {",
		"	for p := range w {",
		"		q := roundEven(x[r*xp+p]*inv + zp) // VCVTPS2DQ",
		"		dst[r*dp+p] = uint8(min(max(q, 0), 255))",
		"	}",
		"}",
	)
	rows := Load(Param("rows"), GP64())
	w := Load(Param("w"), GP64())
	x := Load(Param("x"), GP64())
	xp := Load(Param("xp"), GP64())
	dst := Load(Param("dst"), GP64())
	dp := Load(Param("dp"), GP64())
	inv, zp := Z28, Z29
	VBROADCASTSS(Load(Param("inv"), XMM()), inv)
	VBROADCASTSS(Load(Param("zp"), XMM()), zp)
	VPXORD(Z31, Z31, Z31)
	VMOVDQU32(tbl.Offset(0), Z30)
	TESTQ(rows, rows)
	JZ(LabelRef("done"))
	quant := func(z VecPhysical) {
		VFMADD213PS(zp, inv, z)
		VCVTPS2DQ(z, z)
	}
	load4 := func(base Register) { // the 64 values at base, quantized and narrowed into Z0 in order
		for v, z := range []VecPhysical{Z0, Z1, Z2, Z3} {
			VMOVUPS(Mem{Base: base, Disp: 64 * v}, z)
			quant(z)
		}
		VPACKSSDW(Z1, Z0, Z0) // lane k: dword k of vectors 0 and 1, as words
		VPACKSSDW(Z3, Z2, Z2)
		VPACKUSWB(Z2, Z0, Z0) // lane k: dword k of vectors 0 to 3, as bytes
		VPERMD(Z0, Z30, Z0)
	}
	CMPQ(xp, w)
	JNE(LabelRef("rowwise"))
	for _, c := range []struct {
		w     int
		label string
	}{{32, "blocks32"}, {16, "blocks16"}, {8, "blocks8"}} {
		CMPQ(w, Imm(uint64(c.w)))
		JEQ(LabelRef(c.label))
	}
	JMP(LabelRef("rowwise"))
	for _, c := range []struct {
		w     int
		label string
	}{{32, "blocks32"}, {16, "blocks16"}, {8, "blocks8"}} {
		k := 64 / c.w // rows a block
		Label(c.label)
		CMPQ(rows, Imm(uint64(k)))
		JLT(LabelRef("rowwise"))
		load4(x)
		switch k {
		case 2:
			VMOVDQU(Y0, Mem{Base: dst})
			ADDQ(dp, dst)
			VEXTRACTI64X4(Imm(1), Z0, Mem{Base: dst})
			ADDQ(dp, dst)
		case 8:
			for l := range 4 {
				xl := X0
				if l > 0 {
					xl = X1
					VEXTRACTI32X4(Imm(uint64(l)), Z0, xl)
				}
				VMOVQ(xl, Mem{Base: dst})
				ADDQ(dp, dst)
				VPEXTRQ(Imm(1), xl, Mem{Base: dst})
				ADDQ(dp, dst)
			}
		default:
			VMOVDQU(X0, Mem{Base: dst})
			for l := 1; l < 4; l++ {
				ADDQ(dp, dst)
				VEXTRACTI32X4(Imm(uint64(l)), Z0, Mem{Base: dst})
			}
			ADDQ(dp, dst)
		}
		ADDQ(U32(256), x)
		SUBQ(Imm(uint64(k)), rows)
		JNZ(LabelRef(c.label))
		JMP(LabelRef("done"))
	}
	Label("rowwise")
	TESTQ(rows, rows)
	JZ(LabelRef("done"))
	SHLQ(Imm(2), xp)
	tail := GP64()
	MOVQ(w, tail)
	ANDQ(Imm(15), tail)
	m := GP64() // (1 << tail) - 1
	MOVQ(U64(1), m)
	SHLXQ(tail, m, m)
	DECQ(m)
	KMOVW(m.As32(), K1)
	px, pd, v := GP64(), GP64(), GP64()
	Label("row")
	MOVQ(x, px)
	MOVQ(dst, pd)
	MOVQ(w, v)
	SHRQ(Imm(4), v)
	Label("vec4")
	CMPQ(v, Imm(4))
	JLT(LabelRef("vec"))
	load4(px)
	VMOVDQU8(Z0, Mem{Base: pd})
	ADDQ(U32(256), px)
	ADDQ(Imm(64), pd)
	SUBQ(Imm(4), v)
	JMP(LabelRef("vec4"))
	Label("vec")
	TESTQ(v, v)
	JZ(LabelRef("tail"))
	VMOVUPS(Mem{Base: px}, Z0)
	quant(Z0)
	VPMAXSD(Z31, Z0, Z0)
	VPMOVUSDB(Z0, Mem{Base: pd}) // saturates above 255
	ADDQ(Imm(64), px)
	ADDQ(Imm(16), pd)
	DECQ(v)
	JMP(LabelRef("vec"))
	Label("tail")
	TESTQ(tail, tail)
	JZ(LabelRef("next"))
	VMOVUPS_Z(Mem{Base: px}, K1, Z0)
	quant(Z0)
	VPMAXSD(Z31, Z0, Z0)
	VPMOVUSDB(Z0, K1, Mem{Base: pd})
	Label("next")
	ADDQ(xp, x)
	ADDQ(dp, dst)
	DECQ(rows)
	JNZ(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}

// interQuads emits kernInterQuads: nq quads of byte planes (four byte
// offsets each into planes) interleaved into nq planes of n 32-bit words,
// plane j of a quad in byte j.
func interQuads() {
	TEXT("kernInterQuads", NOSPLIT, "func(nq, n int, planes *uint8, idx *int32, dst *uint32)")
	Pragma("noescape")
	Comment(
		"for i := range nq { // n is a multiple of 16",
		"	for p := range n {",
		"		var w uint32",
		"		for j := range 4 {",
		"			w |= uint32(planes[idx[4*i+j]+p]) << (8 * j)",
		"		}",
		"		dst[i*n+p] = w",
		"	}",
		"}",
	)
	nq := Load(Param("nq"), GP64())
	n := Load(Param("n"), GP64())
	planes := Load(Param("planes"), GP64())
	idx := Load(Param("idx"), GP64())
	dst := Load(Param("dst"), GP64())
	bs := []GPVirtual{GP64(), GP64(), GP64(), GP64()}
	TESTQ(nq, nq)
	JZ(LabelRef("done"))
	TESTQ(n, n)
	JZ(LabelRef("done"))
	i := GP64()
	Label("quad")
	for j := range 4 {
		MOVLQSX(Mem{Base: idx, Disp: 4 * j}, bs[j])
		ADDQ(planes, bs[j])
	}
	XORQ(i, i)
	Label("loop")
	interQuads16(bs, i, dst)
	CMPQ(i, n)
	JLT(LabelRef("loop"))
	ADDQ(Imm(16), idx)
	DECQ(nq)
	JNZ(LabelRef("quad"))
	Label("done")
	VZEROUPPER()
	RET()
}

// interQuadsVBMI emits kernInterQuadsVBMI, kernInterQuads for CPUs with
// AVX512_VBMI: for every 16 words, the 16 bytes of each of the four
// planes gathered into one register's four 128-bit lanes (a broadcast
// load, then three broadcasts merged into lanes 1 to 3 under masks, which
// cost no shuffle) and transposed by one VPERMB (table i8interBcast),
// four such steps an iteration; then kernInterQuads's loop for the last
// n%64 words. (The two-table byte permutes of 64 words at a time,
// VPERMT2B and VPERMI2B, three per 16 words, ran 1.4-1.5x slower.)
func interQuadsVBMI() {
	var perm [64]byte
	for p := range 16 {
		for j := range 4 {
			perm[4*p+j] = byte(16*j + p)
		}
	}
	tbl := byteTable("i8interBcast", perm[:])
	TEXT("kernInterQuadsVBMI", NOSPLIT, "func(nq, n int, planes *uint8, idx *int32, dst *uint32)")
	Pragma("noescape")
	Comment("kernInterQuads's loops, 64 words at a time while they last.")
	nq := Load(Param("nq"), GP64())
	n := Load(Param("n"), GP64())
	planes := Load(Param("planes"), GP64())
	idx := Load(Param("idx"), GP64())
	dst := Load(Param("dst"), GP64())
	bs := []GPVirtual{GP64(), GP64(), GP64(), GP64()}
	n64 := GP64() // n rounded down to 64
	MOVQ(n, n64)
	ANDQ(I32(-64), n64)
	TESTQ(nq, nq)
	JZ(LabelRef("done"))
	TESTQ(n, n)
	JZ(LabelRef("done"))
	VMOVDQU8(tbl.Offset(0), Z31)
	m := GP32()
	for j, k := range []Register{K1, K2, K3} { // dword lanes 4(j+1) to 4(j+1)+3
		MOVL(U32(0xf<<(4*(j+1))), m)
		KMOVW(m, k)
	}
	i := GP64()
	Label("quad")
	for j := range 4 {
		MOVLQSX(Mem{Base: idx, Disp: 4 * j}, bs[j])
		ADDQ(planes, bs[j])
	}
	XORQ(i, i)
	CMPQ(i, n64)
	JGE(LabelRef("tail"))
	Label("loop64")
	for s := range 4 {
		z := []VecPhysical{Z0, Z1, Z2, Z3}[s]
		at := func(j int) Mem { return Mem{Base: bs[j], Index: i, Scale: 1, Disp: 16 * s} }
		VBROADCASTI32X4(at(0), z)
		for j, k := range []Register{K1, K2, K3} {
			VBROADCASTI32X4(at(j+1), k, z)
		}
		VPERMB(z, Z31, z)
		VMOVDQU32(z, Mem{Base: dst, Disp: 64 * s})
	}
	ADDQ(U32(256), dst)
	ADDQ(Imm(64), i)
	CMPQ(i, n64)
	JLT(LabelRef("loop64"))
	Label("tail")
	CMPQ(i, n)
	JGE(LabelRef("next"))
	Label("loop16")
	interQuads16(bs, i, dst)
	CMPQ(i, n)
	JLT(LabelRef("loop16"))
	Label("next")
	ADDQ(Imm(16), idx)
	DECQ(nq)
	JNZ(LabelRef("quad"))
	Label("done")
	VZEROUPPER()
	RET()
}

// epiVariant is one form of the int8 kernels' epilogue: flags bit 0 (ReLU)
// and bit 1 (residual add).
type epiVariant struct {
	relu, add bool
	label     string
}

// epilogueVariants emits the jump on flags to each variant's label (plain
// falls through) and returns the variants in the order their bodies are
// emitted.
func epilogueVariants(flags Register) []epiVariant {
	variants := []epiVariant{{false, false, "plain"}, {true, false, "relu"}, {false, true, "add"}, {true, true, "addrelu"}}
	for _, vr := range variants[1:] {
		f := 0
		if vr.relu {
			f |= 1
		}
		if vr.add {
			f |= 2
		}
		CMPQ(flags, Imm(uint64(f)))
		JEQ(LabelRef(vr.label))
	}
	return variants
}

// interQuads16 emits one step of kernInterQuads's loop: the 16 words at
// byte i of the four planes bs, widened, shifted into place and ORed, to
// dst; dst moves on by 64 bytes and i by 16.
func interQuads16(bs []GPVirtual, i, dst Register) {
	for j := range 4 {
		VPMOVZXBD(Mem{Base: bs[j], Index: i, Scale: 1}, zmm[j])
		if j > 0 {
			VPSLLD(Imm(uint64(8*j)), zmm[j], zmm[j])
		}
	}
	VPTERNLOGD(Imm(0xfe), Z2, Z1, Z0) // Z0 | Z1 | Z2
	VPORD(Z3, Z0, Z0)
	VMOVDQU32(Z0, Mem{Base: dst})
	ADDQ(Imm(64), dst)
	ADDQ(Imm(16), i)
}

// byteTable emits t (a multiple of 8 bytes) as read-only data named name,
// little-endian quadwords, and returns it.
func byteTable(name string, t []byte) Mem {
	tbl := GLOBL(name, RODATA|NOPTR)
	for o := 0; o < len(t); o += 8 {
		var w uint64
		for k := range 8 {
			w |= uint64(t[o+k]) << (8 * k)
		}
		DATA(o, U64(w))
	}
	return tbl
}
