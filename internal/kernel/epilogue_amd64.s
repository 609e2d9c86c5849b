//go:build !noasm

#include "textflag.h"

// func epiRowsAVX512(dst, src, add *float32, rows, wo, sp, dp int, b float32, flags int32)
//
// biasActRowsGo and padRowsGo with 512-bit vectors: for each of rows rows,
// v = src row (+ b unless flags&2) (+ add row) (max(0, v) if flags&1) into
// dst, whole vectors then the last wo%16 values under the mask K1; with
// flags&4, the dp-wo (<= 16) floats after each dst row are zeroed (K2).
// Row pitches: src sp, dst dp, add wo (floats).
TEXT ·epiRowsAVX512(SB), NOSPLIT, $0-64
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         add+16(FP), R8
	MOVQ         rows+24(FP), R9
	MOVQ         wo+32(FP), R10
	MOVQ         sp+40(FP), R11
	MOVQ         dp+48(FP), R12
	VBROADCASTSS b+56(FP), Z2
	MOVL         flags+60(FP), DX
	VPXORD       Z3, Z3, Z3

	// K1: the last wo%16 lanes; K2: the dp-wo gap lanes.
	MOVQ  R10, CX
	ANDQ  $15, CX
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K1
	MOVQ  R12, CX
	SUBQ  R10, CX
	ANDQ  $31, CX
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K2
	SHLQ  $2, R11
	SHLQ  $2, R12

row:
	TESTQ R9, R9
	JZ    done
	MOVQ  R10, CX
	XORQ  BX, BX

col:
	CMPQ    CX, $16
	JLT     tail
	VMOVUPS (SI)(BX*1), Z0
	TESTL   $2, DX
	JNZ     nobias
	VADDPS  Z2, Z0, Z0

nobias:
	TESTQ  R8, R8
	JZ     noadd
	VADDPS (R8)(BX*1), Z0, Z0

noadd:
	TESTL $1, DX
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
	JZ        gap
	VMOVUPS.Z (SI)(BX*1), K1, Z0
	TESTL     $2, DX
	JNZ       tnobias
	VADDPS    Z2, Z0, Z0

tnobias:
	TESTQ     R8, R8
	JZ        tnoadd
	VMOVUPS.Z (R8)(BX*1), K1, Z1
	VADDPS    Z1, Z0, Z0

tnoadd:
	TESTL  $1, DX
	JZ     tnorelu
	VMAXPS Z0, Z3, Z0

tnorelu:
	VMOVUPS Z0, K1, (DI)(BX*1)

gap:
	TESTL   $4, DX
	JZ      next
	LEAQ    (DI)(R10*4), AX
	VMOVUPS Z3, K2, (AX)

next:
	ADDQ  R12, DI
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
