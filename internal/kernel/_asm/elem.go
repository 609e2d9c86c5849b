package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// This file emits the elementwise AVX-512 kernels of package kernel
// (elem.go there): the layers' ReLU, residual add, BatchNorm statistics
// and affine maps. Each walks whole 16-float vectors only; the Go wrappers
// do the tail. Loops are unrolled 4 vectors deep with a 1-vector cleanup.

// elemLoop emits one elementwise loop over n floats (a multiple of 16):
// body emits the work for u vectors from float index i of each base.
func elemLoop(n Register, body func(u int, i Register)) {
	i := GP64()
	XORQ(i, i)
	Label("loop4")
	CMPQ(n, U32(64))
	JB(LabelRef("tail"))
	body(4, i)
	ADDQ(U32(64), i)
	SUBQ(U32(64), n)
	JMP(LabelRef("loop4"))
	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	body(1, i)
	ADDQ(U32(16), i)
	SUBQ(U32(16), n)
	JMP(LabelRef("tail"))
	Label("done")
}

// at is the u-th vector after float index i of base.
func at(base, i Register, u int) Mem { return Mem{Base: base, Index: i, Scale: 4, Disp: 64 * u} }

// at8 is the u-th half vector (8 floats) after float index i of base.
func at8(base, i Register, u int) Mem { return Mem{Base: base, Index: i, Scale: 4, Disp: 32 * u} }

func elems() {
	relu()
	reluMask()
	addTo()
	affine()
	affine2()
	sumSq()
	sumDot()
}

func relu() {
	TEXT("reluAVX", NOSPLIT, "func(x []float32)")
	Doc("reluAVX sets x[i] = max(x[i], 0), keeping NaNs; len(x) % 16 == 0.")
	Pragma("noescape")
	x := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	VPXORD(Z31, Z31, Z31)
	elemLoop(n, func(u int, i Register) {
		for j := range u {
			// Intel MAX returns the second source when either is NaN.
			VMAXPS(at(x, i, j), Z31, zmm[j])
		}
		for j := range u {
			VMOVUPS(zmm[j], at(x, i, j))
		}
	})
	VZEROUPPER()
	RET()
}

func reluMask() {
	TEXT("reluMaskAVX", NOSPLIT, "func(y, dy []float32)")
	Doc("reluMaskAVX sets dy[i] = 0 where y[i] <= 0; len(y) % 16 == 0, len(dy) >= len(y).")
	Pragma("noescape")
	y := Load(Param("y").Base(), GP64())
	dy := Load(Param("dy").Base(), GP64())
	n := Load(Param("y").Len(), GP64())
	VPXORD(Z31, Z31, Z31)
	ks := []Register{K1, K2, K3, K4}
	elemLoop(n, func(u int, i Register) {
		for j := range u {
			VMOVUPS(at(y, i, j), zmm[j])
			// Predicate 0x16 is NLE_UQ: not y <= 0, true for NaN.
			VCMPPS(U8(0x16), Z31, zmm[j], ks[j])
		}
		for j := range u {
			VMOVUPS_Z(at(dy, i, j), ks[j], zmm[4+j])
			VMOVUPS(zmm[4+j], at(dy, i, j))
		}
	})
	VZEROUPPER()
	RET()
}

func addTo() {
	TEXT("addToAVX", NOSPLIT, "func(dst, src []float32)")
	Doc("addToAVX sets dst[i] += src[i]; len(dst) % 16 == 0, len(src) >= len(dst).")
	Pragma("noescape")
	d := Load(Param("dst").Base(), GP64())
	s := Load(Param("src").Base(), GP64())
	n := Load(Param("dst").Len(), GP64())
	elemLoop(n, func(u int, i Register) {
		for j := range u {
			VMOVUPS(at(d, i, j), zmm[j])
		}
		for j := range u {
			VADDPS(at(s, i, j), zmm[j], zmm[j])
			VMOVUPS(zmm[j], at(d, i, j))
		}
	})
	VZEROUPPER()
	RET()
}

