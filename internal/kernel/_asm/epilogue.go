package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// This file emits the AVX-512 row kernels of package kernel that are not
// micro-kernels: epiRowsAVX512 (../epilogue_amd64.s; the conv epilogue and
// the zero-padding copy, epilogue.go there) and deintAVX512
// (../deint_amd64.s; the stride-2 phase split). Their Go declarations and
// wrappers are hand-written in epilogue_amd64.go and deint_amd64.go, so the
// generator writes no stubs for them.

// lowMask sets k to the low CX lanes (CX <= 16): (1<<CX) - 1.
func lowMask(k Op) {
	t := GP32()
	MOVL(U32(1), t)
	SHLL(CL, t)
	DECL(t)
	KMOVW(t, k)
}

// epilogue emits epiRowsAVX512, epiFlatAVX512 and padFlatAVX512.
func epilogue() {
	epiFlat()
	padFlat()
	TEXT("epiRowsAVX512", NOSPLIT, "func(dst, src, add *float32, rows, wo, sp, dp int, b float32, flags int32)")
	Pragma("noescape")
	Comment(
		"biasActRowsGo and padRowsGo with 512-bit vectors: for each of rows rows,",
		"v = src row (+ b unless flags&2) (+ add row) (max(0, v) if flags&1) into",
		"dst, whole vectors then the last wo%16 values under the mask K1; with",
		"flags&4, the dp-wo (<= 16) floats after each dst row are zeroed (K2).",
		"Row pitches: src sp, dst dp, add wo (floats).",
	)
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	add := Load(Param("add"), GP64())
	rows := Load(Param("rows"), GP64())
	wo := Load(Param("wo"), GP64())
	sp := Load(Param("sp"), GP64())
	dp := Load(Param("dp"), GP64())
	VBROADCASTSS(paramAddr("b"), Z2)
	flags := Load(Param("flags"), GP32())
	VPXORD(Z3, Z3, Z3)

	Comment("K1: the last wo%16 lanes; K2: the dp-wo gap lanes.")
	MOVQ(wo, RCX)
	ANDQ(U8(15), RCX)
	lowMask(K1)
	MOVQ(dp, RCX)
	SUBQ(wo, RCX)
	ANDQ(U8(31), RCX)
	lowMask(K2)
	SHLQ(U8(2), sp)
	SHLQ(U8(2), dp)

	n, off := GP64(), GP64()
	Label("row")
	TESTQ(rows, rows)
	JZ(LabelRef("done"))
	MOVQ(wo, n)
	XORQ(off, off)

	Label("col")
	CMPQ(n, U8(16))
	JLT(LabelRef("tail"))
	VMOVUPS(Mem{Base: src, Index: off, Scale: 1}, Z0)
	TESTL(U32(2), flags)
	JNZ(LabelRef("nobias"))
	VADDPS(Z2, Z0, Z0)
	Label("nobias")
	TESTQ(add, add)
	JZ(LabelRef("noadd"))
	VADDPS(Mem{Base: add, Index: off, Scale: 1}, Z0, Z0)
	Label("noadd")
	TESTL(U32(1), flags)
	JZ(LabelRef("norelu"))
	Comment("max(0, v): MAXPS returns its second source (v) when either is NaN.")
	VMAXPS(Z0, Z3, Z0)
	Label("norelu")
	VMOVUPS(Z0, Mem{Base: dst, Index: off, Scale: 1})
	ADDQ(U8(64), off)
	SUBQ(U8(16), n)
	JMP(LabelRef("col"))

	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("gap"))
	VMOVUPS_Z(Mem{Base: src, Index: off, Scale: 1}, K1, Z0)
	TESTL(U32(2), flags)
	JNZ(LabelRef("tnobias"))
	VADDPS(Z2, Z0, Z0)
	Label("tnobias")
	TESTQ(add, add)
	JZ(LabelRef("tnoadd"))
	VMOVUPS_Z(Mem{Base: add, Index: off, Scale: 1}, K1, Z1)
	VADDPS(Z1, Z0, Z0)
	Label("tnoadd")
	TESTL(U32(1), flags)
	JZ(LabelRef("tnorelu"))
	VMAXPS(Z0, Z3, Z0)
	Label("tnorelu")
	VMOVUPS(Z0, K1, Mem{Base: dst, Index: off, Scale: 1})

	Label("gap")
	TESTL(U32(4), flags)
	JZ(LabelRef("next"))
	g := GP64()
	LEAQ(Mem{Base: dst, Index: wo, Scale: 4}, g)
	VMOVUPS(Z3, K2, Mem{Base: g})

	Label("next")
	ADDQ(dp, dst)
	TESTQ(add, add)
	JZ(LabelRef("nextrow"))
	LEAQ(Mem{Base: add, Index: wo, Scale: 4}, add)
	Label("nextrow")
	ADDQ(sp, src)
	DECQ(rows)
	JMP(LabelRef("row"))

	Label("done")
	VZEROUPPER()
	RET()
}

