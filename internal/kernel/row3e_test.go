package kernel

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRow3Fused checks the fused-epilogue row3 kernels (row3FusedImpl),
// in every variant, against the unfused kernel of the same variant
// followed by epiFlatGo's masked bias and activation, bit for bit (the
// same sums and the same two operations), and row3EGo against a float64
// reference. Rows go to shuffled offsets of one buffer with gaps and
// guard bands; masks are random; with and without ReLU; with no kernel
// rows (a group reading no channel); in the plain and the residual form
// (qoffs, add: each vector's set lanes compressed to the unpadded rows).
func TestRow3Fused(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	t.Run("go", func(t *testing.T) {
		for m := 1; m <= row3MaxM; m++ {
			for _, rows := range []int{0, 1, 4} {
				for _, resid := range []bool{false, true} {
					row3FusedCase(t, r, row3EGo, m, 2, rows, 2, m%2 == 0, false, resid)
				}
			}
		}
	})
	if asmWanted && row3FusedImpl == nil {
		t.Fatal("AVX-512 CPU without the fused row3 kernels")
	}
	if row3FusedImpl == nil || cur.row3 == nil {
		t.Skip("no fused row3 kernels in this build")
	}
	tuneRow3()
	saved := row3Pick
	defer func() { row3Pick = saved }()
	for v := range row3Variants {
		for m := 1; m <= row3MaxM; m++ {
			if !row3VariantOK(v, m) {
				continue
			}
			row3Pick[m] = uint8(v)
			for nv := 1; nv <= row3MaxNV(m); nv++ {
				for _, rows := range []int{0, 1, 7} {
					for _, tiles := range []int{1, 3} {
						for _, relu := range []bool{false, true} {
							for _, resid := range []bool{false, true} {
								t.Run(fmt.Sprintf("v%d/%dx%d/rows=%d/tiles=%d/relu=%v/resid=%v", v, m, nv, rows, tiles, relu, resid), func(t *testing.T) {
									row3FusedCase(t, r, row3FusedImpl, m, nv, rows, tiles, relu, true, resid)
								})
							}
						}
					}
				}
			}
		}
	}
}

// row3FusedCase is one TestRow3Fused case of kernel f; exact: compare
// with cur.row3 and the epilogue bit for bit, else with a float64
// reference; resid: the residual form.
func row3FusedCase(t *testing.T, r *rand.Rand, f row3EKernel, m, nv, rows, tiles int, relu, exact, resid bool) {
	cols := tiles * nv * vecW
	lda := 3*rows + 5
	b := randSlice(r, 4096)
	a := randSlice(r, (m-1)*lda+3*rows+1)
	rowOffs := make([]int32, rows)
	for i := range rowOffs {
		rowOffs[i] = int32(r.IntN(4096 - cols - vecW))
	}
	bias := randSlice(r, m)
	masks := make([]uint16, tiles*nv)
	for i := range masks {
		masks[i] = uint16(r.Uint32())
	}
	masks[0] = 0xffff
	ro := newResidOut(r, m, masks, resid)
	lo := reluLo(relu)
	buf, got := guarded(r, m*ro.pitch)
	orig := slices.Clone(got)
	f(m, nv, tiles, a, lda, b, rowOffs, got, ro.coffs, bias, masks, lo, ro.add, ro.qoffs)
	checkGuard(t, "fused row3 output", buf)
	sums := make([]float32, m*cols)
	if exact {
		cur.row3(m, nv, tiles, a, lda, b, rowOffs, sums, cols)
	}
	for i := range m {
		for j := range cols {
			q, add, skip := ro.at(i, j, masks)
			if skip {
				continue
			}
			g := got[q]
			if masks[j/vecW]&(1<<(j%vecW)) == 0 {
				if math.Float32bits(g) != 0 {
					t.Fatalf("row %d column %d: masked lane %v, want 0", i, j, g)
				}
				continue
			}
			if exact {
				if w := epiLo(ro.sum(sums[i*cols+j]+bias[i], add), lo); math.Float32bits(g) != math.Float32bits(w) {
					t.Fatalf("row %d column %d: fused %v, unfused %v", i, j, g, w)
				}
				continue
			}
			s, abs := float64(bias[i])+float64(add), math.Abs(float64(bias[i]))+math.Abs(float64(add))
			for p, o := range rowOffs {
				for tp := range 3 {
					v := float64(a[i*lda+3*p+tp]) * float64(b[int(o)+tp+j])
					s, abs = s+v, abs+math.Abs(v)
				}
			}
			if relu {
				s = max(s, 0)
			}
			if math.Abs(float64(g)-s) > 1e-5*abs+1e-6 {
				t.Fatalf("row %d column %d: fused %v, want %v", i, j, g, s)
			}
		}
	}
	ro.checkGaps(t, got, orig)
}

// residOut is where a fused kernel case writes: m rows at shuffled
// offsets coffs of pitch floats, each width long and followed by a gap,
// and, in the residual form, qoffs and the add tensor.
type residOut struct {
	pitch, width int
	coffs        []int
	qoffs        []int32
	add          []float32
}

