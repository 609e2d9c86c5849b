// Command _asm generates the AVX-512 assembly of package kernel with avo,
// one file per run, chosen by -set:
//
//	micro     the micro-kernels and elementwise kernels (../micro_amd64.s,
//	          declarations ../micro_decl_amd64.go)
//	epilogue  epiRowsAVX512 (../epilogue_amd64.s; declared by hand)
//	deint     deintAVX512 (../deint_amd64.s; declared by hand)
//	row3      the kernRow3 kernels (../row3_amd64.s; declared by hand)
//	dot       the kernDot kernels (../dot_amd64.s; declared by hand)
//	int8      the VPDPBUSD kernels (../int8_amd64.s; declared by hand)
//	flat8     the kernFlat8, kernFlat16 and kernFlat32 kernels of unpadded
//	          planes (../flat8_amd64.s; declared by hand)
//	bf16      the AMX and AVX512_BF16 kernels of bf16 training
//	          (../bf16_amd64.s; declared by hand)
//
// Run it through go generate in the parent package; never edit the output
// by hand.
package main

import (
	"flag"
	"fmt"
	"os"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const (
	maxMR   = 8  // must match kernel.maxMR
	maxNV   = 4  // must match kernel.maxNV
	maxAcc  = 24 // must match kernel.maxAcc: m*nv accumulators at most
	wideNV  = 8  // must match kernel.wideNV: the one-row wide tile
	planeNV = 5  // must match kernel.planeNV: the 8x8-plane tile
	planeMR = 4  // must match kernel.planeMR
)

// zmm lists the 32 vector registers; the kernels name them directly so that
// the accumulators may use Z16-Z31.
var zmm = []VecPhysical{
	Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
	Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31,
}

func main() {
	set := flag.String("set", "micro", "kernels to emit: micro, epilogue, deint, row3, dot, int8, flat8 or bf16")
	flag.Parse()
	ConstraintExpr("!noasm")
	switch *set {
	case "micro":
		for m := 1; m <= maxMR; m++ {
			for nv := 1; nv <= maxNV && m*nv <= maxAcc; nv++ {
				kernel(m, nv)
			}
		}
		for m := 1; m <= planeMR; m++ {
			kernel(m, planeNV)
		}
		kernel(1, wideNV)
		for m := 1; m <= maxMR; m++ {
			for nv := 1; nv <= maxNV && m*nv <= maxAcc; nv++ {
				kernelE(m, nv)
			}
		}
		for m := 1; m <= planeMR; m++ {
			kernelE(m, planeNV)
		}
		kernelE(1, wideNV)
		peak()
		elems()
	case "epilogue":
		epilogue()
	case "deint":
		deint()
	case "row3":
		row3()
	case "dot":
		dot()
	case "int8":
		int8Set()
	case "flat8":
		flat8()
	case "bf16":
		bf16Set()
	case "int8amx":
		int8AMXSet()
	default:
		fmt.Fprintf(os.Stderr, "_asm: unknown -set %q\n", *set)
		os.Exit(2)
	}
	Generate()
}

// peak emits fmaPeak, a calibration loop for the benchmarks: 24
// independent FMA chains, no memory operands.
func peak() {
	TEXT("fmaPeak", NOSPLIT, "func(n int)")
	Doc(
		"fmaPeak runs n iterations of 24 independent 16-lane FMAs (768 flops",
		"each) and nothing else: the machine's FMA peak, for benchmarks.",
	)
	n := Load(Param("n"), GP64())
	TESTQ(n, n)
	JZ(LabelRef("done"))
	Label("loop")
	for i := range 24 {
		VFMADD231PS(zmm[30], zmm[31], zmm[i])
	}
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}

// kernel emits kern<m>x<nv>: an m x 16*nv tile in m*nv accumulators
// (Z0...), nv B vectors (Z26-Z29) and two alternating broadcasts (Z30,
// Z31). Each row of A has its own base register, all indexed by p. Per k
// step it loads one B offset, nv B vectors and m broadcasts, and issues
// m*nv FMAs. A one-row tile wider than maxNV vectors (1 x 16*wideNV: as
// many accumulators as the FMA latency times the FMA ports) reads each B
// vector once, as the FMAs' memory operand.
func kernel(m, nv int) {
	name := fmt.Sprintf("kern%dx%d", m, nv)
	TEXT(name, NOSPLIT, "func(k int, a *float32, aoffs *int32, b *float32, boffs *int32, c *float32, ldc int, add bool)")
	kernelBody(m, nv, name, false)
}

// kernelE emits kernE<m>x<nv>, kern<m>x<nv> with the flat epilogue in its
// store (as the row3 kernels' E forms): row i of the tile goes to
// c+coffs[i] as max(sum+bias[i], lo) in the lanes masks (one per vector)
// sets, 0 in the others.
func kernelE(m, nv int) {
	name := fmt.Sprintf("kernE%dx%d", m, nv)
	TEXT(name, NOSPLIT, "func(k int, a *float32, aoffs *int32, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)")
	kernelBody(m, nv, name, true)
}

// kernelBody emits the body of kernel or kernelE.
func kernelBody(m, nv int, name string, fused bool) {
	if fused {
		Doc(
			fmt.Sprintf("%s computes a %d x %d tile from k steps of an indirect A and", name, m, 16*nv),
			"an indirect B (see microKernel) with the flat epilogue in its store:",
			"",
			fmt.Sprintf("\tfor i := range %d {", m),
			fmt.Sprintf("\t\tfor j := range %d {", 16*nv),
			"\t\t\tvar s float32",
			"\t\t\tfor p := range k {",
			"\t\t\t\ts += a[aoffs[i]+p] * b[boffs[p]+j]",
			"\t\t\t}",
			"\t\t\tc[coffs[i]+j] = masks[j/16] lane j%16 ? max(s+bias[i], lo) : 0",
			"\t\t}",
			"\t}",
		)
	} else {
		kernelDoc(m, nv, name)
	}
	kernelLoop(m, nv, fused)
}

// kernelDoc is kern<m>x<nv>'s doc comment.
func kernelDoc(m, nv int, name string) {
	Doc(
		fmt.Sprintf("%s computes a %d x %d tile of C from k steps of an indirect A and", name, m, 16*nv),
		"an indirect B (see microKernel):",
		"",
		fmt.Sprintf("\tfor i := range %d {", m),
		fmt.Sprintf("\t\tfor j := range %d {", 16*nv),
		"\t\t\tvar s float32",
		"\t\t\tfor p := range k {",
		"\t\t\t\ts += a[aoffs[i]+p] * b[boffs[p]+j]",
		"\t\t\t}",
		"\t\t\tif add {",
		"\t\t\t\tc[i*ldc+j] += s",
		"\t\t\t} else {",
		"\t\t\t\tc[i*ldc+j] = s",
		"\t\t\t}",
		"\t\t}",
		"\t}",
	)
}

// kernelLoop emits the code of kern<m>x<nv>, or of kernE<m>x<nv> when
// fused.
func kernelLoop(m, nv int, fused bool) {
	Pragma("noescape")
	acc := func(i, v int) VecPhysical { return zmm[i*nv+v] }
	bv := func(v int) VecPhysical { return zmm[26+v] }
	if nv == planeNV {
		bv = func(v int) VecPhysical { return zmm[20+v] } // after at most 20 accumulators
	}

	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	aoffs := Load(Param("aoffs"), GP64())
	rows := make([]GPVirtual, m)
	for i := range m {
		rows[i] = GP64()
		MOVLQSX(Mem{Base: aoffs, Disp: 4 * i}, rows[i])
		LEAQ(Mem{Base: a, Index: rows[i], Scale: 4}, rows[i])
	}
	b := Load(Param("b"), GP64())
	boffs := Load(Param("boffs"), GP64())
	o := GP64()
	p := GP64()

	Comment("Zero the accumulators.")
	for i := range m {
		for v := range nv {
			VPXORD(acc(i, v), acc(i, v), acc(i, v))
		}
	}
	XORQ(p, p)
	CMPQ(p, k)
	JGE(LabelRef("store"))

	Label("loop")
	MOVLQSX(Mem{Base: boffs, Index: p, Scale: 4}, o)
	bmem := func(v int) Mem { return Mem{Base: b, Index: o, Scale: 4, Disp: 64 * v} }
	if nv == wideNV {
		// The FMAs address B through one register: an indexed memory
		// operand would cost each of them a second issue slot.
		LEAQ(bmem(0), o)
		VBROADCASTSS(Mem{Base: rows[0], Index: p, Scale: 4}, zmm[30])
		for v := range nv {
			VFMADD231PS(Mem{Base: o, Disp: 64 * v}, zmm[30], acc(0, v))
		}
	} else {
		for v := range nv {
			VMOVUPS(bmem(v), bv(v))
		}
		for i := range m {
			bc := zmm[30+i%2]
			VBROADCASTSS(Mem{Base: rows[i], Index: p, Scale: 4}, bc)
			for v := range nv {
				VFMADD231PS(bv(v), bc, acc(i, v))
			}
		}
	}
	INCQ(p)
	CMPQ(p, k)
	JLT(LabelRef("loop"))

	Label("store")
	c := Load(Param("c"), GP64())
	if fused {
		Comment("Fused epilogue: max(v + bias[i], lo) in the lanes of masks[v], else 0;",
			"MAXPS returns its second source (v) when either is NaN.")
		coffs := Load(Param("coffs"), GP64())
		bp := Load(Param("bias"), GP64())
		masks := Load(Param("masks"), GP64())
		VBROADCASTSS(paramAddr("lo"), zmm[31])
		qo := Load(Param("qoffs"), GP64())
		TESTQ(qo, qo)
		JZ(LabelRef("plain"))
		compressEpi(m, nv, acc, masks, qo, func(i int, o VecPhysical) {
			VBROADCASTSS(Mem{Base: bp, Disp: 4 * i}, zmm[30])
			VADDPS_Z(o, zmm[30], K1, o)
		}, zmm[31])
		VZEROUPPER()
		RET()
		Label("plain")
		for i := range m {
			crow := GP64()
			MOVQ(Mem{Base: coffs, Disp: 8 * i}, crow)
			LEAQ(Mem{Base: c, Index: crow, Scale: 4}, crow)
			VBROADCASTSS(Mem{Base: bp, Disp: 4 * i}, zmm[30])
			for v := range nv {
				KMOVW(Mem{Base: masks, Disp: 2 * v}, K1)
				VADDPS_Z(acc(i, v), zmm[30], K1, acc(i, v))
				VMAXPS(acc(i, v), zmm[31], acc(i, v))
				VMOVUPS(acc(i, v), Mem{Base: crow, Disp: 64 * v})
			}
		}
		VZEROUPPER()
		RET()
		return
	}
	ldc := Load(Param("ldc"), GP64())
	SHLQ(Imm(2), ldc)
	add := Load(Param("add"), GP8())
	TESTB(add, add)
	JZ(LabelRef("overwrite"))
	for i := range m {
		for v := range nv {
			VADDPS(Mem{Base: c, Disp: 64 * v}, acc(i, v), acc(i, v))
			VMOVUPS(acc(i, v), Mem{Base: c, Disp: 64 * v})
		}
		if i < m-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()

	Label("overwrite")
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
