package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// quantDeint emits kernQuantDeint, kernQuantRows for the packing of a
// stride-2 conv's input: each row's even and odd values quantized into
// two byte rows (its two column phases), 16 pairs at a time (two loads,
// split by two two-table permutes, VPERMT2PS, and narrowed together as
// in kernQuantRows, table i8quantOrder), the last n%16 pairs masked.
func quantDeint() {
	var idx [32]uint32
	for m := range 16 {
		idx[m], idx[16+m] = uint32(2*m), uint32(2*m+1)
	}
	tbl := GLOBL("i8deintIdx", RODATA|NOPTR)
	for o, v := range idx {
		DATA(4*o, U32(v))
	}
	TEXT("kernQuantDeint", NOSPLIT, "func(rows, n int, x *float32, xp int, d0, d1 *uint8, dp int, inv, zp float32)")
	Pragma("noescape")
	Comment(
		"for r := range rows {",
		"	for p := range n {",
		"		d0[r*dp+p] = uint8(min(max(roundEven(x[r*xp+2*p]*inv + zp), 0), 255))",
		"		d1[r*dp+p] = uint8(min(max(roundEven(x[r*xp+2*p+1]*inv + zp), 0), 255))",
		"	}",
		"}",
	)
	rows := Load(Param("rows"), GP64())
	n := Load(Param("n"), GP64())
	x := Load(Param("x"), GP64())
	xp := Load(Param("xp"), GP64())
	d0 := Load(Param("d0"), GP64())
	d1 := Load(Param("d1"), GP64())
	dp := Load(Param("dp"), GP64())
	inv, zp, even, odd := Z28, Z29, Z26, Z27
	VBROADCASTSS(Load(Param("inv"), XMM()), inv)
	VBROADCASTSS(Load(Param("zp"), XMM()), zp)
	VMOVDQU32(tbl.Offset(0), even)
	VMOVDQU32(tbl.Offset(64), odd)
	order := Z25
	VMOVDQU32(quantOrder, order)
	VPXORD(Z31, Z31, Z31)
	SHLQ(Imm(2), xp)
	tail := GP64()
	MOVQ(n, tail)
	ANDQ(Imm(15), tail)
	full := GP64()
	MOVQ(n, full)
	SHRQ(Imm(4), full)
	m := GP64() // (1 << tail) - 1: the tail's pairs
	MOVQ(U64(1), m)
	SHLXQ(tail, m, m)
	DECQ(m)
	KMOVW(m.As32(), K1)
	m2 := GP64() // (1 << 2*tail) - 1: its values, the low 16 in K2, the rest in K3
	MOVQ(U64(1), m2)
	SHLQ(Imm(1), tail)
	SHLXQ(tail, m2, m2)
	DECQ(m2)
	KMOVD(m2.As32(), K2)
	KSHIFTRD(Imm(16), K2, K3)
	TESTQ(rows, rows)
	JZ(LabelRef("done"))
	px, p0, p1, v := GP64(), GP64(), GP64(), GP64()
	split := func(clamp bool) { // Z0, Z1: 32 values -> Z0 even, Z2 odd, quantized (clamp: at least 0)
		VMOVDQA64(Z0, Z2)
		VPERMT2PS(Z1, even, Z0)
		VPERMT2PS(Z1, odd, Z2)
		for _, z := range []VecPhysical{Z0, Z2} {
			VFMADD213PS(zp, inv, z)
			VCVTPS2DQ(z, z)
			if clamp {
				VPMAXSD(Z31, z, z)
			}
		}
	}
	Label("row")
	MOVQ(x, px)
	MOVQ(d0, p0)
	MOVQ(d1, p1)
	MOVQ(full, v)
	TESTQ(v, v)
	JZ(LabelRef("tail"))
	Label("vec")
	VMOVUPS(Mem{Base: px}, Z0)
	VMOVUPS(Mem{Base: px, Disp: 64}, Z1)
	split(false)
	VPACKSSDW(Z2, Z0, Z0) // lane k: dword k of the even and the odd values, as words
	VPACKUSWB(Z0, Z0, Z0) // as bytes, clamped to [0, 255]
	VPERMD(Z0, order, Z0) // the even values' 16 bytes, then the odd ones'
	VMOVDQU(X0, Mem{Base: p0})
	VEXTRACTI32X4(Imm(1), Z0, Mem{Base: p1})
	ADDQ(Imm(128), px)
	ADDQ(Imm(16), p0)
	ADDQ(Imm(16), p1)
	DECQ(v)
	JNZ(LabelRef("vec"))
	Label("tail")
	KORTESTW(K1, K1)
	JZ(LabelRef("next"))
	VMOVUPS_Z(Mem{Base: px}, K2, Z0)
	VMOVUPS_Z(Mem{Base: px, Disp: 64}, K3, Z1)
	split(true)
	VPMOVUSDB(Z0, K1, Mem{Base: p0})
	VPMOVUSDB(Z2, K1, Mem{Base: p1})
	Label("next")
	ADDQ(xp, x)
	ADDQ(dp, d0)
	ADDQ(dp, d1)
	DECQ(rows)
	JNZ(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}
