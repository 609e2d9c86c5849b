package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// bf16 emits the bf16 training kernels (../bf16_amd64.s; declared by hand
// in bf16_amd64.go): AMX tile products (TDPBF16PS, bf16 pairs, fp32 sums)
// and the AVX512_BF16 packing loops that feed them (VCVTNE2PS2BF16).
// Neither the Go assembler nor avo knows these instructions, so they are
// written as BYTE sequences (raw, below) with fixed registers: the tiles
// tmm0-tmm7 and the general registers named in each kernel. All tiles are
// 16 rows of 64 bytes (the configuration kernel.amxConfig loads): a C tile
// is 16x16 fp32, an A tile 16 rows of 32 bf16 (along K), a B tile 16 rows
// of K pairs, each 16 columns of two bf16 (the "VNNI" layout).
func bf16Set() {
	for _, mt := range []int{1, 2} {
		amxBlocks(mt)
	}
	for _, nt := range []int{1, 2} {
		amxAcc(nt)
	}
	packPairs()
	packPairsValid(16)
	packPairsValid(8)
	packRows()
	packRowsValid(16)
	packRowsValid(8)
	pairsT()
	for _, nv := range []int{1, 2} {
		vdpGemm(nv)
	}
	dpbf16Peak()
	amxPeak()
}

// vdpbf16ps emits VDPBF16PS b, a, acc (Go operand order): each fp32 lane
// of acc += the products of its two bf16 pairs in a and b.
func vdpbf16ps(b, a, acc byte) {
	p0 := (^acc>>3&1)<<7 | (^b>>4&1)<<6 | (^b>>3&1)<<5 | (^acc>>4&1)<<4 | 2
	p1 := (^a&15)<<3 | 4 | 2
	p2 := byte(2<<5) | (^a>>4&1)<<3
	raw(fmt.Sprintf("VDPBF16PS Z%d, Z%d, Z%d", b, a, acc), 0x62, p0, p1, p2, 0x52, 0xC0|(acc&7)<<3|b&7)
}