// deint emits deintAVX512.
func deint() {
	TEXT("deintAVX512", NOSPLIT, "func(even, odd, src *float32, idx *int32, rows, w, sp, dp int)")
	Pragma("noescape")
	Comment(
		"deinterleaveRowsGo with 512-bit vectors: 32 input floats at a time are",
		"split by VPERMI2PS with the index vectors idx[0:16] (even lanes) and",
		"idx[16:32] (odd lanes); the last w%32 under masks K1/K2 (loads) and",
		"K3/K4 (stores).",
	)
	even := Load(Param("even"), GP64())
	odd := Load(Param("odd"), GP64())
	src := Load(Param("src"), GP64())
	idx := Load(Param("idx"), GP64())
	VMOVDQU32(Mem{Base: idx}, Z6)
	VMOVDQU32(Mem{Base: idx, Disp: 64}, Z7)
	rows := Load(Param("rows"), GP64())
	w := Load(Param("w"), GP64())
	sp := Load(Param("sp"), GP64())
	dp := Load(Param("dp"), GP64())
	SHLQ(U8(2), sp)
	SHLQ(U8(2), dp)

	Comment("r = w % 32; w -= r.")
	r := GP64()
	MOVQ(w, r)
	ANDQ(U8(31), r)
	SUBQ(r, w)

	Comment("K1: min(r, 16) lanes.")
	MOVQ(r, RCX)
	CMPQ(RCX, U8(16))
	JLE(LabelRef("m1"))
	MOVQ(U32(16), RCX)
	Label("m1")
	lowMask(K1)

	Comment("K2: max(r-16, 0) lanes.")
	MOVQ(r, RCX)
	SUBQ(U8(16), RCX)
	JGE(LabelRef("m2"))
	XORQ(RCX, RCX)
	Label("m2")
	lowMask(K2)

	Comment("K3: (r+1)/2 lanes; K4: r/2 lanes.")
	MOVQ(r, RCX)
	INCQ(RCX)
	SHRQ(U8(1), RCX)
	lowMask(K3)
	MOVQ(r, RCX)
	SHRQ(U8(1), RCX)
	lowMask(K4)

	i, o := GP64(), GP64() // float index into src, byte offset into even/odd
	Label("row")
	TESTQ(rows, rows)
	JZ(LabelRef("done"))
	XORQ(i, i)
	XORQ(o, o)

	Label("chunk")
	CMPQ(i, w)
	JGE(LabelRef("tail"))
	VMOVUPS(Mem{Base: src, Index: i, Scale: 4}, Z0)
	VMOVUPS(Mem{Base: src, Index: i, Scale: 4, Disp: 64}, Z1)
	VMOVDQA32(Z6, Z2)
	VPERMI2PS(Z1, Z0, Z2)
	VMOVDQA32(Z7, Z3)
	VPERMI2PS(Z1, Z0, Z3)
	VMOVUPS(Z2, Mem{Base: even, Index: o, Scale: 1})
	VMOVUPS(Z3, Mem{Base: odd, Index: o, Scale: 1})
	ADDQ(U8(32), i)
	ADDQ(U8(64), o)
	JMP(LabelRef("chunk"))

	Label("tail")
	TESTQ(r, r)
	JZ(LabelRef("next"))
	VMOVUPS_Z(Mem{Base: src, Index: i, Scale: 4}, K1, Z0)
	VMOVUPS_Z(Mem{Base: src, Index: i, Scale: 4, Disp: 64}, K2, Z1)
	VMOVDQA32(Z6, Z2)
	VPERMI2PS(Z1, Z0, Z2)
	VMOVDQA32(Z7, Z3)
	VPERMI2PS(Z1, Z0, Z3)
	VMOVUPS(Z2, K3, Mem{Base: even, Index: o, Scale: 1})
	VMOVUPS(Z3, K4, Mem{Base: odd, Index: o, Scale: 1})

	Label("next")
	ADDQ(sp, src)
	ADDQ(dp, even)
	ADDQ(dp, odd)
	DECQ(rows)
	JMP(LabelRef("row"))

	Label("done")
	VZEROUPPER()
	RET()
}

