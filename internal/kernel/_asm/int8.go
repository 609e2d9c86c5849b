package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const (
	i8MaxMR = 6 // must match kernel.i8MaxMR: filters per tile
	i8MaxNV = 4 // must match kernel.i8MaxNV: 16-pixel vectors per tile
)

// int8Set emits the int8 kernels of package kernel (../int8_amd64.s,
// declared by hand in ../int8_amd64.go): kernI8_<mr>x<nv>, the VPDPBUSD
// micro-kernels, and kernQuant4, the activation quantizer.
func int8Set() {
	for mr := 1; mr <= i8MaxMR; mr++ {
		for nv := 1; nv <= i8MaxNV; nv++ {
			i8Kernel(mr, nv)
		}
	}
	quant4()
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
	acc := func(i, v int) VecPhysical { return zmm[i*nv+v] } // Z0-Z23
	bv := func(v int) VecPhysical { return zmm[24+v] }       // Z24-Z27
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
	for v := range nv {
		VMOVDQU32(Mem{Base: off, Disp: 64 * v}, bv(v))
	}
	for i := range mr {
		for v := range nv {
			VPDPBUSD_BCST(Mem{Base: arow[i], Index: p, Scale: 1}, bv(v), acc(i, v))
		}
	}
	ADDQ(Imm(4), p)
	CMPQ(p, k4)
	JLT(LabelRef("loop"))

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

// quant4 emits kernQuant4: four float planes quantized to uint8 and
// interleaved, one 32-bit word per pixel (channel j in byte j).
func quant4() {
	TEXT("kernQuant4", NOSPLIT, "func(n int, x0, x1, x2, x3 *float32, dst *uint32, inv, zp float32)")
	Pragma("noescape")
	Comment(
		"for p := range n { // n is a multiple of 16",
		"	var w uint32",
		"	for j, x := range [4]*float32{x0, x1, x2, x3} {",
		"		q := roundEven(x[p]*inv + zp) // VCVTPS2DQ",
		"		w |= uint32(min(max(q, 0), 255)) << (8 * j)",
		"	}",
		"	dst[p] = w",
		"}",
	)
	n := Load(Param("n"), GP64())
	xs := []Register{
		Load(Param("x0"), GP64()), Load(Param("x1"), GP64()),
		Load(Param("x2"), GP64()), Load(Param("x3"), GP64()),
	}
	dst := Load(Param("dst"), GP64())
	inv, zp := Z28, Z29
	VBROADCASTSS(Load(Param("inv"), XMM()), inv)
	VBROADCASTSS(Load(Param("zp"), XMM()), zp)
	hi := GP32()
	MOVL(U32(255), hi)
	VPBROADCASTD(hi, Z30)
	VPXORD(Z31, Z31, Z31)
	i := GP64()
	XORQ(i, i)
	SHLQ(Imm(2), n) // bytes of a float row
	TESTQ(n, n)
	JZ(LabelRef("done"))
	Label("loop")
	for j := range 4 {
		z := zmm[j]
		VMOVUPS(Mem{Base: xs[j], Index: i, Scale: 1}, z)
		VFMADD213PS(zp, inv, z)
		VCVTPS2DQ(z, z)
		VPMAXSD(Z31, z, z)
		VPMINSD(Z30, z, z)
		if j > 0 {
			VPSLLD(Imm(uint64(8*j)), z, z)
		}
	}
	VPORD(Z1, Z0, Z0)
	VPORD(Z3, Z2, Z2)
	VPORD(Z2, Z0, Z0)
	VMOVDQU32(Z0, Mem{Base: dst, Index: i, Scale: 1})
	ADDQ(Imm(64), i)
	CMPQ(i, n)
	JLT(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}