func affine() {
	TEXT("affineAVX", NOSPLIT, "func(x, y []float32, a, b float32)")
	Doc("affineAVX sets y[i] = a*x[i] + b; len(x) % 16 == 0, len(y) >= len(x).")
	Pragma("noescape")
	x := Load(Param("x").Base(), GP64())
	y := Load(Param("y").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	VBROADCASTSS(paramAddr("a"), Z30)
	VBROADCASTSS(paramAddr("b"), Z31)
	elemLoop(n, func(u int, i Register) {
		for j := range u {
			VMOVAPS(Z31, zmm[j])
			VFMADD231PS(at(x, i, j), Z30, zmm[j])
		}
		for j := range u {
			VMOVUPS(zmm[j], at(y, i, j))
		}
	})
	VZEROUPPER()
	RET()
}

func affine2() {
	TEXT("affine2AVX", NOSPLIT, "func(x, y, z []float32, a, b, c float32)")
	Doc("affine2AVX sets z[i] = a*x[i] + b*y[i] + c; len(x) % 16 == 0, len(y), len(z) >= len(x).")
	Pragma("noescape")
	x := Load(Param("x").Base(), GP64())
	y := Load(Param("y").Base(), GP64())
	z := Load(Param("z").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	VBROADCASTSS(paramAddr("a"), Z29)
	VBROADCASTSS(paramAddr("b"), Z30)
	VBROADCASTSS(paramAddr("c"), Z31)
	elemLoop(n, func(u int, i Register) {
		for j := range u {
			VMOVAPS(Z31, zmm[j])
			VFMADD231PS(at(x, i, j), Z29, zmm[j])
			VFMADD231PS(at(y, i, j), Z30, zmm[j])
		}
		for j := range u {
			VMOVUPS(zmm[j], at(z, i, j))
		}
	})
	VZEROUPPER()
	RET()
}

// sumSq emits sums in float64: s of x and ss of x*x, in 8 lanes each.
func sumSq() {
	TEXT("sumSqAVX", NOSPLIT, "func(x []float32, out *[16]float64)")
	Doc(
		"sumSqAVX adds, in float64, x[i] to out[i%8] and x[i]*x[i] to out[8+i%8];",
		"len(x) % 16 == 0.",
	)
	Pragma("noescape")
	x := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	o := Load(Param("out"), GP64())
	// Accumulators: sums Z16-Z19, squares Z20-Z23.
	for j := range 8 {
		VPXORQ(zmm[16+j], zmm[16+j], zmm[16+j])
	}
	elemLoop(n, func(u int, i Register) {
		for j := range 2 * u {
			VCVTPS2PD(at8(x, i, j), zmm[j])
		}
		for j := range 2 * u {
			VADDPD(zmm[j], zmm[16+j%4], zmm[16+j%4])
			VFMADD231PD(zmm[j], zmm[j], zmm[20+j%4])
		}
	})
	for _, base := range []int{16, 20} {
		VADDPD(zmm[base+1], zmm[base], zmm[base])
		VADDPD(zmm[base+3], zmm[base+2], zmm[base+2])
		VADDPD(zmm[base+2], zmm[base], zmm[base])
	}
	VMOVUPD(Z16, Mem{Base: o})
	VMOVUPD(Z20, Mem{Base: o, Disp: 64})
	VZEROUPPER()
	RET()
}

// sumDot emits sums in float64: s of x and sxy of x*y, in 8 lanes each.
func sumDot() {
	TEXT("sumDotAVX", NOSPLIT, "func(x, y []float32, out *[16]float64)")
	Doc(
		"sumDotAVX adds, in float64, x[i] to out[i%8] and x[i]*y[i] to out[8+i%8];",
		"len(x) % 16 == 0, len(y) >= len(x).",
	)
	Pragma("noescape")
	x := Load(Param("x").Base(), GP64())
	y := Load(Param("y").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	o := Load(Param("out"), GP64())
	for j := range 8 {
		VPXORQ(zmm[16+j], zmm[16+j], zmm[16+j])
	}
	elemLoop(n, func(u int, i Register) {
		for j := range 2 * u {
			VCVTPS2PD(at8(x, i, j), zmm[j])
			VCVTPS2PD(at8(y, i, j), zmm[8+j])
		}
		for j := range 2 * u {
			VADDPD(zmm[j], zmm[16+j%4], zmm[16+j%4])
			VFMADD231PD(zmm[8+j], zmm[j], zmm[20+j%4])
		}
	})
	for _, base := range []int{16, 20} {
		VADDPD(zmm[base+1], zmm[base], zmm[base])
		VADDPD(zmm[base+3], zmm[base+2], zmm[base+2])
		VADDPD(zmm[base+2], zmm[base], zmm[base])
	}
	VMOVUPD(Z16, Mem{Base: o})
	VMOVUPD(Z20, Mem{Base: o, Disp: 64})
	VZEROUPPER()
	RET()
}

// paramAddr is the stack address of the scalar parameter name.
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}
