//go:build !noasm

#include "textflag.h"

// func epiRowsAVX512(dst, src, add *float32, rows, wo, sp int, b float32, relu int32)
//
// biasActRowsGo with 512-bit vectors: each row's whole vectors, then its
// last wo%16 values under the mask K1.
TEXT ·epiRowsAVX512(SB), NOSPLIT, $0-56
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         add+16(FP), R8
	MOVQ         rows+24(FP), R9
	MOVQ         wo+32(FP), R10
	MOVQ         sp+40(FP), R11
	VBROADCASTSS b+48(FP), Z2
	MOVL         relu+52(FP), DX
	VPXORD       Z3, Z3, Z3
	MOVQ         R10, CX
	ANDQ         $15, CX
	MOVL         $1, AX
	SHLL         CX, AX
	DECL         AX
	KMOVW        AX, K1
	SHLQ         $2, R11

row:
	TESTQ R9, R9
	JZ    done
	MOVQ  R10, CX
	XORQ  BX, BX

col:
	CMPQ   CX, $16
	JLT    tail
	VADDPS (SI)(BX*1), Z2, Z0
	TESTQ  R8, R8
	JZ     noadd
	VADDPS (R8)(BX*1), Z0, Z0

noadd:
	TESTL DX, DX
	JZ    norelu

	// max(0, v): MAXPS returns its second source (v) when either is NaN.
	VMAXPS Z0, Z3, Z0

norelu:
	VMOVUPS Z0, (DI)(BX*1)
	ADDQ    $64, BX
	SUBQ    $16, CX
	JMP     col

tail:
	TESTQ     CX, CX
	JZ        next
	VMOVUPS.Z (SI)(BX*1), K1, Z0
	VADDPS    Z2, Z0, Z0
	TESTQ     R8, R8
	JZ        tnoadd
	VMOVUPS.Z (R8)(BX*1), K1, Z1
	VADDPS    Z1, Z0, Z0

tnoadd:
	TESTL  DX, DX
	JZ     tnorelu
	VMAXPS Z0, Z3, Z0

tnorelu:
	VMOVUPS Z0, K1, (DI)(BX*1)

next:
	LEAQ  (DI)(R10*4), DI
	TESTQ R8, R8
	JZ    nextrow
	LEAQ  (R8)(R10*4), R8

nextrow:
	ADDQ R11, SI
	DECQ R9
	JMP  row

done:
	VZEROUPPER
	RET
