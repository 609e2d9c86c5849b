//go:build !noasm

package kernel

import "unsafe"

// asmKernsE[m][nv] is the generated kernel of an m x 16*nv tile with the
// flat epilogue in its store (kernE<m>x<nv>; the wide tile is kernE1x8),
// as asmKerns without it.
var asmKernsE = [maxMR + 1][planeNV + 1]func(k int, a *float32, aoffs *int32, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32){
	1: {1: kernE1x1, 2: kernE1x2, 3: kernE1x3, 4: kernE1x4, 5: kernE1x5},
	2: {1: kernE2x1, 2: kernE2x2, 3: kernE2x3, 4: kernE2x4, 5: kernE2x5},
	3: {1: kernE3x1, 2: kernE3x2, 3: kernE3x3, 4: kernE3x4, 5: kernE3x5},
	4: {1: kernE4x1, 2: kernE4x2, 3: kernE4x3, 4: kernE4x4, 5: kernE4x5},
	5: {1: kernE5x1, 2: kernE5x2, 3: kernE5x3, 4: kernE5x4},
	6: {1: kernE6x1, 2: kernE6x2, 3: kernE6x3, 4: kernE6x4},
	7: {1: kernE7x1, 2: kernE7x2, 3: kernE7x3},
	8: {1: kernE8x1, 2: kernE8x2, 3: kernE8x3},
}

// microEAVX512 is the microEKernel of the kernE kernels. It checks the
// bounds of aoffs, boffs, c, coffs, bias, masks, qoffs, add and of A's rows; the
// callers guarantee that every b[boffs[p]+j] is in range.
func microEAVX512(m, nv, k int, a []float32, aoffs []int32, b []float32, boffs []int32, c []float32, coffs []int, bias []float32, masks []uint16, lo float32, add []float32, qoffs []int32) {
	for _, o := range aoffs[:m] {
		_ = a[o : int(o)+k]
	}
	_ = boffs[:k]
	_ = bias[m-1]
	_ = masks[nv-1]
	ap, qp := fusedOut(c, coffs[:m], nv, masks, add, qoffs)
	kern := asmKernsE[m][min(nv, planeNV)]
	if nv == wideNV {
		kern = kernE1x8
	}
	kern(k, unsafe.SliceData(a), unsafe.SliceData(aoffs), unsafe.SliceData(b), unsafe.SliceData(boffs), unsafe.SliceData(c), &coffs[0], &bias[0], &masks[0], lo, ap, qp)
}

func init() {
	if asmWanted {
		microFusedImpl = microEAVX512
		microFused = microEAVX512
	}
}
