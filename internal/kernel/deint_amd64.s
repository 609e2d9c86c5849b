//go:build !noasm

#include "textflag.h"

// func deintAVX512(even, odd, src *float32, idx *int32, rows, w, sp, dp int)
//
// deinterleaveRowsGo with 512-bit vectors: 32 input floats at a time are
// split by VPERMI2PS with the index vectors idx[0:16] (even lanes) and
// idx[16:32] (odd lanes); the last w%32 under masks K1/K2 (loads) and
// K3/K4 (stores).
TEXT ·deintAVX512(SB), NOSPLIT, $0-64
	MOVQ      even+0(FP), DI
	MOVQ      odd+8(FP), R8
	MOVQ      src+16(FP), SI
	MOVQ      idx+24(FP), AX
	VMOVDQU32 (AX), Z6
	VMOVDQU32 64(AX), Z7
	MOVQ      rows+32(FP), R9
	MOVQ      w+40(FP), R10
	MOVQ      sp+48(FP), R11
	MOVQ      dp+56(FP), R12
	SHLQ      $2, R11
	SHLQ      $2, R12

	// R13 = r = w % 32; R10 = w - r.
	MOVQ R10, R13
	ANDQ $31, R13
	SUBQ R13, R10

	// K1: min(r, 16) lanes.
	MOVQ R13, CX
	CMPQ CX, $16
	JLE  m1
	MOVQ $16, CX

m1:
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K1

	// K2: max(r-16, 0) lanes.
	MOVQ R13, CX
	SUBQ $16, CX
	JGE  m2
	XORQ CX, CX

m2:
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K2

	// K3: (r+1)/2 lanes; K4: r/2 lanes.
	MOVQ  R13, CX
	INCQ  CX
	SHRQ  $1, CX
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K3
	MOVQ  R13, CX
	SHRQ  $1, CX
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K4

row:
	TESTQ R9, R9
	JZ    done
	XORQ  BX, BX
	XORQ  DX, DX

chunk:
	CMPQ      BX, R10
	JGE       tail
	VMOVUPS   (SI)(BX*4), Z0
	VMOVUPS   64(SI)(BX*4), Z1
	VMOVDQA32 Z6, Z2
	VPERMI2PS Z1, Z0, Z2
	VMOVDQA32 Z7, Z3
	VPERMI2PS Z1, Z0, Z3
	VMOVUPS   Z2, (DI)(DX*1)
	VMOVUPS   Z3, (R8)(DX*1)
	ADDQ      $32, BX
	ADDQ      $64, DX
	JMP       chunk

tail:
	TESTQ     R13, R13
	JZ        next
	VMOVUPS.Z (SI)(BX*4), K1, Z0
	VMOVUPS.Z 64(SI)(BX*4), K2, Z1
	VMOVDQA32 Z6, Z2
	VPERMI2PS Z1, Z0, Z2
	VMOVDQA32 Z7, Z3
	VPERMI2PS Z1, Z0, Z3
	VMOVUPS   Z2, K3, (DI)(DX*1)
	VMOVUPS   Z3, K4, (R8)(DX*1)

next:
	ADDQ R11, SI
	ADDQ R12, DI
	ADDQ R12, R8
	DECQ R9
	JMP  row

done:
	VZEROUPPER
	RET
