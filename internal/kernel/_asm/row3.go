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
// taps at +1 and +2 with VALIGND, which runs beside the FMAs on AMD's Zen
// 4: for m = 1, nv = 8, 9 loads instead of 24 per 24 FMAs. Each
// accumulator sums in the micro-kernels' order, so the results are theirs
// bit for bit.
//
// On Intel's AVX-512 cores VALIGND issues only on port 5, which is also
// the second 512-bit FMA port, so two VALIGNDs per three FMAs cap a
// one-filter tile at 60% of the FMA peak. The variants kernRow3L1 (the
// tap at +2 loaded from memory, split or not, instead of shifted) and
// kernRow3L2 (both shifted taps loaded) trade port-5 work for loads; which
// is fastest depends on the core and on m, and package kernel picks one
// per m by timing them (row3tune.go).
func row3() {
	for _, loads := range []int{0, 1, 2} {
		for m := 1; m <= row3MaxM; m++ {
			for nv := 1; nv <= row3MaxNV(m); nv++ {
				row3Kernel(m, nv, loads, false)
			}
		}
	}
	row3S(false)
	for _, loads := range []int{0, 1, 2} {
		for m := 1; m <= row3MaxM; m++ {
			for nv := 1; nv <= row3MaxNV(m); nv++ {
				row3Kernel(m, nv, loads, true)
			}
		}
	}
	row3S(true)
}

// row3Sig and row3ESig are the signatures of the row3 kernels and of their
// fused-epilogue forms (the names' E): row i of a fused tile goes to
// c+coffs[i], not c+i*ldc, as max(sum+bias[i], lo) in the lanes that
// masks (one uint16 per vector, from the tile's first) sets and 0 in the
// others: the flat epilogue (epiFlat) in the store, so that a conv whose
// output is the next conv's padded layout writes each output once. With
// qoffs non-nil (the residual form) c is the output planes' base instead,
// and the lanes masks sets leave compressed, in order, for the unpadded
// layout: lane l of vector v goes to c+coffs[i]+qoffs[v]+(its rank among
// the set lanes) as max(sum+bias[i]+add[same index], lo); nothing else is
// written (compressEpi).
const (
	row3Sig  = "func(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)"
	row3ESig = "func(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)"
)

// row3Name names a kernel: prefix, E when fused, _<m>x<nv>.
func row3Name(prefix string, fused bool, m, nv int) (name, sig string) {
	if fused {
		return fmt.Sprintf("%sE_%dx%d", prefix, m, nv), row3ESig
	}
	return fmt.Sprintf("%s_%dx%d", prefix, m, nv), row3Sig
}

// row3Epi emits the fused epilogue's stores of a tile's rows: out(i, v),
// the finished vector v of row i (modified in place), goes to
// coffs[i] floats past c, masked by masks[v], plus 64*v bytes. bias and lo
// are vector registers free at the store, m of them for the biases; masks
// advances by the tile.
func row3Epi(m, nv int, out func(i, v int) VecPhysical, c, masks Register, bias []VecPhysical, lo VecPhysical) {
	Comment("Fused epilogue: max(v + bias[i], lo) in the lanes of masks[v], else 0;",
		"MAXPS returns its second source (v) when either is NaN.")
	bp := Load(Param("bias"), GP64())
	VBROADCASTSS(paramAddr("lo"), lo)
	for i := range m {
		VBROADCASTSS(Mem{Base: bp, Disp: 4 * i}, bias[i])
	}
	qo := Load(Param("qoffs"), GP64())
	TESTQ(qo, qo)
	JNZ(LabelRef("compress"))
	coffs := Load(Param("coffs"), GP64())
	crow := make([]GPVirtual, m)
	for i := range m {
		crow[i] = GP64()
		MOVQ(Mem{Base: coffs, Disp: 8 * i}, crow[i])
		LEAQ(Mem{Base: c, Index: crow[i], Scale: 4}, crow[i])
	}
	for v := range nv {
		KMOVW(Mem{Base: masks, Disp: 2 * v}, K1)
		for i := range m {
			VADDPS_Z(out(i, v), bias[i], K1, out(i, v))
			VMAXPS(out(i, v), lo, out(i, v))
			VMOVUPS(out(i, v), Mem{Base: crow[i], Disp: 64 * v})
		}
	}
	JMP(LabelRef("stored"))
	Label("compress")
	Comment("qoffs advances with masks (two bytes of masks, four of qoffs a vector).")
	m0 := Load(Param("masks"), GP64())
	NEGQ(m0)
	ADDQ(masks, m0)
	LEAQ(Mem{Base: qo, Index: m0, Scale: 2}, qo)
	compressEpi(m, nv, out, masks, qo, func(i int, o VecPhysical) { VADDPS_Z(o, bias[i], K1, o) }, lo)
	Label("stored")
	ADDQ(U32(2*nv), masks)
}

