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
				b.Run(fmt.Sprintf("w=%d/nc=%d/m=%d", w, nc, m), func(b *testing.B) {
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
						flat8Impl(w, m, nc, wt, nc*9, choffs, x, c, coffs, bias, 0, nil)
					}
					b.ReportMetric(float64(2*9*m*nc*hw)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
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
			b.Run(fmt.Sprintf("w=%d/nc=%d/m=%d", w, nc, m), func(b *testing.B) {
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
					flat8Impl(w, m, nc, wt, nc*9, choffs, x, c, coffs, bias, 0, nil)
				}
				b.ReportMetric(float64(2*9*m*nc*hw)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
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
			flatOneBench(b, w, nc)
		}
	}
}

func flatOneBench(b *testing.B, w, nc int) {
	hw := w * w
	for _, k := range []struct {
		name string
		kern flatKernel
	}{{"block", flat8Impl}, {"one", flatOneImpl}} {
		b.Run(fmt.Sprintf("w=%d/nc=%d/%s", w, nc, k.name), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			x := randSlice(r, (nc+2)*hw)
			choffs := make([]int32, nc)
			for i := range choffs {
				choffs[i] = int32((i + 1) * hw)
			}
			wt, c, bias := randSlice(r, nc*9), make([]float32, hw), randSlice(r, 1)
			for b.Loop() {
				k.kern(w, 1, nc, wt, nc*9, choffs, x, c, []int{0}, bias, 0, nil)
			}
			b.ReportMetric(float64(2*9*nc*hw)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
