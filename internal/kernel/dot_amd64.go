//go:build !noasm

package kernel

import "unsafe"

//go:generate sh -c "cd _asm && go run . -set dot -pkg kernel -out ../dot_amd64.s"

// The kernDot kernels are dotKernel on one nb x kb tile with 512-bit
// vectors (generated; see _asm/dot.go).

//go:noescape
func kernDot_1x1(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_1x2(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_1x3(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_1x4(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_1x5(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_1x6(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_2x1(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_2x2(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_2x3(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_2x4(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_2x5(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_2x6(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_3x1(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_3x2(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_3x3(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_3x4(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_3x5(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_3x6(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_4x1(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_4x2(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_4x3(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_4x4(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_4x5(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernDot_4x6(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

// dotKerns[nb][kb] is kernDot_<nb>x<kb>.
var dotKerns = [dotMaxNB + 1][dotMaxKB + 1]func(q int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int){
	1: {1: kernDot_1x1, 2: kernDot_1x2, 3: kernDot_1x3, 4: kernDot_1x4, 5: kernDot_1x5, 6: kernDot_1x6},
	2: {1: kernDot_2x1, 2: kernDot_2x2, 3: kernDot_2x3, 4: kernDot_2x4, 5: kernDot_2x5, 6: kernDot_2x6},
	3: {1: kernDot_3x1, 2: kernDot_3x2, 3: kernDot_3x3, 4: kernDot_3x4, 5: kernDot_3x5, 6: kernDot_3x6},
	4: {1: kernDot_4x1, 2: kernDot_4x2, 3: kernDot_4x3, 4: kernDot_4x4, 5: kernDot_4x5, 6: kernDot_4x6},
}

// dotAVX512 is the dotKernel of the kernDot kernels. It checks the bounds
// of a, boffs and c; the caller guarantees b[boffs[j]+16*q-1] is in range.
func dotAVX512(nb, kb, q int, a []float32, lda int, b []float32, boffs []int32, c []float32, ldc int) {
	_ = a[(nb-1)*lda+16*q-1]
	_ = boffs[kb-1]
	_ = c[(nb-1)*ldc+kb-1]
	dotKerns[nb][kb](q, unsafe.SliceData(a), lda, unsafe.SliceData(b), unsafe.SliceData(boffs), unsafe.SliceData(c), ldc)
}
