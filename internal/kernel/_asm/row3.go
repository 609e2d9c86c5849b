package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// row3MaxM is the most filters (tile rows) of a row3 kernel.
const row3MaxM = 3

// row3MaxNV is the widest row3 tile of m rows, in vectors (must match
// kernel.row3MaxNV): the m*nv accumulators and nv+1 B vectors fit in Z0-Z20
// beside 3*m broadcast weights (Z21-Z29) and two shifted vectors.
func row3MaxNV(m int) int {
	if m == 1 {
		return wideNV
	}
	return 20 / (m + 1)
}

// row3 emits kernRow3_<m>x<nv> (../row3_amd64.s; declared by hand in
// row3_amd64.go) for m = 1, 2, 3 and nv up to row3MaxNV(m): the m x 16*nv
// tile of a small filter group of a stride-1 convolution whose taps come
// in rows of three consecutive offsets (a 3-wide kernel row). The micro-kernels load one B vector per tap and
// vector, and at the tap offsets of a padded plane most of those 512-bit
// loads straddle two cache lines: one-filter groups ran at about half the
// FMA peak. Here each kernel row loads its nv+1 vectors once and makes the
// taps at +1 and +2 with VALIGND, which runs beside the FMAs: for m = 1,
// nv = 8, 9 loads instead of 24 per 24 FMAs. Each accumulator sums in the
// micro-kernels' order, so the results are theirs bit for bit.
func row3() {
	for m := 1; m <= row3MaxM; m++ {
		for nv := 1; nv <= row3MaxNV(m); nv++ {
			row3Kernel(m, nv)
		}
	}
}

// row3Kernel emits kernRow3_<m>x<nv>.
func row3Kernel(m, nv int) {
	TEXT(fmt.Sprintf("kernRow3_%dx%d", m, nv), NOSPLIT, "func(rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)")
	Pragma("noescape")
	Comment(
		fmt.Sprintf("for i := range %d {", m),
		fmt.Sprintf("	for j := range %d {", 16*nv),
		"		var s float32",
		"		for r := range rows {",
		"			for t := range 3 {",
		"				s += a[i*lda+3*r+t] * b[boffs[r]+t+j]",
		"			}",
		"		}",
		"		c[i*ldc+j] = s",
		"	}",
		"}",
	)
	acc := func(i, v int) VecPhysical { return zmm[i*nv+v] } // from Z0
	bv := func(v int) VecPhysical { return zmm[m*nv+v] }     // up to Z20
	w := func(i, t int) VecPhysical { return zmm[21+3*i+t] } // Z21-Z29
	shift := func(t int) VecPhysical { return zmm[29+t] }    // Z30, Z31
	rows := Load(Param("rows"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	b := Load(Param("b"), GP64())
	boffs := Load(Param("boffs"), GP64())
	arow := make([]GPVirtual, m)
	for i := range m {
		arow[i] = GP64()
		if i == 0 {
			MOVQ(a, arow[i])
		} else {
			LEAQ(Mem{Base: arow[i-1], Index: lda, Scale: 4}, arow[i])
		}
	}
	q := GP64()
	o := GP64()
	Comment("Zero the accumulators.")
	for i := range m {
		for v := range nv {
			VPXORD(acc(i, v), acc(i, v), acc(i, v))
		}
	}
	XORQ(q, q)
	TESTQ(rows, rows)
	JZ(LabelRef("store"))
	Label("loop")
	MOVLQSX(Mem{Base: boffs}, o)
	LEAQ(Mem{Base: b, Index: o, Scale: 4}, o)
	for i := range m {
		for t := range 3 {
			VBROADCASTSS(Mem{Base: arow[i], Index: q, Scale: 4, Disp: 4 * t}, w(i, t))
		}
	}
	for v := range nv + 1 {
		VMOVUPS(Mem{Base: o, Disp: 64 * v}, bv(v))
	}
	for v := range nv {
		for i := range m {
			VFMADD231PS(bv(v), w(i, 0), acc(i, v))
		}
		for t := 1; t <= 2; t++ {
			VALIGND(Imm(uint64(t)), bv(v), bv(v+1), shift(t))
			for i := range m {
				VFMADD231PS(shift(t), w(i, t), acc(i, v))
			}
		}
	}
	ADDQ(Imm(3), q)
	ADDQ(Imm(4), boffs)
	DECQ(rows)
	JNZ(LabelRef("loop"))
	Label("store")
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(Imm(2), ldc)
	for i := range m {
		for v := range nv {
			VMOVUPS(acc(i, v), Mem{Base: c, Disp: 64 * v})
		}
		if i < m-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}