// epiFlat emits epiFlatAVX512.
func epiFlat() {
	TEXT("epiFlatAVX512", NOSPLIT, "func(dst, src *float32, masks *uint16, nvec int, b float32, relu int32)")
	Pragma("noescape")
	Comment(
		"epiFlatGo with 512-bit vectors: for each of nvec vectors, the lanes",
		"its mask (masks[v]) sets get src + b (max(0, .) if relu), the others",
		"0, and the whole vector is stored to dst.",
	)
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	masks := Load(Param("masks"), GP64())
	n := Load(Param("nvec"), GP64())
	VBROADCASTSS(paramAddr("b"), Z2)
	relu := Load(Param("relu"), GP32())
	VPXORD(Z3, Z3, Z3)
	TESTQ(n, n)
	JZ(LabelRef("done"))
	TESTL(relu, relu)
	JZ(LabelRef("plain"))

	Label("relu")
	KMOVW(Mem{Base: masks}, K1)
	VADDPS_Z(Mem{Base: src}, Z2, K1, Z0)
	Comment("max(0, v): MAXPS returns its second source (v) when either is NaN.")
	VMAXPS(Z0, Z3, Z0)
	VMOVUPS(Z0, Mem{Base: dst})
	ADDQ(U8(2), masks)
	ADDQ(U8(64), src)
	ADDQ(U8(64), dst)
	DECQ(n)
	JNZ(LabelRef("relu"))
	JMP(LabelRef("done"))

	Label("plain")
	KMOVW(Mem{Base: masks}, K1)
	VADDPS_Z(Mem{Base: src}, Z2, K1, Z0)
	VMOVUPS(Z0, Mem{Base: dst})
	ADDQ(U8(2), masks)
	ADDQ(U8(64), src)
	ADDQ(U8(64), dst)
	DECQ(n)
	JNZ(LabelRef("plain"))

	Label("done")
	VZEROUPPER()
	RET()
}

// padFlat emits padFlatAVX512.
func padFlat() {
	TEXT("padFlatAVX512", NOSPLIT, "func(dst, src *float32, masks *uint16, nvec, set int)")
	Pragma("noescape")
	Comment(
		"padFlatGo with 512-bit vectors: for each of nvec vectors, the lanes",
		"its mask (masks[v]) sets get the next values of src in order, the",
		"others 0, and the whole vector is stored to dst. The values come by a",
		"plain load of the next 16 (masked to the set-i left near the end of",
		"src) and a register VEXPANDPS: the expand from memory ran at about 8",
		"cycles a vector on an Intel Xeon (family 6 model 167).",
	)
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	masks := Load(Param("masks"), GP64())
	n := Load(Param("nvec"), GP64())
	left := GP64()
	Load(Param("set"), left)
	t, u := GP32(), GP32()
	TESTQ(n, n)
	JZ(LabelRef("done"))

	Label("vec")
	MOVWLZX(Mem{Base: masks}, t)
	KMOVW(t, K1)
	CMPQ(left, U8(16))
	JLT(LabelRef("short"))
	VMOVUPS(Mem{Base: src}, Z1)
	JMP(LabelRef("expand"))
	Label("short")
	Comment("Fewer than 16 values left: load only those (K2: the low set-i lanes).")
	MOVL(U32(0xffff), u)
	BZHIL(left.As32(), u, u)
	KMOVW(u, K2)
	VMOVUPS_Z(Mem{Base: src}, K2, Z1)
	Label("expand")
	VEXPANDPS_Z(Z1, K1, Z0)
	VMOVUPS(Z0, Mem{Base: dst})
	POPCNTL(t, t)
	LEAQ(Mem{Base: src, Index: t.As64(), Scale: 4}, src)
	SUBQ(t.As64(), left)
	ADDQ(U8(2), masks)
	ADDQ(U8(64), dst)
	DECQ(n)
	JNZ(LabelRef("vec"))

	Label("done")
	VZEROUPPER()
	RET()
}
