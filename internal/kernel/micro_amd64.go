//go:build !noasm

package kernel

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:generate sh -c "cd _asm && go run . -pkg kernel -out ../micro_amd64.s -stubs ../micro_decl_amd64.go"

// asmWanted reports whether this CPU can run the AVX-512 micro-kernels,
// so that tests must find them registered.
var asmWanted = cpu.X86.HasAVX512F

// asmKerns[m][nv] is the generated kernel for an m x 16*nv tile (nv up to
// maxNV, or planeNV); the wide tile (1 x 16*wideNV) is kern1x8.
var asmKerns = [maxMR + 1][planeNV + 1]func(k int, a *float32, aoffs *int32, b *float32, boffs *int32, c *float32, ldc int, add bool){
	1: {1: kern1x1, 2: kern1x2, 3: kern1x3, 4: kern1x4, 5: kern1x5},
	2: {1: kern2x1, 2: kern2x2, 3: kern2x3, 4: kern2x4, 5: kern2x5},
	3: {1: kern3x1, 2: kern3x2, 3: kern3x3, 4: kern3x4, 5: kern3x5},
	4: {1: kern4x1, 2: kern4x2, 3: kern4x3, 4: kern4x4, 5: kern4x5},
	5: {1: kern5x1, 2: kern5x2, 3: kern5x3, 4: kern5x4},
	6: {1: kern6x1, 2: kern6x2, 3: kern6x3, 4: kern6x4},
	7: {1: kern7x1, 2: kern7x2, 3: kern7x3},
	8: {1: kern8x1, 2: kern8x2, 3: kern8x3},
}

func init() {
	if asmWanted {
		im := impl{"avx512", microAVX512, true, row3AVX512, dotAVX512}
		impls = append(impls, im)
		cur = im
	}
}

// microAVX512 is the microKernel of the generated AVX-512 kernels. It
// checks the bounds of aoffs, boffs, c and of A's rows; the callers
// guarantee that every b[boffs[p]+j] is in range (checking it would cost a
// pass over boffs).
func microAVX512(m, nv, k int, a []float32, aoffs []int32, b []float32, boffs []int32, c []float32, ldc int, add bool) {
	for _, o := range aoffs[:m] {
		_ = a[o : int(o)+k]
	}
	_ = boffs[:k]
	_ = c[(m-1)*ldc+nv*vecW-1]
	if nv == wideNV {
		kern1x8(k, unsafe.SliceData(a), unsafe.SliceData(aoffs), unsafe.SliceData(b), unsafe.SliceData(boffs), unsafe.SliceData(c), ldc, add)
		return
	}
	asmKerns[m][nv](k, unsafe.SliceData(a), unsafe.SliceData(aoffs), unsafe.SliceData(b), unsafe.SliceData(boffs), unsafe.SliceData(c), ldc, add)
}
