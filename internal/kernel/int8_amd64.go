//go:build !noasm

package kernel

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:generate sh -c "cd _asm && go run . -set int8 -pkg kernel -out ../int8_amd64.s"

// The kernI8 kernels are i8Kernel on one mr x 16*nv tile, the kernI8Y and
// kernI8Q kernels i8KernelY and i8KernelQ; kernQuantRows, kernQuantDeint
// and kernInterQuads are quantKernel, deintKernel and interKernel
// (generated; see _asm/int8.go and _asm/int8pack.go). They need AVX512_VNNI (VPDPBUSD), which Intel Cascade Lake and later and AMD Zen 4
// and later have.

// i8AsmWanted reports whether this CPU runs the generated int8 kernels.
var i8AsmWanted = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI

// i8InterVBMI reports whether the interleaver permutes bytes
// (kernInterQuadsVBMI, AVX512_VBMI: Ice Lake and Zen 4 and later) rather
// than widening them (kernInterQuads, for Cascade Lake).
var i8InterVBMI = cpu.X86.HasAVX512VBMI

//go:noescape
func kernI8_1x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_1x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_1x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_1x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_1x5(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_1x6(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_1x7(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_1x8(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_2x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_2x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_2x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_2x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_2x5(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_2x6(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_2x7(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_2x8(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_3x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_3x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_3x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_3x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_3x5(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_3x6(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_3x7(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_3x8(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_4x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_4x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_4x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_4x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_4x5(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_4x6(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_5x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_5x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_5x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_5x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_6x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_6x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_6x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_6x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernQuantRows(rows, w int, x *float32, xp int, dst *uint8, dp int, inv, zp float32)

//go:noescape
func kernInterQuads(nq, n int, planes *uint8, idx *int32, dst *uint32)

//go:noescape
func kernQuantDeint(rows, n int, x *float32, xp int, d0, d1 *uint8, dp int, inv, zp float32)

//go:noescape
func kernInterQuadsVBMI(nq, n int, planes *uint8, idx *int32, dst *uint32)

// i8AsmKerns[mr][nv] is kernI8_<mr>x<nv> (nil where mr*nv > i8MaxAcc).
var i8AsmKerns = [i8MaxMR + 1][i8MaxNV + 1]func(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32){
	1: {1: kernI8_1x1, 2: kernI8_1x2, 3: kernI8_1x3, 4: kernI8_1x4, 5: kernI8_1x5, 6: kernI8_1x6, 7: kernI8_1x7, 8: kernI8_1x8},
	2: {1: kernI8_2x1, 2: kernI8_2x2, 3: kernI8_2x3, 4: kernI8_2x4, 5: kernI8_2x5, 6: kernI8_2x6, 7: kernI8_2x7, 8: kernI8_2x8},
	3: {1: kernI8_3x1, 2: kernI8_3x2, 3: kernI8_3x3, 4: kernI8_3x4, 5: kernI8_3x5, 6: kernI8_3x6, 7: kernI8_3x7, 8: kernI8_3x8},
	4: {1: kernI8_4x1, 2: kernI8_4x2, 3: kernI8_4x3, 4: kernI8_4x4, 5: kernI8_4x5, 6: kernI8_4x6},
	5: {1: kernI8_5x1, 2: kernI8_5x2, 3: kernI8_5x3, 4: kernI8_5x4},
	6: {1: kernI8_6x1, 2: kernI8_6x2, 3: kernI8_6x3, 4: kernI8_6x4},
}

//go:noescape
func kernI8Y_1x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_1x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_1x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_1x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_1x5(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_1x6(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_1x7(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_1x8(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_2x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_2x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_2x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_2x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_2x5(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_2x6(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_2x7(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_2x8(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_3x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_3x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_3x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_3x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_3x5(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_3x6(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_3x7(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_3x8(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_4x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_4x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_4x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_4x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_4x5(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_4x6(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_5x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_5x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_5x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_5x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_6x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_6x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_6x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

//go:noescape
func kernI8Y_6x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int)

// i8AsmKernsY[mr][nv] is kernI8Y_<mr>x<nv> (nil where mr*nv > i8MaxAcc).
var i8AsmKernsY = [i8MaxMR + 1][i8MaxNV + 1]func(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *float32, yoff *int32, add *float32, vinfo *int32, sc *float32, bias *float32, flags int, nt int){
	1: {1: kernI8Y_1x1, 2: kernI8Y_1x2, 3: kernI8Y_1x3, 4: kernI8Y_1x4, 5: kernI8Y_1x5, 6: kernI8Y_1x6, 7: kernI8Y_1x7, 8: kernI8Y_1x8},
	2: {1: kernI8Y_2x1, 2: kernI8Y_2x2, 3: kernI8Y_2x3, 4: kernI8Y_2x4, 5: kernI8Y_2x5, 6: kernI8Y_2x6, 7: kernI8Y_2x7, 8: kernI8Y_2x8},
	3: {1: kernI8Y_3x1, 2: kernI8Y_3x2, 3: kernI8Y_3x3, 4: kernI8Y_3x4, 5: kernI8Y_3x5, 6: kernI8Y_3x6, 7: kernI8Y_3x7, 8: kernI8Y_3x8},
	4: {1: kernI8Y_4x1, 2: kernI8Y_4x2, 3: kernI8Y_4x3, 4: kernI8Y_4x4, 5: kernI8Y_4x5, 6: kernI8Y_4x6},
	5: {1: kernI8Y_5x1, 2: kernI8Y_5x2, 3: kernI8Y_5x3, 4: kernI8Y_5x4},
	6: {1: kernI8Y_6x1, 2: kernI8Y_6x2, 3: kernI8Y_6x3, 4: kernI8Y_6x4},
}

//go:noescape
func kernI8Q_1x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_1x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_1x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_1x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_1x5(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_1x6(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_1x7(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_1x8(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_2x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_2x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_2x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_2x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_2x5(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_2x6(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_2x7(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_2x8(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_3x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_3x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_3x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_3x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_3x5(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_3x6(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_3x7(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_3x8(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_4x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_4x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_4x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_4x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_4x5(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_4x6(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_5x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_5x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_5x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_5x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_6x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_6x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_6x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

//go:noescape
func kernI8Q_6x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int)

// i8AsmKernsQ[mr][nv] is kernI8Q_<mr>x<nv> (nil where mr*nv > i8MaxAcc).
var i8AsmKernsQ = [i8MaxMR + 1][i8MaxNV + 1]func(k4 int, a *int32, lda int, b *uint8, boffs *int32, y *uint8, yoff *int32, add *float32, aoff *int32, vinfo *int32, sc *float32, bias *float32, q *float32, flags int, nt int){
	1: {1: kernI8Q_1x1, 2: kernI8Q_1x2, 3: kernI8Q_1x3, 4: kernI8Q_1x4, 5: kernI8Q_1x5, 6: kernI8Q_1x6, 7: kernI8Q_1x7, 8: kernI8Q_1x8},
	2: {1: kernI8Q_2x1, 2: kernI8Q_2x2, 3: kernI8Q_2x3, 4: kernI8Q_2x4, 5: kernI8Q_2x5, 6: kernI8Q_2x6, 7: kernI8Q_2x7, 8: kernI8Q_2x8},
	3: {1: kernI8Q_3x1, 2: kernI8Q_3x2, 3: kernI8Q_3x3, 4: kernI8Q_3x4, 5: kernI8Q_3x5, 6: kernI8Q_3x6, 7: kernI8Q_3x7, 8: kernI8Q_3x8},
	4: {1: kernI8Q_4x1, 2: kernI8Q_4x2, 3: kernI8Q_4x3, 4: kernI8Q_4x4, 5: kernI8Q_4x5, 6: kernI8Q_4x6},
	5: {1: kernI8Q_5x1, 2: kernI8Q_5x2, 3: kernI8Q_5x3, 4: kernI8Q_5x4},
	6: {1: kernI8Q_6x1, 2: kernI8Q_6x2, 3: kernI8Q_6x3, 4: kernI8Q_6x4},
}

func init() {
	if i8AsmWanted {
		im := i8Impl{"avx512vnni", i8AVX512, i8YAVX512, i8QAVX512, quantRowsAVX512, quantDeintAVX512, interQuadsAVX512, i8FlatAVX512, i8AMXFor}
		i8Impls = append(i8Impls, im)
		i8Cur = im
	}
}

// i8AVX512 is the i8Kernel of the generated kernels. It checks the bounds
// of a, boffs, c, sc and bias; the caller guarantees that every
// b[boffs[k]+64*nv-1] is in range.
func i8AVX512(mr, nv, k4 int, a []int32, lda int, b []byte, boffs []int32, c []float32, ldc int, sc, bias []float32) {
	_ = a[(mr-1)*lda+k4-1]
	_ = boffs[k4-1]
	_ = c[(mr-1)*ldc+16*nv-1]
	_, _ = sc[mr-1], bias[mr-1]
	i8AsmKerns[mr][nv](k4, unsafe.SliceData(a), lda, unsafe.SliceData(b), unsafe.SliceData(boffs), unsafe.SliceData(c), ldc, unsafe.SliceData(sc), unsafe.SliceData(bias))
}

// i8YAVX512 is the i8KernelY of the generated kernels. It checks the
// bounds of a, boffs, yoff, vinfo, sc and bias; the caller guarantees
// that every output vinfo and yoff name is in y (and add), and that b
// holds the nt tiles' inputs.
func i8YAVX512(mr, nv, nt, k4 int, a []int32, lda int, b []byte, boffs []int32, y []float32, yoff []int32, add []float32, vinfo []int32, sc, bias []float32, relu bool) {
	_ = a[(mr-1)*lda+k4-1]
	_ = boffs[k4-1]
	_, _, _ = yoff[mr-1], sc[mr-1], bias[mr-1]
	_ = vinfo[2*nv*nt-1]
	flags := 0
	if relu {
		flags |= 1
	}
	var ap *float32
	if add != nil {
		flags |= 2
		ap = unsafe.SliceData(add)
	}
	i8AsmKernsY[mr][nv](k4, unsafe.SliceData(a), lda, unsafe.SliceData(b), unsafe.SliceData(boffs), unsafe.SliceData(y),
		unsafe.SliceData(yoff), ap, unsafe.SliceData(vinfo), unsafe.SliceData(sc), unsafe.SliceData(bias), flags, nt)
}

// i8QAVX512 is the i8KernelQ of the generated kernels. It checks the
// bounds of a, boffs, yoff, aoff, vinfo, sc and bias; the caller
// guarantees that every byte and residual the valid lanes reach is in y
// and add, and that b holds the nt tiles' inputs.
func i8QAVX512(mr, nv, nt, k4 int, a []int32, lda int, b []byte, boffs []int32, y []byte, yoff []int32, add []float32, aoff []int32, vinfo []int32, sc, bias []float32, q *[2]float32, relu bool) {
	_ = a[(mr-1)*lda+k4-1]
	_ = boffs[k4-1]
	_, _, _, _ = yoff[mr-1], aoff[mr-1], sc[mr-1], bias[mr-1]
	_ = vinfo[2*nv*nt-1]
	flags := 0
	if relu {
		flags |= 1
	}
	var ap *float32
	if add != nil {
		flags |= 2
		ap = unsafe.SliceData(add)
	}
	i8AsmKernsQ[mr][nv](k4, unsafe.SliceData(a), lda, unsafe.SliceData(b), unsafe.SliceData(boffs), unsafe.SliceData(y),
		unsafe.SliceData(yoff), ap, unsafe.SliceData(aoff), unsafe.SliceData(vinfo), unsafe.SliceData(sc), unsafe.SliceData(bias), &q[0], flags, nt)
}

// quantRowsAVX512 is the quantKernel of the generated kernQuantRows.
func quantRowsAVX512(rows, w int, x []float32, xp int, dst []byte, dp int, inv, zp float32) {
	if rows == 0 || w == 0 {
		return
	}
	_, _ = x[(rows-1)*xp+w-1], dst[(rows-1)*dp+w-1]
	kernQuantRows(rows, w, unsafe.SliceData(x), xp, unsafe.SliceData(dst), dp, inv, zp)
}

// quantDeintAVX512 is the deintKernel of the generated kernQuantDeint.
func quantDeintAVX512(rows, n int, x []float32, xp int, d0, d1 []byte, dp int, inv, zp float32) {
	if rows == 0 || n == 0 {
		return
	}
	_, _, _ = x[(rows-1)*xp+2*n-1], d0[(rows-1)*dp+n-1], d1[(rows-1)*dp+n-1]
	kernQuantDeint(rows, n, unsafe.SliceData(x), xp, unsafe.SliceData(d0), unsafe.SliceData(d1), dp, inv, zp)
}

// interQuadsAVX512 is the interKernel of the generated kernInterQuads;
// n must be a multiple of 16.
func interQuadsAVX512(n int, planes []byte, idx []int32, dst []uint32) {
	nq := len(idx) / 4
	if nq == 0 || n == 0 {
		return
	}
	if n%16 != 0 {
		panic("kernel: interQuadsAVX512: n not a multiple of 16")
	}
	for _, o := range idx {
		_ = planes[int(o)+n-1]
	}
	_ = dst[nq*n-1]
	if i8InterVBMI {
		kernInterQuadsVBMI(nq, n, unsafe.SliceData(planes), unsafe.SliceData(idx), unsafe.SliceData(dst))
		return
	}
	kernInterQuads(nq, n, unsafe.SliceData(planes), unsafe.SliceData(idx), unsafe.SliceData(dst))
}
