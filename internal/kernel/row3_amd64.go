//go:build !noasm

package kernel

import "unsafe"

//go:generate sh -c "cd _asm && go run . -set row3 -pkg kernel -out ../row3_amd64.s"

// The kernRow3 kernels are row3Kernel on one m x 16*nv tile with 512-bit
// vectors (generated; see _asm/row3.go). They read b up to
// boffs[r]+16*(nv+1)-1. kernRow3 makes the taps at +1 and +2 with VALIGND,
// kernRow3L1 loads the tap at +2 from memory and kernRow3L2 both;
// kernRow3S (one filter) sums each tap apart and shifts once per tile.
// row3Pick chooses the variant per m (row3tune.go).

//go:noescape
func kernRow3_1x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3_1x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3_1x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3_1x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3_1x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3_1x6(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3_1x7(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3_1x8(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3_2x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3_2x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3_2x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3_2x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3_2x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3_2x6(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3_3x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3_3x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3_3x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3_3x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3_3x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L1_1x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L1_1x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L1_1x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L1_1x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L1_1x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L1_1x6(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L1_1x7(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L1_1x8(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L1_2x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L1_2x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L1_2x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L1_2x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L1_2x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L1_2x6(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L1_3x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L1_3x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L1_3x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L1_3x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L1_3x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L2_1x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L2_1x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L2_1x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L2_1x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L2_1x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L2_1x6(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L2_1x7(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L2_1x8(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L2_2x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L2_2x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L2_2x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L2_2x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L2_2x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L2_2x6(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L2_3x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L2_3x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L2_3x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L2_3x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3L2_3x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3S_1x1(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3S_1x2(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3S_1x3(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3S_1x4(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3S_1x5(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3S_1x6(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3S_1x7(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

//go:noescape
func kernRow3S_1x8(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int)

// row3SKerns[nv] is kernRow3S_1x<nv>, variant row3Shift of one-filter tiles.
var row3SKerns = [row3SMaxNV + 1]func(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int){
	1: kernRow3S_1x1, 2: kernRow3S_1x2, 3: kernRow3S_1x3, 4: kernRow3S_1x4, 5: kernRow3S_1x5, 6: kernRow3S_1x6, 7: kernRow3S_1x7, 8: kernRow3S_1x8,
}

// row3Kerns[v][m][nv] is variant v's kernel of an m x 16*nv tile.
var row3Kerns = [row3Shift][row3MaxM + 1][wideNV + 1]func(tiles, rows int, a *float32, lda int, b *float32, boffs *int32, c *float32, ldc int){
	{
		1: {1: kernRow3_1x1, 2: kernRow3_1x2, 3: kernRow3_1x3, 4: kernRow3_1x4, 5: kernRow3_1x5, 6: kernRow3_1x6, 7: kernRow3_1x7, 8: kernRow3_1x8},
		2: {1: kernRow3_2x1, 2: kernRow3_2x2, 3: kernRow3_2x3, 4: kernRow3_2x4, 5: kernRow3_2x5, 6: kernRow3_2x6},
		3: {1: kernRow3_3x1, 2: kernRow3_3x2, 3: kernRow3_3x3, 4: kernRow3_3x4, 5: kernRow3_3x5},
	},
	{
		1: {1: kernRow3L1_1x1, 2: kernRow3L1_1x2, 3: kernRow3L1_1x3, 4: kernRow3L1_1x4, 5: kernRow3L1_1x5, 6: kernRow3L1_1x6, 7: kernRow3L1_1x7, 8: kernRow3L1_1x8},
		2: {1: kernRow3L1_2x1, 2: kernRow3L1_2x2, 3: kernRow3L1_2x3, 4: kernRow3L1_2x4, 5: kernRow3L1_2x5, 6: kernRow3L1_2x6},
		3: {1: kernRow3L1_3x1, 2: kernRow3L1_3x2, 3: kernRow3L1_3x3, 4: kernRow3L1_3x4, 5: kernRow3L1_3x5},
	},
	{
		1: {1: kernRow3L2_1x1, 2: kernRow3L2_1x2, 3: kernRow3L2_1x3, 4: kernRow3L2_1x4, 5: kernRow3L2_1x5, 6: kernRow3L2_1x6, 7: kernRow3L2_1x7, 8: kernRow3L2_1x8},
		2: {1: kernRow3L2_2x1, 2: kernRow3L2_2x2, 3: kernRow3L2_2x3, 4: kernRow3L2_2x4, 5: kernRow3L2_2x5, 6: kernRow3L2_2x6},
		3: {1: kernRow3L2_3x1, 2: kernRow3L2_3x2, 3: kernRow3L2_3x3, 4: kernRow3L2_3x4, 5: kernRow3L2_3x5},
	},
}

// row3AVX512 is the row3Kernel of the kernRow3 kernels, in the variant
// row3Pick names for m. It checks the bounds of a and c; the caller
// guarantees b[rowOffs[r]+16*(tiles*nv+1)-1] is in range.
func row3AVX512(m, nv, tiles int, a []float32, lda int, b []float32, rowOffs []int32, c []float32, ldc int) {
	if tiles <= 0 {
		return
	}
	rows := len(rowOffs)
	_ = c[(m-1)*ldc+tiles*nv*vecW-1]
	if rows == 0 {
		for i := range m {
			clear(c[i*ldc : i*ldc+tiles*nv*vecW])
		}
		return
	}
	_ = a[(m-1)*lda+3*rows-1]
	if m == 1 && row3Pick[1] == row3Shift {
		if nv > row3SMaxNV { // tiles wider than the kernels, in parts
			for j := 0; j < tiles*nv; j += row3SMaxNV {
				w := min(row3SMaxNV, tiles*nv-j)
				row3SKerns[w](1, rows, unsafe.SliceData(a), lda, &b[j*vecW], unsafe.SliceData(rowOffs), &c[j*vecW], ldc)
			}
			return
		}
		row3SKerns[nv](tiles, rows, unsafe.SliceData(a), lda, unsafe.SliceData(b), unsafe.SliceData(rowOffs), unsafe.SliceData(c), ldc)
		return
	}
	row3Kerns[row3Pick[m]][m][nv](tiles, rows, unsafe.SliceData(a), lda, unsafe.SliceData(b), unsafe.SliceData(rowOffs), unsafe.SliceData(c), ldc)
}