// dpbf16Peak emits dpbf16Peak, fmaPeak's calibration loop with VDPBF16PS:
// 24 independent chains, 1536 flops per iteration.
func dpbf16Peak() {
	TEXT("dpbf16Peak", NOSPLIT, "func(n int)")
	Load(Param("n"), RCX)
	TESTQ(RCX, RCX)
	JZ(LabelRef("done"))
	Label("loop")
	for i := range byte(24) {
		vdpbf16ps(31, 30, i)
	}
	DECQ(RCX)
	JNZ(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}

// amxPeak emits amxPeak: n iterations of four independent TDPBF16PS
// (tiles 0-3 += 4-5 times 6-7, zeroed first), 4*16*16*32*2 flops each.
func amxPeak() {
	TEXT("amxPeak", NOSPLIT, "func(cfg *byte, n int)")
	Pragma("noescape")
	Load(Param("cfg"), RAX)
	Load(Param("n"), RCX)
	TESTQ(RCX, RCX)
	JZ(LabelRef("done"))
	ldtilecfg(RAX)
	for t := range byte(8) {
		tilezero(t)
	}
	Label("loop")
	tdpbf16ps(0, 4, 6)
	tdpbf16ps(1, 4, 7)
	tdpbf16ps(2, 5, 6)
	tdpbf16ps(3, 5, 7)
	DECQ(RCX)
	JNZ(LabelRef("loop"))
	tilerelease()
	Label("done")
	RET()
}

// gpNum is the encoding number of a general register.
var gpNum = map[Physical]byte{RAX: 0, RCX: 1, RDX: 2, RBX: 3, RSI: 6, RDI: 7,
	R8: 8, R9: 9, R10: 10, R11: 11, R12: 12, R13: 13}

// raw emits an instruction the assembler lacks as BYTEs, after a comment
// that spells it.
func raw(asm string, bs ...byte) {
	Comment(asm)
	for _, b := range bs {
		Instruction(&ir.Instruction{Opcode: "BYTE", Operands: []Op{U8(b)}})
	}
}

// vex3 is a three-byte VEX prefix, map 0F38, W0, L0: r, x, b are the
// registers whose high bits extend ModRM.reg, SIB.index, ModRM.rm/SIB.base.
func vex3(r, x, b, vvvv, pp byte) []byte {
	return []byte{0xC4, (^r>>3&1)<<7 | (^x>>3&1)<<6 | (^b>>3&1)<<5 | 2, (^vvvv&15)<<3 | pp}
}

func ldtilecfg(base Physical) {
	b := gpNum[base]
	if b&7 == 4 || b&7 == 5 {
		panic("ldtilecfg: base needs a SIB or displacement")
	}
	raw(fmt.Sprintf("LDTILECFG (%s)", base.Asm()), append(vex3(0, 0, b, 0, 0), 0x49, b&7)...)
}

func tilerelease() { raw("TILERELEASE", append(vex3(0, 0, 0, 0, 0), 0x49, 0xC0)...) }

func tilezero(t byte) {
	raw(fmt.Sprintf("TILEZERO tmm%d", t), append(vex3(0, 0, 0, 0, 3), 0x49, 0xC0|t<<3)...)
}

// tdpbf16ps emits TDPBF16PS c, a, b: tile c += tile a (16 x 32 bf16) times
// tile b (16 K pairs x 16 columns), fp32 sums.
func tdpbf16ps(c, a, b byte) {
	raw(fmt.Sprintf("TDPBF16PS tmm%d, tmm%d, tmm%d", c, a, b), append(vex3(0, 0, 0, b, 2), 0x5C, 0xC0|c<<3|a)...)
}

// tileMem emits TILELOADD (pp 3) or TILESTORED (pp 2) of tile t at
// base+disp, rows stride bytes apart.
func tileMem(load bool, t byte, base, stride Physical, disp byte) {
	b, i := gpNum[base], gpNum[stride]
	pp, name := byte(2), "TILESTORED"
	if load {
		pp, name = 3, "TILELOADD"
	}
	mod := byte(0)
	if disp != 0 || b&7 == 5 {
		mod = 1
	}
	bs := append(vex3(0, i, b, 0, pp), 0x4B, mod<<6|t<<3|4, (i&7)<<3|b&7)
	if mod == 1 {
		bs = append(bs, disp)
	}
	raw(fmt.Sprintf("%s tmm%d, %d(%s)(%s*1)", name, t, disp, base.Asm(), stride.Asm()), bs...)
}

// vcvtne2ps2bf16 emits VCVTNE2PS2BF16 lo, hi, dst (Go operand order):
// dst's 32 bf16 words are lo's 16 floats rounded (to nearest even), then
// hi's.
func vcvtne2ps2bf16(lo, hi, dst byte) {
	p0 := (^dst>>3&1)<<7 | (^lo>>4&1)<<6 | (^lo>>3&1)<<5 | (^dst>>4&1)<<4 | 2
	p1 := (^hi&15)<<3 | 4 | 3
	p2 := byte(2<<5) | (^hi>>4&1)<<3
	raw(fmt.Sprintf("VCVTNE2PS2BF16 Z%d, Z%d, Z%d", lo, hi, dst), 0x62, p0, p1, p2, 0x72, 0xC0|(dst&7)<<3|lo&7)
}

// vcvtneps2bf16 emits VCVTNEPS2BF16 src, dst: dst's 16 bf16 words (a Y
// register) are src's 16 floats rounded to nearest even.
func vcvtneps2bf16(src, dst byte) {
	p0 := (^dst>>3&1)<<7 | (^src>>4&1)<<6 | (^src>>3&1)<<5 | (^dst>>4&1)<<4 | 2
	raw(fmt.Sprintf("VCVTNEPS2BF16 Z%d, Y%d", src, dst), 0x62, p0, 0x7E, 0x48, 0x72, 0xC0|(dst&7)<<3|src&7)
}

// amxBlocks emits amxBlocks<mt>: for nb blocks of 32 columns, the C tiles
// (mt x 2 tiles: 16*mt rows, 32 columns, ldc bytes apart, at c+128*block)
// = A (16*mt rows, lda bytes apart; 32 bf16 per step) times B (K pairs,
// ldb bytes apart; 16 pairs per step, at b+128*block), over ks steps of 32
// along K. It is a convolution's forward (and backward data) pass: A the
// weights, B the input's taps, C the output in the padded pitch.
func amxBlocks(mt int) {
	TEXT(fmt.Sprintf("amxBlocks%d", mt), NOSPLIT, "func(cfg *byte, a *uint16, lda int, b *uint32, ldb int, c *float32, ldc int, ks, nb int)")
	Pragma("noescape")
	Load(Param("cfg"), RAX)
	ldtilecfg(RAX)
	Load(Param("lda"), RDX)
	Load(Param("b"), R12)
	Load(Param("ldb"), R8)
	Load(Param("c"), R11)
	Load(Param("ldc"), R9)
	Load(Param("nb"), R13)
	MOVQ(R8, R10)
	SHLQ(U8(4), R10) // B's step: 16 rows
	Label(fmt.Sprintf("blk%d", mt))
	for t := range 2 * mt {
		tilezero(byte(t))
	}
	Load(Param("a"), RSI)
	MOVQ(RDX, RDI)
	SHLQ(U8(4), RDI)
	ADDQ(RSI, RDI) // A's second row tile
	MOVQ(R12, RBX)
	Load(Param("ks"), RCX)
	Label(fmt.Sprintf("k%d", mt))
	tileMem(true, 4, RSI, RDX, 0)
	if mt == 2 {
		tileMem(true, 5, RDI, RDX, 0)
	}
	tileMem(true, 6, RBX, R8, 0)
	tileMem(true, 7, RBX, R8, 64)
	for i := range byte(mt) {
		tdpbf16ps(2*i, 4+i, 6)
		tdpbf16ps(2*i+1, 4+i, 7)
	}
	ADDQ(U8(64), RSI)
	ADDQ(U8(64), RDI)
	ADDQ(R10, RBX)
	DECQ(RCX)
	JNZ(LabelRef(fmt.Sprintf("k%d", mt)))
	tileMem(false, 0, R11, R9, 0)
	tileMem(false, 1, R11, R9, 64)
	if mt == 2 {
		MOVQ(R9, RAX)
		SHLQ(U8(4), RAX)
		ADDQ(R11, RAX)
		tileMem(false, 2, RAX, R9, 0)
		tileMem(false, 3, RAX, R9, 64)
	}
	ADDQ(U32(128), R12)
	ADDQ(U32(128), R11)
	DECQ(R13)
	JNZ(LabelRef(fmt.Sprintf("blk%d", mt)))
	tilerelease()
	RET()
}

// amxAcc emits amxAcc<nt>: C (32 rows x 16*nt fp32 columns, ldc bytes
// apart; loaded, accumulated, stored back) += A (32 rows, lda bytes apart,
// 32 bf16 per step) times B (16*nt columns of pairs, ldb bytes apart, 16
// rows per step) over ks steps. It is a convolution's filter gradient: A
// the input's taps, B the output gradient's pixel pairs, C the gradient
// transposed, [K][N].
func amxAcc(nt int) {
	TEXT(fmt.Sprintf("amxAcc%d", nt), NOSPLIT, "func(cfg *byte, a *uint16, lda int, b *uint32, ldb int, c *float32, ldc int, ks int)")
	Pragma("noescape")
	Load(Param("cfg"), RAX)
	ldtilecfg(RAX)
	Load(Param("a"), RSI)
	Load(Param("lda"), RDX)
	Load(Param("b"), RBX)
	Load(Param("ldb"), R8)
	Load(Param("c"), R11)
	Load(Param("ldc"), R9)
	Load(Param("ks"), RCX)
	MOVQ(R8, R10)
	SHLQ(U8(4), R10)
	MOVQ(RDX, RDI)
	SHLQ(U8(4), RDI)
	ADDQ(RSI, RDI)
	MOVQ(R9, RAX)
	SHLQ(U8(4), RAX)
	ADDQ(R11, RAX)
	rows := []Physical{R11, RAX}
	ct := func(i, j int) byte { return byte(i*nt + j) }
	for i := range 2 {
		for j := range nt {
			tileMem(true, ct(i, j), rows[i], R9, byte(64*j))
		}
	}
	Label(fmt.Sprintf("acc%d", nt))
	tileMem(true, 4, RSI, RDX, 0)
	tileMem(true, 5, RDI, RDX, 0)
	for j := range nt {
		tileMem(true, byte(6+j), RBX, R8, byte(64*j))
	}
	for i := range 2 {
		for j := range nt {
			tdpbf16ps(ct(i, j), byte(4+i), byte(6+j))
		}
	}
	ADDQ(U8(64), RSI)
	ADDQ(U8(64), RDI)
	ADDQ(R10, RBX)
	DECQ(RCX)
	JNZ(LabelRef(fmt.Sprintf("acc%d", nt)))
	for i := range 2 {
		for j := range nt {
			tileMem(false, ct(i, j), rows[i], R9, byte(64*j))
		}
	}
	tilerelease()
	RET()
}

// packPairs emits packPairsBF16: for each of np pairs of rows (rows at
// base+4*offs[2j] and base+4*offs[2j+1]), n16 groups of 16 dwords at
// dst+j*ldd bytes, dword i = bf16(row1[i])<<16 | bf16(row0[i]): B of
// amxBlocks.
func packPairs() {
	TEXT("packPairsBF16", NOSPLIT, "func(dst *uint32, ldd int, base *float32, offs *int32, np, n16 int, perm *uint16)")
	Pragma("noescape")
	Load(Param("dst"), RDI)
	Load(Param("ldd"), R8)
	Load(Param("base"), RSI)
	Load(Param("offs"), R9)
	Load(Param("np"), R10)
	Load(Param("perm"), RAX)
	VMOVDQU16(Mem{Base: RAX}, Z31)
	Label("pair")
	MOVLQSX(Mem{Base: R9}, RAX)
	MOVLQSX(Mem{Base: R9, Disp: 4}, RBX)
	LEAQ(Mem{Base: RSI, Index: RAX, Scale: 4}, RAX)
	LEAQ(Mem{Base: RSI, Index: RBX, Scale: 4}, RBX)
	MOVQ(RDI, RDX)
	Load(Param("n16"), RCX)
	Label("pix")
	VMOVUPS(Mem{Base: RAX}, Z0)
	VMOVUPS(Mem{Base: RBX}, Z1)
	vcvtne2ps2bf16(0, 1, 2)
	VPERMW(Z2, Z31, Z3) // interleave: word 2i from Z0, 2i+1 from Z1
	VMOVDQU32(Z3, Mem{Base: RDX})
	ADDQ(U8(64), RAX)
	ADDQ(U8(64), RBX)
	ADDQ(U8(64), RDX)
	DECQ(RCX)
	JNZ(LabelRef("pix"))
	ADDQ(U8(8), R9)
	ADDQ(R8, RDI)
	DECQ(R10)
	JNZ(LabelRef("pair"))
	VZEROUPPER()
	RET()
}

// packRows emits packRowsBF16: row j of dst (ldd bytes apart) = n32*32
// floats at base+4*offs[j], rounded to bf16: A of amxAcc.
func packRows() {
	TEXT("packRowsBF16", NOSPLIT, "func(dst *uint16, ldd int, base *float32, offs *int32, nr, n32 int)")
	Pragma("noescape")
	Load(Param("dst"), RDI)
	Load(Param("ldd"), R8)
	Load(Param("base"), RSI)
	Load(Param("offs"), R9)
	Load(Param("nr"), R10)
	Label("row")
	MOVLQSX(Mem{Base: R9}, RAX)
	LEAQ(Mem{Base: RSI, Index: RAX, Scale: 4}, RAX)
	MOVQ(RDI, RDX)
	Load(Param("n32"), RCX)
	Label("pix")
	VMOVUPS(Mem{Base: RAX}, Z0)
	VMOVUPS(Mem{Base: RAX, Disp: 64}, Z1)
	vcvtne2ps2bf16(0, 1, 2)
	VMOVDQU16(Z2, Mem{Base: RDX})
	ADDQ(U32(128), RAX)
	ADDQ(U8(64), RDX)
	DECQ(RCX)
	JNZ(LabelRef("pix"))
	ADDQ(U8(4), R9)
	ADDQ(R8, RDI)
	DECQ(R10)
	JNZ(LabelRef("row"))
	VZEROUPPER()
	RET()
}

// pairsT emits pairsTBF16: for each of nr rows of src (lds floats apart;
// n32*32 floats each), its bf16 pixel pairs as dwords, pair i of row r to
// dst[i*ldd+r] (dwords): B of amxAcc, the transposed output gradient.
// idx holds i*ldd for i < 16.
func pairsT() {
	TEXT("pairsTBF16", NOSPLIT, "func(dst *uint32, ldd int, src *float32, lds int, nr, n32 int, idx *int32)")
	Pragma("noescape")
	Load(Param("dst"), RDI)
	Load(Param("ldd"), R8)
	Load(Param("src"), RSI)
	Load(Param("lds"), R9)
	Load(Param("nr"), R10)
	Load(Param("idx"), RAX)
	VMOVDQU32(Mem{Base: RAX}, Z31)
	MOVQ(R8, R11)
	SHLQ(U8(6), R11) // 16 rows of dst
	Label("row")
	MOVQ(RSI, RAX)
	MOVQ(RDI, RDX)
	Load(Param("n32"), RCX)
	Label("pix")
	VMOVUPS(Mem{Base: RAX}, Z0)
	VMOVUPS(Mem{Base: RAX, Disp: 64}, Z1)
	vcvtne2ps2bf16(0, 1, 2)
	KXNORW(K1, K1, K1)
	VPSCATTERDD(Z2, K1, Mem{Base: RDX, Index: Z31, Scale: 4})
	ADDQ(U32(128), RAX)
	ADDQ(R11, RDX)
	DECQ(RCX)
	JNZ(LabelRef("pix"))
	LEAQ(Mem{Base: RSI, Index: R9, Scale: 4}, RSI)
	ADDQ(U8(4), RDI)
	DECQ(R10)
	JNZ(LabelRef("row"))
	VZEROUPPER()
	RET()
}

// packPairsValid emits packPairsW16 (w == 16: rows of 16*n16 outputs) or
// packPairsW8 (w == 8: rows of 8, two per vector): packPairsBF16 over the
// valid output pixels only, row after row (oh rows, pitch floats apart in
// the padded planes), into dst contiguously: pair j's P = oh*width dwords
// at dst+4*j*P. B of amxBlocks with the output in its own layout, no halo.
func packPairsValid(w int) {
	name := fmt.Sprintf("packPairsW%d", w)
	TEXT(name, NOSPLIT, "func(dst *uint32, base *float32, offs *int32, np, rows, n16, pitch int, perm *uint16)")
	Pragma("noescape")
	Load(Param("dst"), RDX)
	Load(Param("base"), RSI)
	Load(Param("offs"), R9)
	Load(Param("np"), R10)
	Load(Param("pitch"), R8)
	SHLQ(U8(2), R8) // bytes
	Load(Param("perm"), RAX)
	VMOVDQU16(Mem{Base: RAX}, Z31)
	Label("pair")
	MOVLQSX(Mem{Base: R9}, RAX)
	MOVLQSX(Mem{Base: R9, Disp: 4}, RBX)
	LEAQ(Mem{Base: RSI, Index: RAX, Scale: 4}, RAX)
	LEAQ(Mem{Base: RSI, Index: RBX, Scale: 4}, RBX)
	Load(Param("rows"), R11)
	Label("row")
	if w == 16 {
		MOVQ(RAX, R12)
		MOVQ(RBX, R13)
		Load(Param("n16"), RCX)
		Label("pix")
		VMOVUPS(Mem{Base: R12}, Z0)
		VMOVUPS(Mem{Base: R13}, Z1)
		vcvtne2ps2bf16(0, 1, 2)
		VPERMW(Z2, Z31, Z3)
		VMOVDQU32(Z3, Mem{Base: RDX})
		ADDQ(U8(64), R12)
		ADDQ(U8(64), R13)
		ADDQ(U8(64), RDX)
		DECQ(RCX)
		JNZ(LabelRef("pix"))
		ADDQ(R8, RAX)
		ADDQ(R8, RBX)
	} else {
		// two rows of 8 per vector (rows is the number of row pairs)
		VMOVUPS(Mem{Base: RAX}, Y0)
		VINSERTF32X8(U8(1), Mem{Base: RAX, Index: R8, Scale: 1}, Z0, Z0)
		VMOVUPS(Mem{Base: RBX}, Y1)
		VINSERTF32X8(U8(1), Mem{Base: RBX, Index: R8, Scale: 1}, Z1, Z1)
		vcvtne2ps2bf16(0, 1, 2)
		VPERMW(Z2, Z31, Z3)
		VMOVDQU32(Z3, Mem{Base: RDX})
		ADDQ(U8(64), RDX)
		LEAQ(Mem{Base: RAX, Index: R8, Scale: 2}, RAX)
		LEAQ(Mem{Base: RBX, Index: R8, Scale: 2}, RBX)
	}
	DECQ(R11)
	JNZ(LabelRef("row"))
	ADDQ(U8(8), R9)
	DECQ(R10)
	JNZ(LabelRef("pair"))
	VZEROUPPER()
	RET()
}

// packRowsValid emits packRowsW16 (rows of 16*n16 outputs) or packRowsW8
// (rows of 8, two per vector): packRowsBF16 over the valid output pixels
// only (rows of the padded planes pitch floats apart), each tap row's
// P = rows*width bf16 contiguous at dst+2*j*P. A of amxAcc, without halo.
func packRowsValid(w int) {
	name := fmt.Sprintf("packRowsW%d", w)
	TEXT(name, NOSPLIT, "func(dst *uint16, base *float32, offs *int32, nr, rows, n16, pitch int)")
	Pragma("noescape")
	Load(Param("dst"), RDX)
	Load(Param("base"), RSI)
	Load(Param("offs"), R9)
	Load(Param("nr"), R10)
	Load(Param("pitch"), R8)
	SHLQ(U8(2), R8)
	Label("tap")
	MOVLQSX(Mem{Base: R9}, RAX)
	LEAQ(Mem{Base: RSI, Index: RAX, Scale: 4}, RAX)
	Load(Param("rows"), R11)
	Label("row")
	if w == 16 {
		MOVQ(RAX, R12)
		Load(Param("n16"), RCX)
		Label("pix")
		VMOVUPS(Mem{Base: R12}, Z0)
		vcvtneps2bf16(0, 1)
		VMOVDQU16(Y1, Mem{Base: RDX})
		ADDQ(U8(64), R12)
		ADDQ(U8(32), RDX)
		DECQ(RCX)
		JNZ(LabelRef("pix"))
		ADDQ(R8, RAX)
	} else {
		VMOVUPS(Mem{Base: RAX}, Y0)
		VINSERTF32X8(U8(1), Mem{Base: RAX, Index: R8, Scale: 1}, Z0, Z0)
		vcvtneps2bf16(0, 1)
		VMOVDQU16(Y1, Mem{Base: RDX})
		ADDQ(U8(32), RDX)
		LEAQ(Mem{Base: RAX, Index: R8, Scale: 2}, RAX)
	}
	DECQ(R11)
	JNZ(LabelRef("row"))
	ADDQ(U8(4), R9)
	DECQ(R10)
	JNZ(LabelRef("tap"))
	VZEROUPPER()
	RET()
}