// compressEpi emits the residual form of the fused epilogue's stores:
// out(i, v) + bias[i] (addBias; K1 holds masks[v]) in the lanes of masks[v], compressed to the low
// lanes (their rank), plus the add vector at the same place, max lo, to
// c+coffs[i]+qoffs[v] under the mask of the low popcount(masks[v]) lanes
// (K2), whose add loads fault-suppress the other lanes. The sums are
// those of the row epilogue after the unfused kernel, (s + b) + add, in
// the same operand order.
func compressEpi(m, nv int, out func(i, v int) VecPhysical, masks, qo Register, addBias func(i int, o VecPhysical), lo VecPhysical) {
	cb := Load(Param("c"), GP64())
	ap := Load(Param("add"), GP64())
	coffs := Load(Param("coffs"), GP64())
	t, u, q, r := GP32(), GP32(), GP64(), GP64()
	for v := range nv {
		MOVWLZX(Mem{Base: masks, Disp: 2 * v}, t)
		KMOVW(t, K1)
		POPCNTL(t, t)
		MOVL(U32(0xffff), u)
		BZHIL(t, u, u)
		KMOVW(u, K2)
		MOVLQSX(Mem{Base: qo, Disp: 4 * v}, q)
		for i := range m {
			o := out(i, v)
			addBias(i, o)
			VCOMPRESSPS_Z(o, K1, o)
			MOVQ(Mem{Base: coffs, Disp: 8 * i}, r)
			ADDQ(q, r)
			VADDPS_Z(Mem{Base: ap, Index: r, Scale: 4}, o, K2, o)
			VMAXPS(o, lo, o)
			VMOVUPS(o, K2, Mem{Base: cb, Index: r, Scale: 4})
		}
	}
}

// row3Names are the kernel name prefixes by the number of shifted taps
// loaded from memory.
var row3Names = [3]string{"kernRow3", "kernRow3L1", "kernRow3L2"}

