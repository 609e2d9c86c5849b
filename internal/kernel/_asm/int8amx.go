package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// int8AMXSet emits the AMX-INT8 route of package kernel's Int8Plan
// (../int8amx_amd64.s, declared by hand in ../int8amx_amd64.go):
// kernI8Gather copies a tile's (quad, tap) rows of interleaved input into
// the B layout of the tiles, amxI8Blocks1 and amxI8Blocks2 multiply them by
// the weights (TDPBSUD: signed weight bytes times unsigned activation
// bytes, int32 sums), and kernI8EpiY and kernI8EpiQ store the int32 sums
// through the int8 kernels' epilogues (dequantize, bias, residual, ReLU;
// and quantize again for the handoff), lane for lane as kernI8Y and
// kernI8Q do, so that both routes give the same bits.
func int8AMXSet() {
	amxI8Tiles(1)
	amxI8Tiles(2)
	tapQuads()
	i8Gather()
	i8EpiY()
	i8EpiQ()
	i8EpiQF()
}

// tdpbsud emits TDPBSUD c, a, b: tile c (16 x 16 int32) += tile a (16
// rows of 64 signed bytes along K) times tile b (16 rows of K quads, 16
// columns of four unsigned bytes each). VEX.128.F3.0F38.W0 5E /r.
func tdpbsud(c, a, b byte) {
	raw(fmt.Sprintf("TDPBSUD tmm%d, tmm%d, tmm%d", c, a, b), append(vex3(0, 0, 0, b, 2), 0x5E, 0xC0|c<<3|a)...)
}

// amxI8Tiles emits amxI8Wide (mt = 1: one A tile of 16 filters, four C
// tiles side by side, nb blocks of 64 columns) and amxI8Blocks2 (mt = 2:
// two A tiles of 16 filters, 2x2 C tiles, nb blocks of 32 columns): C =
// A times B over ks steps of 64 bytes along K, A's step s at a+64s (rows
// lda bytes apart), B's at b+boffs[s] (rows ldb bytes apart, columns of
// block blk at +256*blk or +128*blk), C's block at c+256*blk or
// c+128*blk (rows ldc bytes apart). One A tile load serves every C tile
// of its row; the sums of all C tiles accumulate at once.
func amxI8Tiles(mt int) {
	name := map[int]string{1: "amxI8Wide", 2: "amxI8Blocks2"}[mt]
	TEXT(name, NOSPLIT, "func(cfg *byte, a *int32, lda int, b *uint8, boffs *int32, ldb int, c *int32, ldc int, ks, nb int)")
	Pragma("noescape")
	Load(Param("cfg"), RAX)
	ldtilecfg(RAX)
	Load(Param("lda"), RDX)
	Load(Param("b"), R12)
	Load(Param("ldb"), R8)
	Load(Param("c"), R11)
	Load(Param("ldc"), R9)
	Load(Param("nb"), R13)
	cols := uint32(128 * (3 - mt)) // bytes of columns per block: 256 or 128
	Label("blk")
	for t := range byte(4) {
		tilezero(t)
	}
	Load(Param("a"), RSI)
	Load(Param("boffs"), R14)
	Load(Param("ks"), RCX)
	if mt == 2 {
		MOVQ(RDX, R10)
		SHLQ(U8(4), R10)
		ADDQ(RSI, R10) // A's second row tile
	}
	Label("k")
	MOVLQSX(Mem{Base: R14}, RBX)
	ADDQ(R12, RBX)
	tileMem(true, 4, RSI, RDX, 0)
	if mt == 1 {
		LEAQ(Mem{Base: RBX, Disp: 128}, RDI)
		tileMem(true, 5, RBX, R8, 0)
		tileMem(true, 6, RBX, R8, 64)
		tileMem(true, 7, RDI, R8, 0)
		tdpbsud(0, 4, 5)
		tdpbsud(1, 4, 6)
		tdpbsud(2, 4, 7)
		tileMem(true, 5, RDI, R8, 64)
		tdpbsud(3, 4, 5)
	} else {
		tileMem(true, 5, R10, RDX, 0)
		tileMem(true, 6, RBX, R8, 0)
		tileMem(true, 7, RBX, R8, 64)
		tdpbsud(0, 4, 6)
		tdpbsud(1, 4, 7)
		tdpbsud(2, 5, 6)
		tdpbsud(3, 5, 7)
		ADDQ(U8(64), R10)
	}
	ADDQ(U8(64), RSI)
	ADDQ(U8(4), R14)
	DECQ(RCX)
	JNZ(LabelRef("k"))
	if mt == 1 {
		LEAQ(Mem{Base: R11, Disp: 128}, RAX)
		tileMem(false, 0, R11, R9, 0)
		tileMem(false, 1, R11, R9, 64)
		tileMem(false, 2, RAX, R9, 0)
		tileMem(false, 3, RAX, R9, 64)
	} else {
		MOVQ(R9, RAX)
		SHLQ(U8(4), RAX)
		ADDQ(R11, RAX)
		tileMem(false, 0, R11, R9, 0)
		tileMem(false, 1, R11, R9, 64)
		tileMem(false, 2, RAX, R9, 0)
		tileMem(false, 3, RAX, R9, 64)
	}
	ADDQ(U32(cols), R12)
	ADDQ(U32(cols), R11)
	DECQ(R13)
	JNZ(LabelRef("blk"))
	tilerelease()
	RET()
}

