//go:build !noasm

package kernel

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:generate sh -c "cd _asm && go run . -set int8 -pkg kernel -out ../int8_amd64.s"

// The kernI8 kernels are i8Kernel on one mr x 16*nv tile and kernQuant4
// is quantKernel on whole vectors (generated; see _asm/int8.go). They need
// AVX512_VNNI (VPDPBUSD), which Intel Cascade Lake and later and AMD Zen 4
// and later have.

// i8AsmWanted reports whether this CPU runs the generated int8 kernels.
var i8AsmWanted = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI

//go:noescape
func kernI8_1x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_1x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_1x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_1x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_2x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_2x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_2x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_2x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_3x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_3x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_3x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_3x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_4x1(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_4x2(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_4x3(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

//go:noescape
func kernI8_4x4(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32)

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
func kernQuant4(n int, x0, x1, x2, x3 *float32, dst *uint32, inv, zp float32)

// i8AsmKerns[mr][nv] is kernI8_<mr>x<nv>.
var i8AsmKerns = [i8MaxMR + 1][i8MaxNV + 1]func(k4 int, a *int32, lda int, b *uint8, boffs *int32, c *float32, ldc int, sc *float32, bias *float32){
	1: {1: kernI8_1x1, 2: kernI8_1x2, 3: kernI8_1x3, 4: kernI8_1x4},
	2: {1: kernI8_2x1, 2: kernI8_2x2, 3: kernI8_2x3, 4: kernI8_2x4},
	3: {1: kernI8_3x1, 2: kernI8_3x2, 3: kernI8_3x3, 4: kernI8_3x4},
	4: {1: kernI8_4x1, 2: kernI8_4x2, 3: kernI8_4x3, 4: kernI8_4x4},
	5: {1: kernI8_5x1, 2: kernI8_5x2, 3: kernI8_5x3, 4: kernI8_5x4},
	6: {1: kernI8_6x1, 2: kernI8_6x2, 3: kernI8_6x3, 4: kernI8_6x4},
}

func init() {
	if i8AsmWanted {
		im := i8Impl{"avx512vnni", i8AVX512, quant4AVX512}
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

// quant4AVX512 is the quantKernel: whole vectors in assembly, the tail in Go.
func quant4AVX512(n int, x0, x1, x2, x3 []float32, dst []uint32, inv, zp float32) {
	m := n &^ 15
	if m > 0 {
		_, _, _, _, _ = x0[m-1], x1[m-1], x2[m-1], x3[m-1], dst[m-1]
		kernQuant4(m, unsafe.SliceData(x0), unsafe.SliceData(x1), unsafe.SliceData(x2), unsafe.SliceData(x3), unsafe.SliceData(dst), inv, zp)
	}
	if m < n {
		quant4Go(n-m, x0[m:], x1[m:], x2[m:], x3[m:], dst[m:], inv, zp)
	}
}
