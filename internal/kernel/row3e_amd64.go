//go:build !noasm

package kernel

import (
	"math/bits"
	"unsafe"
)

// The kernRow3*E kernels are the kernRow3 kernels (row3_amd64.go, generated
// by the same go:generate line) with the flat epilogue fused into their
// store: row i of the tile goes to c+coffs[i] as max(sum+bias[i], lo) in
// the lanes masks sets, 0 in the others (row3EKernel).

//go:noescape
func kernRow3E_1x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3E_1x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3E_1x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3E_1x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3E_1x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3E_1x6(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3E_1x7(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3E_1x8(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3E_2x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3E_2x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3E_2x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3E_2x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3E_2x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3E_2x6(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3E_3x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3E_3x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3E_3x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3E_3x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3E_3x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L1E_1x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L1E_1x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L1E_1x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L1E_1x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L1E_1x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L1E_1x6(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L1E_1x7(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L1E_1x8(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L1E_2x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L1E_2x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L1E_2x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L1E_2x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L1E_2x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L1E_2x6(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L1E_3x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L1E_3x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L1E_3x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L1E_3x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L1E_3x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L2E_1x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L2E_1x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L2E_1x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L2E_1x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L2E_1x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L2E_1x6(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L2E_1x7(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L2E_1x8(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L2E_2x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L2E_2x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L2E_2x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L2E_2x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L2E_2x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L2E_2x6(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L2E_3x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L2E_3x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L2E_3x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L2E_3x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3L2E_3x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3SE_1x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3SE_1x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3SE_1x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3SE_1x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3SE_1x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3SE_1x6(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3SE_1x7(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

//go:noescape
func kernRow3SE_1x8(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32)

// row3ESKerns[nv] is kernRow3SE_1x<nv>, variant row3Shift of one-filter tiles.
var row3ESKerns = [row3SMaxNV + 1]func(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32){
	1: kernRow3SE_1x1, 2: kernRow3SE_1x2, 3: kernRow3SE_1x3, 4: kernRow3SE_1x4, 5: kernRow3SE_1x5, 6: kernRow3SE_1x6, 7: kernRow3SE_1x7, 8: kernRow3SE_1x8,
}

// row3EKerns[v][m][nv] is variant v's fused kernel of an m x 16*nv tile.
var row3EKerns = [row3Shift][row3MaxM + 1][wideNV + 1]func(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, coffs *int, bias *float32, masks *uint16, lo float32, add *float32, qoffs *int32){
	{
		1: {1: kernRow3E_1x1, 2: kernRow3E_1x2, 3: kernRow3E_1x3, 4: kernRow3E_1x4, 5: kernRow3E_1x5, 6: kernRow3E_1x6, 7: kernRow3E_1x7, 8: kernRow3E_1x8},
		2: {1: kernRow3E_2x1, 2: kernRow3E_2x2, 3: kernRow3E_2x3, 4: kernRow3E_2x4, 5: kernRow3E_2x5, 6: kernRow3E_2x6},
		3: {1: kernRow3E_3x1, 2: kernRow3E_3x2, 3: kernRow3E_3x3, 4: kernRow3E_3x4, 5: kernRow3E_3x5},
	},
	{
		1: {1: kernRow3L1E_1x1, 2: kernRow3L1E_1x2, 3: kernRow3L1E_1x3, 4: kernRow3L1E_1x4, 5: kernRow3L1E_1x5, 6: kernRow3L1E_1x6, 7: kernRow3L1E_1x7, 8: kernRow3L1E_1x8},
		2: {1: kernRow3L1E_2x1, 2: kernRow3L1E_2x2, 3: kernRow3L1E_2x3, 4: kernRow3L1E_2x4, 5: kernRow3L1E_2x5, 6: kernRow3L1E_2x6},
		3: {1: kernRow3L1E_3x1, 2: kernRow3L1E_3x2, 3: kernRow3L1E_3x3, 4: kernRow3L1E_3x4, 5: kernRow3L1E_3x5},
	},
	{
		1: {1: kernRow3L2E_1x1, 2: kernRow3L2E_1x2, 3: kernRow3L2E_1x3, 4: kernRow3L2E_1x4, 5: kernRow3L2E_1x5, 6: kernRow3L2E_1x6, 7: kernRow3L2E_1x7, 8: kernRow3L2E_1x8},
		2: {1: kernRow3L2E_2x1, 2: kernRow3L2E_2x2, 3: kernRow3L2E_2x3, 4: kernRow3L2E_2x4, 5: kernRow3L2E_2x5, 6: kernRow3L2E_2x6},
		3: {1: kernRow3L2E_3x1, 2: kernRow3L2E_3x2, 3: kernRow3L2E_3x3, 4: kernRow3L2E_3x4, 5: kernRow3L2E_3x5},
	},
}

// row3EAVX512 is the row3EKernel of the kernRow3*E kernels, in the
// variant row3Pick names for m. It checks the bounds of a, c, coffs, bias,
// masks, qoffs and add; the caller guarantees
// b[rowOffs[r]+16*(tiles*nv+1)-1] is in range and, in the residual form,
// that qoffs grows by the set lanes of masks.
func row3EAVX512(m, nv, tiles int, a []float32, lda int, b []float32, rowOffs []int32, c []float32, coffs []int, bias []float32, masks []uint16, lo float32, add []float32, qoffs []int32) {
	if tiles <= 0 {
		return
	}
	_ = bias[m-1]
	_ = masks[tiles*nv-1]
	ap, qp := fusedOut(c, coffs[:m], tiles*nv, masks, add, qoffs)
	rows := len(rowOffs)
	if rows == 0 {
		row3EGo(m, nv, tiles, a, lda, b, rowOffs, c, coffs, bias, masks, lo, add, qoffs)
		return
	}
	_ = a[(m-1)*lda+3*rows-1]
	if m == 1 && row3Pick[1] == row3Shift {
		if nv > row3SMaxNV { // tiles wider than the kernels, in parts
			for j := 0; j < tiles*nv; j += row3SMaxNV {
				w := min(row3SMaxNV, tiles*nv-j)
				cj, qj := &c[j*vecW], (*int32)(nil)
				if qoffs != nil {
					cj, qj = unsafe.SliceData(c), &qoffs[j]
				}
				row3ESKerns[w](1, rows, unsafe.SliceData(a), lda, &b[j*vecW], unsafe.SliceData(rowOffs), cj, &coffs[0], &bias[0], &masks[j], lo, ap, qj)
			}
			return
		}
		row3ESKerns[nv](tiles, rows, unsafe.SliceData(a), lda, unsafe.SliceData(b), unsafe.SliceData(rowOffs), unsafe.SliceData(c), &coffs[0], &bias[0], &masks[0], lo, ap, qp)
		return
	}
	row3EKerns[row3Pick[m]][m][nv](tiles, rows, unsafe.SliceData(a), lda, unsafe.SliceData(b), unsafe.SliceData(rowOffs), unsafe.SliceData(c), &coffs[0], &bias[0], &masks[0], lo, ap, qp)
}

// fusedOut checks the bounds of a fused kernel's stores into c (and loads
// from add) for its nvec vectors and returns the pointers of add and
// qoffs, nil outside the residual form.
func fusedOut(c []float32, coffs []int, nvec int, masks []uint16, add []float32, qoffs []int32) (*float32, *int32) {
	if qoffs == nil {
		n := nvec * vecW
		for _, o := range coffs {
			_ = c[o : o+n]
		}
		return nil, nil
	}
	end := compressEnd(masks[:nvec], qoffs[:nvec])
	if qoffs[0] < 0 {
		panic("kernel: negative qoffs")
	}
	for _, o := range coffs {
		_ = c[o : o+end]
		_ = add[o : o+end]
	}
	return unsafe.SliceData(add), unsafe.SliceData(qoffs)
}

// compressEnd is one past the last index (from a plane's start) that the
// residual form writes for the vectors of masks and qoffs.
func compressEnd(masks []uint16, qoffs []int32) int {
	last := len(masks) - 1
	return int(qoffs[last]) + bits.OnesCount16(masks[last])
}

func init() {
	if asmWanted {
		row3FusedImpl = row3EAVX512
		row3Fused = row3EAVX512
	}
}