// i8Gather emits kernI8Gather: for each of k4 (quad, tap) rows, the nv
// 64-byte vectors at b+offs[k] copied to dst+k*ldd.
func i8Gather() {
	TEXT("kernI8Gather", NOSPLIT, "func(k4 int, b *uint8, offs *int32, nv int, dst *uint8, ldd int)")
	Pragma("noescape")
	Comment(
		"for k := range k4 {",
		"	copy(dst[k*ldd:][:64*nv], b[offs[k]:][:64*nv])",
		"}",
	)
	k4 := Load(Param("k4"), GP64())
	b := Load(Param("b"), GP64())
	offs := Load(Param("offs"), GP64())
	nv := Load(Param("nv"), GP64())
	dst := Load(Param("dst"), GP64())
	ldd := Load(Param("ldd"), GP64())
	src, d, n := GP64(), GP64(), GP64()
	TESTQ(k4, k4)
	JZ(LabelRef("done"))
	TESTQ(nv, nv)
	JZ(LabelRef("done"))
	Label("row")
	MOVLQSX(Mem{Base: offs}, src)
	ADDQ(b, src)
	MOVQ(dst, d)
	MOVQ(nv, n)
	CMPQ(n, Imm(4))
	JLT(LabelRef("one"))
	Label("four") // four vectors at a time while they last
	for j := range 4 {
		VMOVDQU64(Mem{Base: src, Disp: 64 * j}, zmm[j])
	}
	for j := range 4 {
		VMOVDQU64(zmm[j], Mem{Base: d, Disp: 64 * j})
	}
	ADDQ(U32(256), src)
	ADDQ(U32(256), d)
	SUBQ(Imm(4), n)
	CMPQ(n, Imm(4))
	JGE(LabelRef("four"))
	TESTQ(n, n)
	JZ(LabelRef("next"))
	Label("one")
	VMOVDQU64(Mem{Base: src}, Z0)
	VMOVDQU64(Z0, Mem{Base: d})
	ADDQ(Imm(64), src)
	ADDQ(Imm(64), d)
	DECQ(n)
	JNZ(LabelRef("one"))
	Label("next")
	ADDQ(Imm(4), offs)
	ADDQ(ldd, dst)
	DECQ(k4)
	JNZ(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}

// i8EpiY emits kernI8EpiY: the epilogue of kernI8Y on mr rows of nv
// vectors of int32 sums (row i at c+i*ldc bytes).
func i8EpiY() {
	TEXT("kernI8EpiY", NOSPLIT,
		"func(mr, nv int, c *int32, ldc int, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int)")
	Pragma("noescape")
	Comment(
		"for i := range mr {",
		"	for v := range nv {",
		"		for l := range 16 { // the lanes set in vinfo[2v], in order, to d = vinfo[2v+1], d+1, ...",
		"			r := float32(c[i*ldc/4+16v+l])*sc[i] + bias[i]",
		"			if flags&2 != 0 { r += add[yoff[i]+d] }",
		"			if flags&1 != 0 { r = max(r, 0) }",
		"			y[yoff[i]+d] = r",
		"		}",
		"	}",
		"}",
	)
	i8EpiLoops(epiY)
}

// i8EpiQ emits kernI8EpiQ: the epilogue of kernI8Q on mr rows of nv
// vectors of int32 sums (row i at c+i*ldc bytes).
func i8EpiQ() {
	TEXT("kernI8EpiQ", NOSPLIT,
		"func(mr, nv int, c *int32, ldc int, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int)")
	Pragma("noescape")
	Comment(
		"for i := range mr {",
		"	for v := range nv {",
		"		for l := range 16 { // the lanes set in vinfo[2v]; d counts them from vinfo[2v+1]",
		"			r := float32(c[i*ldc/4+16v+l])*sc[i] + bias[i]",
		"			if flags&2 != 0 { r += add[aoff[i]+d] }",
		"			if flags&1 != 0 { r = max(r, 0) }",
		"			y[yoff[i]+16v+l] = uint8(min(max(roundEven(r*q[0]+q[1]), 0), 255))",
		"		}",
		"	}",
		"}",
	)
	i8EpiLoops(epiQ)
}

// i8EpiQF emits kernI8EpiQF: kernI8EpiQ on whole vectors of outputs in
// order (the AMX route on planes without halo columns): the residual at
// add[aoff[i]+16v+l], and lanes 0-7 and 8-15 stored at
// y[yoff[i]+voff[2v]] and y[yoff[i]+voff[2v+1]] (eight bytes each: one
// output row, or two of an 8-wide plane).
func i8EpiQF() {
	TEXT("kernI8EpiQF", NOSPLIT,
		"func(mr, nv int, c *int32, ldc int, y *uint8, yoff *int32, add *float32, aoff *int32, voff *int32, sc *float32, bias *float32, q *float32, flags int)")
	Pragma("noescape")
	Comment(
		"for i := range mr {",
		"	for v := range nv {",
		"		for l := range 16 {",
		"			r := float32(c[i*ldc/4+16v+l])*sc[i] + bias[i]",
		"			if flags&2 != 0 { r += add[aoff[i]+16v+l] }",
		"			if flags&1 != 0 { r = max(r, 0) }",
		"			y[yoff[i]+voff[2v+l/8]+l%8] = uint8(min(max(roundEven(r*q[0]+q[1]), 0), 255))",
		"		}",
		"	}",
		"}",
	)
	i8EpiLoops(epiQF)
}

// The stores of i8EpiLoops: kernI8EpiY's, kernI8EpiQ's, kernI8EpiQF's.
const (
	epiY = iota
	epiQ
	epiQF
)

// i8EpiLoops emits the loops of kernI8EpiY, kernI8EpiQ or kernI8EpiQF
// (mode): one body per epilogue variant, each a loop over the rows and,
// inside, over the vectors, with the arithmetic of i8KernelY and
// i8KernelQ.
func i8EpiLoops(mode int) {
	flags := Load(Param("flags"), GP64())
	VPXORD(Z31, Z31, Z31)
	if mode != epiY {
		q := Load(Param("q"), GP64())
		VBROADCASTSS(Mem{Base: q}, Z26)
		VBROADCASTSS(Mem{Base: q, Disp: 4}, Z27)
	}
	i, c := GP64(), GP64()
	for _, vr := range epilogueVariants(flags) {
		Label(vr.label)
		XORQ(i, i)
		Load(Param("c"), c)
		mr := Load(Param("mr"), GP64())
		TESTQ(mr, mr)
		JZ(LabelRef("done"))
		Label(vr.label + "_row")
		yrow, arow, vi := i8EpiRow(mode, vr.add, i)
		cv := GP64()
		MOVQ(c, cv)
		n := Load(Param("nv"), GP64())
		Label(vr.label + "_vec")
		i8EpiVec(mode, vr, yrow, arow, vi, cv)
		ADDQ(Imm(8), vi)
		ADDQ(Imm(64), cv)
		DECQ(n)
		JNZ(LabelRef(vr.label + "_vec"))
		ldc := Load(Param("ldc"), GP64())
		ADDQ(ldc, c)
		INCQ(i)
		mr2 := Load(Param("mr"), GP64())
		CMPQ(i, mr2)
		JLT(LabelRef(vr.label + "_row"))
		JMP(LabelRef("done"))
	}
	Label("done")
	VZEROUPPER()
	RET()
}

// i8EpiRow emits the start of row i of i8EpiLoops: filter i's scale and
// bias broadcast into Z28 and Z29, and the pointers to its outputs (y's
// plane, or byte plane), its residual (with add) and the vectors' table
// (vinfo, or voff for epiQF).
func i8EpiRow(mode int, add bool, i Register) (yrow, arow, vi GPVirtual) {
	sc := Load(Param("sc"), GP64())
	VBROADCASTSS(Mem{Base: sc, Index: i, Scale: 4}, Z28)
	bias := Load(Param("bias"), GP64())
	VBROADCASTSS(Mem{Base: bias, Index: i, Scale: 4}, Z29)
	yoff := Load(Param("yoff"), GP64())
	ro := GP64()
	MOVLQSX(Mem{Base: yoff, Index: i, Scale: 4}, ro)
	yrow = GP64()
	Load(Param("y"), yrow)
	if mode == epiY {
		LEAQ(Mem{Base: yrow, Index: ro, Scale: 4}, yrow)
	} else {
		ADDQ(ro, yrow) // byte planes
	}
	arow = GP64()
	if add {
		Load(Param("add"), arow)
		if mode != epiY {
			aoff := Load(Param("aoff"), GP64())
			MOVLQSX(Mem{Base: aoff, Index: i, Scale: 4}, ro)
		}
		LEAQ(Mem{Base: arow, Index: ro, Scale: 4}, arow)
	}
	vi = GP64()
	if mode == epiQF {
		Load(Param("voff"), vi)
	} else {
		Load(Param("vinfo"), vi)
	}
	return yrow, arow, vi
}

// i8EpiVec emits one vector of i8EpiLoops: the sums at cv dequantized,
// the residual added, ReLU, and the store (epiQ's and epiQF's quantized
// again); yrow moves on by 16 bytes for epiQ, arow by 64 for epiQF.
func i8EpiVec(mode int, vr epiVariant, yrow, arow, vi, cv GPVirtual) {
	m, d := GP64(), GP64()
	if mode != epiQF {
		MOVL(Mem{Base: vi}, m.As32())
		KMOVW(m.As32(), K1)
		SHRL(Imm(16), m.As32())
		KMOVW(m.As32(), K2)
		MOVLQSX(Mem{Base: vi, Disp: 4}, d)
	}
	VCVTDQ2PS(Mem{Base: cv}, Z0)
	VFMADD213PS(Z29, Z28, Z0)
	if vr.add {
		if mode == epiQF {
			VADDPS(Mem{Base: arow}, Z0, Z0)
			ADDQ(Imm(64), arow)
		} else {
			VMOVUPS_Z(Mem{Base: arow, Index: d, Scale: 4}, K2, Z30)
			VEXPANDPS_Z(Z30, K1, Z30)
			VADDPS(Z30, Z0, Z0)
		}
	}
	if vr.relu {
		VMAXPS(Z31, Z0, Z0)
	}
	if mode == epiY {
		VCOMPRESSPS_Z(Z0, K1, Z30)
		VMOVUPS(Z30, K2, Mem{Base: yrow, Index: d, Scale: 4})
		return
	}
	VFMADD213PS(Z27, Z26, Z0)
	VCVTPS2DQ(Z0, Z0)
	VPMAXSD(Z31, Z0, Z0)
	if mode == epiQ {
		VPMOVUSDB(Z0, K1, Mem{Base: yrow})
		ADDQ(Imm(16), yrow)
		return
	}
	VPMOVUSDB(Z0, X0)
	MOVLQSX(Mem{Base: vi}, d)
	MOVQ(X0, Mem{Base: yrow, Index: d, Scale: 1})
	MOVLQSX(Mem{Base: vi, Disp: 4}, d)
	MOVHPS(X0, Mem{Base: yrow, Index: d, Scale: 1})
}

// tapQuads emits kernI8TapQuads: for each of n byte planes (at byte
// idx[s] of planes, rows wq bytes apart), rows output rows of words, word
// x of row r holding the bytes at r*wq+x .. r*wq+x+3 (the three taps of a
// 3x3 kernel's row and one more), rows of w = 16*full+tailW words, one
// plane every ps bytes of dst. Each whole vector of 16 words loads 32
// bytes (13 past its taps); the tail loads only its own bytes (a mask).
func tapQuads() {
	var idx [64]byte
	for l := range 16 {
		for j := range 4 {
			idx[4*l+j] = byte(l + j)
		}
	}
	tbl := byteTable("i8tapIdx", idx[:])
	TEXT("kernI8TapQuads", NOSPLIT, "func(n int, planes *uint8, idx *int32, rows, wq, full, tailW int, dst *uint32, ps int)")
	Pragma("noescape")
	Comment(
		"for s := range n {",
		"	for r := range rows {",
		"		for x := range 16*full + tailW {",
		"			o := idx[s] + r*wq + x",
		"			dst[s*ps/4 + r*(16*full+tailW) + x] = planes[o] | planes[o+1]<<8 | planes[o+2]<<16 | planes[o+3]<<24",
		"		}",
		"	}",
		"}",
	)
	n := Load(Param("n"), GP64())
	planes := Load(Param("planes"), GP64())
	ix := Load(Param("idx"), GP64())
	dst := Load(Param("dst"), GP64())
	tailW := Load(Param("tailW"), GP64())
	m := GP64()
	MOVQ(U64(1), m)
	SHLXQ(tailW, m, m)
	DECQ(m)
	KMOVW(m.As32(), K3) // the tail's words
	LEAQ(Mem{Base: tailW, Disp: 3}, m)
	MOVQ(U64(1), tailW)
	SHLXQ(m, tailW, m)
	DECQ(m)
	KMOVD(m.As32(), K2) // and its bytes (tailW + 3)
	Load(Param("tailW"), tailW)
	VMOVDQU8(tbl.Offset(0), Z31)
	TESTQ(n, n)
	JZ(LabelRef("done"))
	src, d, r, c, row := GP64(), GP64(), GP64(), GP64(), GP64()
	Label("plane")
	MOVLQSX(Mem{Base: ix}, src)
	ADDQ(planes, src)
	MOVQ(dst, d)
	Load(Param("rows"), r)
	Label("row")
	MOVQ(src, row)
	Load(Param("full"), c)
	TESTQ(c, c)
	JZ(LabelRef("tail"))
	Label("vec")
	VMOVDQU8(Mem{Base: row}, Y0) // 32 bytes: 13 past the taps, in the plane (see amxTapsAsm)
	VPERMB(Z0, Z31, Z1)
	VMOVDQU32(Z1, Mem{Base: d})
	ADDQ(Imm(16), row)
	ADDQ(Imm(64), d)
	DECQ(c)
	JNZ(LabelRef("vec"))
	Label("tail")
	TESTQ(tailW, tailW)
	JZ(LabelRef("next"))
	VMOVDQU8_Z(Mem{Base: row}, K2, Y0)
	VPERMB(Z0, Z31, Z1)
	VMOVDQU32(Z1, K3, Mem{Base: d})
	LEAQ(Mem{Base: d, Index: tailW, Scale: 4}, d)
	Label("next")
	Load(Param("wq"), c)
	ADDQ(c, src)
	DECQ(r)
	JNZ(LabelRef("row"))
	ADDQ(Imm(4), ix)
	Load(Param("ps"), c)
	ADDQ(c, dst)
	DECQ(n)
	JNZ(LabelRef("plane"))
	Label("done")
	VZEROUPPER()
	RET()
}
