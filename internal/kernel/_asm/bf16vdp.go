package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// This file emits the bf16 products on AVX512_BF16 (bf16Set): the
// VDPBF16PS route of the bf16 convolutions, for CPUs without AMX.

// vdpGemm emits vdpGemm<nv>: C (8 rows x 16*nv fp32 columns, ldc bytes
// apart) = A (8 rows, lda bytes apart, bf16 along K) times B (kp rows of
// 16*nv bf16 pairs, ldb bytes apart), plus C itself when acc != 0, over kp
// pairs along K (kp even; none when kp < 2). It is amxBlocks' and amxAcc's product on
// AVX512_BF16's VDPBF16PS, for CPUs without AMX whose VDPBF16PS outruns
// the FMA (AMD Zen 4): each step broadcasts one pair of each A row against
// B's row, 8*nv VDPBF16PS into 8*nv accumulators.
func vdpGemm(nv int) {
	TEXT(fmt.Sprintf("vdpGemm%d", nv), NOSPLIT, "func(a *uint16, lda int, b *uint32, ldb int, c *float32, ldc int, kp, acc int)")
	Pragma("noescape")
	Load(Param("a"), RSI)
	Load(Param("lda"), RDX)
	Load(Param("b"), RBX)
	Load(Param("ldb"), R8)
	Load(Param("c"), R11)
	Load(Param("ldc"), R9)
	Load(Param("kp"), RCX)
	SHRQ(U8(1), RCX) // two pairs a step
	// Rows 0-2 from RSI, 3-5 from RDI, 6-7 from R10 (A); R11, R12, R13 (C).
	LEAQ(Mem{Base: RSI, Index: RDX, Scale: 2}, RDI)
	ADDQ(RDX, RDI)
	LEAQ(Mem{Base: RDI, Index: RDX, Scale: 2}, R10)
	ADDQ(RDX, R10)
	LEAQ(Mem{Base: R11, Index: R9, Scale: 2}, R12)
	ADDQ(R9, R12)
	LEAQ(Mem{Base: R12, Index: R9, Scale: 2}, R13)
	ADDQ(R9, R13)
	row := func(i int, a, c bool) Mem {
		base := [3]Physical{RSI, RDI, R10}
		if c {
			base = [3]Physical{R11, R12, R13}
		}
		m := Mem{Base: base[i/3]}
		if i%3 > 0 {
			m.Index, m.Scale = RDX, byte(i%3)
			if c {
				m.Index = R9
			}
		}
		return m
	}
	accReg := func(i, j int) VecPhysical { return zmm[i*nv+j] }
	Load(Param("acc"), RAX)
	TESTQ(RAX, RAX)
	JZ(LabelRef(fmt.Sprintf("vdpzero%d", nv)))
	for i := range 8 {
		for j := range nv {
			VMOVUPS(row(i, false, true).Offset(64*j), accReg(i, j))
		}
	}
	JMP(LabelRef(fmt.Sprintf("vdploop%d", nv)))
	Label(fmt.Sprintf("vdpzero%d", nv))
	for i := range 8 {
		for j := range nv {
			VPXORD(accReg(i, j), accReg(i, j), accReg(i, j))
		}
	}
	Label(fmt.Sprintf("vdploop%d", nv))
	TESTQ(RCX, RCX) // kp < 2: no products
	JZ(LabelRef(fmt.Sprintf("vdpstore%d", nv)))
	Label(fmt.Sprintf("vdpstep%d", nv))
	for u := range 2 { // pair 2t at B's row RBX, pair 2t+1 one ldb on
		for j := range nv {
			m := Mem{Base: RBX, Disp: 64 * j}
			if u == 1 {
				m.Index, m.Scale = R8, 1
			}
			VMOVDQU32(m, zmm[24+2*u+j])
		}
		for i := range 8 {
			bc := 28 + i%4
			VPBROADCASTD(row(i, true, false).Offset(4*u), zmm[bc])
			for j := range nv {
				vdpbf16ps(byte(24+2*u+j), byte(bc), byte(i*nv+j))
			}
		}
	}
	ADDQ(U8(8), RSI)
	ADDQ(U8(8), RDI)
	ADDQ(U8(8), R10)
	LEAQ(Mem{Base: RBX, Index: R8, Scale: 2}, RBX)
	DECQ(RCX)
	JNZ(LabelRef(fmt.Sprintf("vdpstep%d", nv)))
	Label(fmt.Sprintf("vdpstore%d", nv))
	for i := range 8 {
		for j := range nv {
			VMOVUPS(accReg(i, j), row(i, false, true).Offset(64*j))
		}
	}
	VZEROUPPER()
	RET()
}
