package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const (
	dotMaxNB = 4 // must match kernel.dotMaxNB: rows of A (filters) per tile
	dotMaxKB = 6 // must match kernel.dotMaxKB: rows of B (taps) per tile
)

// dot emits kernDot_<nb>x<kb> (../dot_amd64.s; declared by hand in
// dot_amd64.go) for nb <= dotMaxNB, kb <= dotMaxKB: an nb x kb tile of
// inner products over q vectors, c[i*ldc+j] += sum_q a[i*lda+q] *
// b[boffs[j]+q]. It is the filter gradient of a convolution with few
// filters (package kernel, direct_filter.go): dy rows against shifted
// input planes, nb+kb loads per nb*kb FMAs, each accumulator reduced to
// one float at the end.
func dot() {
	for nb := 1; nb <= dotMaxNB; nb++ {
		for kb := 1; kb <= dotMaxKB; kb++ {
			dotKernel(nb, kb)
		}
	}
}

// dotKernel emits kernDot_<nb>x<kb>.
func dotKernel(nb, kb int) {
	TEXT(fmt.Sprintf("kernDot_%dx%d", nb, kb), NOSPLIT, "func(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)")
	Pragma("noescape")
	Comment(
		fmt.Sprintf("for i := range %d {", nb),
		fmt.Sprintf("	for j := range %d {", kb),
		"		var s float32 // 16 partial sums, added at the end",
		"		for p := range 16 * q {",
		"			s += a[i*lda+p] * b[boffs[j]+p]",
		"		}",
		"		c[i*ldc+j] += s",
		"	}",
		"}",
	)
	acc := func(i, j int) VecPhysical { return zmm[i*kb+j] } // Z0-Z23
	av := func(i int) VecPhysical { return zmm[24+i] }       // Z24-Z27
	bv := func(j int) VecPhysical { return zmm[28+j%2] }     // Z28, Z29
	q := Load(Param("q"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	b := Load(Param("b"), GP64())
	boffs := Load(Param("boffs"), GP64())
	arow := make([]GPVirtual, nb)
	for i := range nb {
		arow[i] = GP64()
		if i == 0 {
			MOVQ(a, arow[i])
		} else {
			LEAQ(Mem{Base: arow[i-1], Index: lda, Scale: 4}, arow[i])
		}
	}
	brow := make([]GPVirtual, kb)
	for j := range kb {
		brow[j] = GP64()
		MOVLQSX(Mem{Base: boffs, Disp: 4 * j}, brow[j])
		LEAQ(Mem{Base: b, Index: brow[j], Scale: 4}, brow[j])
	}
	Comment("Zero the accumulators.")
	for i := range nb {
		for j := range kb {
			VPXORD(acc(i, j), acc(i, j), acc(i, j))
		}
	}
	p := GP64()
	XORQ(p, p)
	SHLQ(Imm(6), q) // bytes
	TESTQ(q, q)
	JZ(LabelRef("reduce"))
	Label("loop")
	for i := range nb {
		VMOVUPS(Mem{Base: arow[i], Index: p, Scale: 1}, av(i))
	}
	for j := range kb {
		VMOVUPS(Mem{Base: brow[j], Index: p, Scale: 1}, bv(j))
		for i := range nb {
			VFMADD231PS(av(i), bv(j), acc(i, j))
		}
	}
	ADDQ(Imm(64), p)
	CMPQ(p, q)
	JLT(LabelRef("loop"))

	Label("reduce")
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(Imm(2), ldc)
	for i := range nb {
		for j := range kb {
			z := acc(i, j)
			y, x := z.AsY(), z.AsX()
			VEXTRACTF64X4(Imm(1), z, Y30)
			VADDPS(Y30, y, y)
			VEXTRACTF32X4(Imm(1), y, X30)
			VADDPS(X30, x, x)
			VMOVHLPS(x, x, X30)
			VADDPS(X30, x, x)
			VMOVSHDUP(x, X30)
			VADDSS(X30, x, x)
			VADDSS(Mem{Base: c, Disp: 4 * j}, x, x)
			VMOVSS(x, Mem{Base: c, Disp: 4 * j})
		}
		if i < nb-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}
