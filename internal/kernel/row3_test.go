package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestRow3 checks impl.row3 against a float64 reference and, for the tile
// widths the micro-kernel has (1-4 and wideNV vectors), against the same
// implementation's micro-kernel on the expanded tap table: the same sums
// in the same order, so bit-identical outputs. Offsets of every alignment,
// guard bands around the output.
func TestRow3(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		if asmWanted && cur.name != "go" && cur.row3 == nil {
			t.Fatal("the assembly implementation has no row3 kernel")
		}
		if cur.row3 == nil {
			t.Skip("no row3 kernel in this implementation: the micro-kernel serves")
		}
		r := rand.New(rand.NewPCG(3, 3))
		for m := 1; m <= row3MaxM; m++ {
			for nv := 1; nv <= row3MaxNV(m); nv++ {
				for _, rows := range []int{1, 2, 7, 15} {
					t.Run(fmt.Sprintf("%dx%d/rows=%d", m, nv, rows), func(t *testing.T) { row3Case(t, r, m, nv, rows) })
				}
			}
		}
	})
}

// row3Case is one TestRow3 case: an m x 16*nv tile of rows kernel rows,
// weights at a row pitch of lda, output rows at a pitch of ldc.
func row3Case(t *testing.T, r *rand.Rand, m, nv, rows int) {
	lda, ldc := 3*rows+5, nv*vecW+7
	b := randSlice(r, 4096)
	a := randSlice(r, (m-1)*lda+3*rows)
	rowOffs := make([]int32, rows)
	offs := make([]int32, 3*rows)
	for i := range rowOffs {
		rowOffs[i] = int32(r.IntN(4096 - 16*(nv+1)))
		for tp := range 3 {
			offs[3*i+tp] = rowOffs[i] + int32(tp)
		}
	}
	n := (m-1)*ldc + nv*vecW
	buf, got := guarded(r, n)
	want := make([]float32, n)
	cur.row3(m, nv, a, lda, b, rowOffs, got, ldc)
	checkGuard(t, "row3 output", buf)
	for i := range m {
		for j := range nv * vecW {
			var s, abs float64
			for p, o := range offs {
				v := float64(a[i*lda+p]) * float64(b[int(o)+j])
				s, abs = s+v, abs+math.Abs(v)
			}
			if g := got[i*ldc+j]; math.Abs(float64(g)-s) > 1e-5*abs+1e-6 {
				t.Fatalf("row %d column %d: row3 %v, want %v", i, j, g, s)
			}
		}
	}
	if nv > maxNV && (m > 1 || nv != wideNV) {
		return // no micro-kernel of this width
	}
	aoffs := make([]int32, m)
	for i := range aoffs {
		aoffs[i] = int32(i * lda)
	}
	cur.kern(m, nv, 3*rows, a, aoffs, b, offs, want, ldc, false)
	for i := range m {
		for j := range nv * vecW {
			if g, w := got[i*ldc+j], want[i*ldc+j]; math.Float32bits(g) != math.Float32bits(w) {
				t.Fatalf("row %d column %d: row3 %v, micro-kernel %v", i, j, g, w)
			}
		}
	}
}
