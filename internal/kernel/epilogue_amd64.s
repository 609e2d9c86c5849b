//go:build !noasm

#include "textflag.h"

// func epiAVX512(y, add *float32, n int, b float32, relu int32)
TEXT ·epiAVX512(SB), NOSPLIT, $0-32
	MOVQ         y+0(FP), DI
	MOVQ         add+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS b+24(FP), Z2
	MOVL         relu+28(FP), DX
	VPXORD       Z3, Z3, Z3

loop:
	CMPQ    CX, $16
	JLT     tail
	VADDPS  (DI), Z2, Z0
	TESTQ   SI, SI
	JZ      noadd
	VADDPS  (SI), Z0, Z0
	ADDQ    $64, SI

noadd:
	TESTL   DX, DX
	JZ      norelu
	// max(0, v): MAXPS returns its second source (v) when either is NaN.
	VMAXPS  Z0, Z3, Z0

norelu:
	VMOVUPS Z0, (DI)
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     loop

tail:
	TESTQ     CX, CX
	JZ        done
	MOVL      $1, AX
	SHLL      CX, AX
	DECL      AX
	KMOVW     AX, K1
	VMOVUPS.Z (DI), K1, Z0
	VADDPS    Z2, Z0, Z0
	TESTQ     SI, SI
	JZ        tnoadd
	VMOVUPS.Z (SI), K1, Z1
	VADDPS    Z1, Z0, Z0

tnoadd:
	TESTL   DX, DX
	JZ      tnorelu
	VMAXPS  Z0, Z3, Z0

tnorelu:
	VMOVUPS Z0, K1, (DI)

done:
	VZEROUPPER
	RET
