package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestRow3 checks impl.row3, in every variant (row3tune.go), against a
// float64 reference and, for the variants that sum in the micro-kernel's
// order and the tile widths the micro-kernel has (1-4 and wideNV
// vectors), against the same implementation's micro-kernel on the
// expanded tap table: the same sums in the same order, so bit-identical
// outputs. Offsets of every alignment, guard bands around the output.
func TestRow3(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		if asmWanted && cur.name != "go" && cur.row3 == nil {
			t.Fatal("the assembly implementation has no row3 kernel")
		}
		if cur.row3 == nil {
			t.Skip("no row3 kernel in this implementation: the micro-kernel serves")
		}
		tuneRow3()
		saved := row3Pick
		defer func() { row3Pick = saved }()
		r := rand.New(rand.NewPCG(3, 3))
		for v := range row3Variants {
			for m := 1; m <= row3MaxM; m++ {
				if !row3VariantOK(v, m) {
					continue
				}
				row3Pick[m] = uint8(v)
				for nv := 1; nv <= row3MaxNV(m); nv++ {
					for _, rows := range []int{1, 2, 7, 15} {
						for _, tiles := range []int{1, 3} {
							t.Run(fmt.Sprintf("v%d/%dx%d/rows=%d/tiles=%d", v, m, nv, rows, tiles), func(t *testing.T) { row3Case(t, r, m, nv, rows, tiles) })
						}
					}
				}
			}
		}
	})
}

// TestTuning checks that the measurement picks, for every tile height,
// the variant it timed fastest, and reports it.
func TestTuning(t *testing.T) {
	s := Tuning()
	if !asmWanted {
		if s != "" {
			t.Errorf("Tuning() = %q without assembly kernels, want empty", s)
		}
		return
	}
	if !strings.Contains(s, "1 filter(s)") || !strings.Contains(s, "3 filter(s)") {
		t.Errorf("Tuning() = %q, want every tile height", s)
	}
	for m := 1; m <= row3MaxM; m++ {
		for v := range row3Variants {
			if !row3VariantOK(v, m) {
				continue
			}
			if row3Times[m][v] <= 0 {
				t.Fatalf("m %d variant %d: time %v", m, v, row3Times[m][v])
			}
			if row3Times[m][v] < row3Times[m][row3Pick[m]] {
				t.Errorf("m %d: picked variant %d (%v), but %d took %v", m, row3Pick[m], row3Times[m][row3Pick[m]], v, row3Times[m][v])
			}
		}
	}
}

// row3Case is one TestRow3 case: tiles m x 16*nv tiles of rows kernel
// rows, weights at a row pitch of lda, output rows at a pitch of ldc.
func row3Case(t *testing.T, r *rand.Rand, m, nv, rows, tiles int) {
	cols := tiles * nv * vecW
	lda, ldc := 3*rows+5, cols+7
	b := randSlice(r, 4096)
	a := randSlice(r, (m-1)*lda+3*rows)
	rowOffs := make([]int32, rows)
	offs := make([]int32, 3*rows)
	for i := range rowOffs {
		rowOffs[i] = int32(r.IntN(4096 - cols - vecW))
		for tp := range 3 {
			offs[3*i+tp] = rowOffs[i] + int32(tp)
		}
	}
	n := (m-1)*ldc + cols
	buf, got := guarded(r, n)
	want := make([]float32, n)
	cur.row3(m, nv, tiles, a, lda, b, rowOffs, got, ldc)
	checkGuard(t, "row3 output", buf)
	for i := range m {
		for j := range cols {
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
	if row3Pick[m] == row3Shift {
		return // sums in another order: equal to the reference within rounding only
	}
	aoffs := make([]int32, m)
	for i := range aoffs {
		aoffs[i] = int32(i * lda)
	}
	for tile := range tiles {
		j0 := tile * nv * vecW
		cur.kern(m, nv, 3*rows, a, aoffs, b[j0:], offs, want[j0:], ldc, false)
	}
	for i := range m {
		for j := range cols {
			if g, w := got[i*ldc+j], want[i*ldc+j]; math.Float32bits(g) != math.Float32bits(w) {
				t.Fatalf("row %d column %d: row3 %v, micro-kernel %v", i, j, g, w)
			}
		}
	}
}