func newResidOut(r *rand.Rand, m int, masks []uint16, resid bool) residOut {
	ro := residOut{width: len(masks) * vecW}
	if resid {
		ro.qoffs = flatOffsets(masks)
		last := len(masks) - 1
		ro.width = int(ro.qoffs[last]) + bits.OnesCount16(masks[last])
	}
	ro.pitch = ro.width + 9
	if resid {
		ro.add = randSlice(r, m*ro.pitch)
	}
	ro.coffs = make([]int, m)
	for i, p := range r.Perm(m) {
		ro.coffs[i] = p * ro.pitch
	}
	return ro
}

// at returns where lane j of row i goes and the add there (0 in the
// plain form); skip: the residual form writes it nowhere.
func (ro *residOut) at(i, j int, masks []uint16) (q int, add float32, skip bool) {
	mk := masks[j/vecW]
	if ro.qoffs == nil {
		return ro.coffs[i] + j, 0, false
	}
	if mk&(1<<(j%vecW)) == 0 {
		return 0, 0, true
	}
	q = ro.coffs[i] + compressIndex(mk, ro.qoffs[j/vecW], j%vecW)
	return q, ro.add[q], false
}

// sum is v+add in the residual form, v in the plain one (where adding 0
// would turn -0 into 0).
func (ro *residOut) sum(v, add float32) float32 {
	if ro.qoffs == nil {
		return v
	}
	return v + add
}

// checkGaps fails unless the gaps after the rows are as in orig.
func (ro *residOut) checkGaps(t *testing.T, got, orig []float32) {
	t.Helper()
	for i := range ro.coffs {
		for q := i*ro.pitch + ro.width; q < (i+1)*ro.pitch; q++ {
			if math.Float32bits(got[q]) != math.Float32bits(orig[q]) {
				t.Fatalf("gap at %d written: %v", q, got[q])
			}
		}
	}
}

// TestMicroFused checks the fused-epilogue micro-kernels
// (microFusedImpl) against the same implementation's micro-kernel
// followed by the masked bias and activation, bit for bit, on every tile
// shape, with rows at shuffled offsets, random masks, with and without
// ReLU, with and without k steps.
func TestMicroFused(t *testing.T) {
	if asmWanted && microFusedImpl == nil {
		t.Fatal("AVX-512 CPU without the fused micro-kernels")
	}
	if microFusedImpl == nil || cur.row3 == nil {
		t.Skip("no fused micro-kernels in this build")
	}
	r := rand.New(rand.NewPCG(9, 9))
	type shape struct{ m, nv int }
	var shapes []shape
	for m := 1; m <= maxMR; m++ {
		for nv := 1; nv <= maxNV && m*nv <= maxAcc; nv++ {
			shapes = append(shapes, shape{m, nv})
		}
	}
	for m := 1; m <= planeMR; m++ {
		shapes = append(shapes, shape{m, planeNV})
	}
	shapes = append(shapes, shape{1, wideNV})
	for _, sh := range shapes {
		for _, k := range []int{0, 1, 7} {
			for _, relu := range []bool{false, true} {
				for _, resid := range []bool{false, true} {
					t.Run(fmt.Sprintf("%dx%d/k=%d/relu=%v/resid=%v", sh.m, sh.nv, k, relu, resid), func(t *testing.T) {
						microFusedCase(t, r, sh.m, sh.nv, k, relu, resid)
					})
				}
			}
		}
	}
}

// microFusedCase is one TestMicroFused case.
func microFusedCase(t *testing.T, r *rand.Rand, m, nv, k int, relu, resid bool) {
	cols := nv * vecW
	b := randSlice(r, 2048)
	lda := k + 3
	a := randSlice(r, m*lda+1)
	aoffs := make([]int32, m)
	for i := range aoffs {
		aoffs[i] = int32(i * lda)
	}
	boffs := make([]int32, k)
	for i := range boffs {
		boffs[i] = int32(r.IntN(2048 - cols))
	}
	bias := randSlice(r, m)
	masks := make([]uint16, nv)
	for i := range masks {
		masks[i] = uint16(r.Uint32())
	}
	ro := newResidOut(r, m, masks, resid)
	lo := reluLo(relu)
	buf, got := guarded(r, m*ro.pitch)
	orig := slices.Clone(got)
	microFusedImpl(m, nv, k, a, aoffs, b, boffs, got, ro.coffs, bias, masks, lo, ro.add, ro.qoffs)
	checkGuard(t, "fused micro output", buf)
	sums := make([]float32, m*cols)
	cur.kern(m, nv, k, a, aoffs, b, boffs, sums, cols, false)
	for i := range m {
		for j := range cols {
			q, add, skip := ro.at(i, j, masks)
			if skip {
				continue
			}
			want := float32(0)
			if masks[j/vecW]&(1<<(j%vecW)) != 0 {
				want = epiLo(ro.sum(sums[i*cols+j]+bias[i], add), lo)
			}
			if g := got[q]; math.Float32bits(g) != math.Float32bits(want) {
				t.Fatalf("row %d column %d: fused %v, want %v", i, j, g, want)
			}
		}
	}
	ro.checkGaps(t, got, orig)
}