// row3Kernel emits kernRow3<variant>_<m>x<nv>, whose taps at +3-loads
// and above are loaded from memory instead of shifted with VALIGND.
func row3Kernel(m, nv, loads int, fused bool) {
	name, sig := row3Name(row3Names[loads], fused, m, nv)
	TEXT(name, NOSPLIT, sig)
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
		fmt.Sprintf("for each of tiles tiles, b and c advancing by %d floats", 16*nv),
	)
	if fused {
		Comment("Fused: c[coffs[i]+j] = masks[j/16] lane j%16 ? max(s+bias[i], lo) : 0.")
	}
	acc := func(i, v int) VecPhysical { return zmm[i*nv+v] } // from Z0
	bv := func(v int) VecPhysical { return zmm[m*nv+v] }     // up to Z20
	w := func(i, t int) VecPhysical { return zmm[21+3*i+t] } // Z21-Z29
	shift := func(t int) VecPhysical { return zmm[29+t] }    // Z30, Z31
	tiles := Load(Param("tiles"), GP64())
	b := Load(Param("b"), GP64())
	c := Load(Param("c"), GP64())
	var masks Register
	if fused {
		masks = Load(Param("masks"), GP64())
	}
	Label("tile")
	rows := Load(Param("rows"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
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
	nload := nv + 1 // the vectors the shifted taps need
	if loads == 2 {
		nload = nv
	}
	for v := range nload {
		VMOVUPS(Mem{Base: o, Disp: 64 * v}, bv(v))
	}
	for v := range nv {
		for i := range m {
			VFMADD231PS(bv(v), w(i, 0), acc(i, v))
		}
		for t := 1; t <= 2; t++ {
			src := Mem{Base: o, Disp: 64*v + 4*t}
			switch {
			case t <= 2-loads:
				VALIGND(Imm(uint64(t)), bv(v), bv(v+1), shift(t))
			case m == 1: // the load folds into the FMA
				VFMADD231PS(src, w(0, t), acc(0, v))
				continue
			default:
				VMOVUPS(src, shift(t))
			}
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
	if fused {
		bias := make([]VecPhysical, m)
		for i := range m {
			bias[i] = w(i, 0)
		}
		row3Epi(m, nv, acc, c, masks, bias, shift(1))
	} else {
		ldc := Load(Param("ldc"), GP64())
		SHLQ(Imm(2), ldc)
		crow := GP64()
		MOVQ(c, crow)
		for i := range m {
			for v := range nv {
				VMOVUPS(acc(i, v), Mem{Base: crow, Disp: 64 * v})
			}
			if i < m-1 {
				ADDQ(ldc, crow)
			}
		}
	}
	ADDQ(U32(64*nv), b)
	ADDQ(U32(64*nv), c)
	DECQ(tiles)
	JNZ(LabelRef("tile"))
	VZEROUPPER()
	RET()
}

// row3SMaxNV is the widest kernRow3S tile, in vectors: 3*nv+2 partial
// sums (S0 needs no vector past the tile), two alternating B vectors and 3
// weights in 32 registers.
const row3SMaxNV = 8

// row3S emits kernRow3S_1x<nv>, the one-filter row3 kernel that shifts
// once per tile instead of once per kernel row: the tile's outputs are
// out[j] = S0[j] + S1[j+1] + S2[j+2] with S_t = sum over the kernel rows r
// of a[3r+t] * b[boffs[r]+j], so each row loads nv+1 vectors and makes
// 3*nv+2 FMAs from them with no VALIGND, and only the final sums are
// shifted. It does (3nv+2)/3nv of the useful FMAs (1.08 at nv = 8), with
// no port-5 work in the loop: on cores whose VALIGND shares a port with an
// FMA unit, a one-filter tile's ceiling rises from 60% of the FMA peak to
// 92%. The sums come in another order than the micro-kernel's, so results
// differ from it by rounding.
func row3S(fused bool) {
	for nv := 1; nv <= row3SMaxNV; nv++ {
		row3SKernel(nv, fused)
	}
}

// row3SKernel emits kernRow3S_1x<nv>.
func row3SKernel(nv int, fused bool) {
	name, sig := row3Name("kernRow3S", fused, 1, nv)
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Comment(
		fmt.Sprintf("for j := range %d {", 16*nv),
		"	var s float32",
		"	for r := range rows {",
		"		for t := range 3 {",
		"			s += a[3*r+t] * b[boffs[r]+t+j]",
		"		}",
		"	}",
		"	c[j] = s",
		"}",
		fmt.Sprintf("for each of tiles tiles, b and c advancing by %d floats", 16*nv),
		"(lda and ldc unused: one row)",
	)
	if fused {
		Comment("Fused: c[coffs[0]+j] = masks[j/16] lane j%16 ? max(s+bias[0], lo) : 0.")
	}
	// S0 over nv vectors (Z0...), S1 and S2 over nv+1.
	sum := func(t, v int) VecPhysical {
		if t == 0 {
			return zmm[v]
		}
		return zmm[nv+(t-1)*(nv+1)+v]
	}
	bv := func(v int) VecPhysical { return zmm[26+v%2] } // Z26, Z27
	w := func(t int) VecPhysical { return zmm[29+t] }    // Z29-Z31
	tiles := Load(Param("tiles"), GP64())
	b := Load(Param("b"), GP64())
	c := Load(Param("c"), GP64())
	var masks Register
	if fused {
		masks = Load(Param("masks"), GP64())
	}
	Label("tile")
	rows := Load(Param("rows"), GP64())
	a := Load(Param("a"), GP64())
	boffs := Load(Param("boffs"), GP64())
	o := GP64()
	Comment("Zero the partial sums.")
	for t := range 3 {
		for v := range nv + min(t, 1) {
			VPXORD(sum(t, v), sum(t, v), sum(t, v))
		}
	}
	TESTQ(rows, rows)
	JZ(LabelRef("store"))
	Label("loop")
	MOVLQSX(Mem{Base: boffs}, o)
	LEAQ(Mem{Base: b, Index: o, Scale: 4}, o)
	for t := range 3 {
		VBROADCASTSS(Mem{Base: a, Disp: 4 * t}, w(t))
	}
	for v := range nv + 1 {
		VMOVUPS(Mem{Base: o, Disp: 64 * v}, bv(v))
		for t := range 3 {
			if t > 0 || v < nv {
				VFMADD231PS(bv(v), w(t), sum(t, v))
			}
		}
	}
	ADDQ(Imm(12), a)
	ADDQ(Imm(4), boffs)
	DECQ(rows)
	JNZ(LabelRef("loop"))
	Label("store")
	Comment("out[v] = S0[v] + (S1 shifted by 1)[v] + (S2 shifted by 2)[v].")
	for v := range nv {
		for t := 1; t <= 2; t++ {
			VALIGND(Imm(uint64(t)), sum(t, v), sum(t, v+1), bv(t))
			VADDPS(bv(t), sum(0, v), sum(0, v))
		}
		if !fused {
			VMOVUPS(sum(0, v), Mem{Base: c, Disp: 64 * v})
		}
	}
	if fused {
		row3Epi(1, nv, func(_, v int) VecPhysical { return sum(0, v) }, c, masks, []VecPhysical{w(0)}, w(1))
	}
	ADDQ(U32(64*nv), b)
	ADDQ(U32(64*nv), c)
	DECQ(tiles)
	JNZ(LabelRef("tile"))
	VZEROUPPER()
	RET()
}
