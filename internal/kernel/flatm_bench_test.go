package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkFlatM times the flat kernels by block size m and plane width
// on nc channels (a group's share of a pruned conv), reporting GFLOP/s.
func BenchmarkFlatM(b *testing.B) {
	if flat8Impl == nil {
		b.Skip("no flat8 kernels in this build")
	}
	for _, w := range flatWidths {
		for _, nc := range []int{5, 10} {
			for m := 1; m <= flat8MaxM; m++ {
				b.Run(fmt.Sprintf("w=%d/nc=%d/m=%d", w, nc, m), func(b *testing.B) { benchFlat(b, flat8Impl, w, nc, m) })
			}
		}
	}
}

// BenchmarkFlatBlocks times the flat kernels by plane width and block
// size m on the channels of a ResNet stage (flatTuneShape), as
// tuneFlatBlocks does, reporting GFLOP/s: the rates flatBlockSizes
// splits a group's filters by.
func BenchmarkFlatBlocks(b *testing.B) {
	if flat8Impl == nil {
		b.Skip("no flat8 kernels in this build")
	}
	for wi, w := range flatWidths {
		nc := flatTuneShape(wi).C
		for m := 1; m <= flat8MaxM; m++ {
			b.Run(fmt.Sprintf("w=%d/nc=%d/m=%d", w, nc, m), func(b *testing.B) { benchFlat(b, flat8Impl, w, nc, m) })
		}
	}
}

// BenchmarkFlatOne times a group of one filter on 16x16 and 32x32 planes
// and nc channels with the kernels of blocks of one filter (flat8Impl) and with
// flatOneImpl, reporting GFLOP/s.
func BenchmarkFlatOne(b *testing.B) {
	if flatOneImpl == nil {
		b.Skip("no flatOne kernels in this build")
	}
	for _, w := range []int{16, 32} {
		for _, nc := range []int{5, 10} {
			b.Run(fmt.Sprintf("w=%d/nc=%d/block", w, nc), func(b *testing.B) { benchFlat(b, flat8Impl, w, nc, 1) })
			b.Run(fmt.Sprintf("w=%d/nc=%d/one", w, nc), func(b *testing.B) { benchFlat(b, flatOneImpl, w, nc, 1) })
		}
	}
}

// benchFlat times kern on m filters and nc channels of w x w planes,
// reporting GFLOP/s.
func benchFlat(b *testing.B, kern flatKernel, w, nc, m int) {
	r := rand.New(rand.NewPCG(1, 2))
	hw := w * w
	x := randSlice(r, (nc+2)*hw)
	choffs := make([]int32, nc)
	for i := range choffs {
		choffs[i] = int32((i + 1) * hw)
	}
	wt := randSlice(r, m*nc*9)
	c := make([]float32, m*hw)
	coffs := make([]int, m)
	for i := range coffs {
		coffs[i] = i * hw
	}
	bias := randSlice(r, m)
	b.ResetTimer()
	for range b.N {
		kern(w, m, nc, wt, nc*9, choffs, x, c, coffs, bias, 0, nil)
	}
	b.ReportMetric(float64(2*9*m*nc*hw)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
