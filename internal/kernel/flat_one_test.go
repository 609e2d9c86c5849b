package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// fmaOne is flatOneGo with each tap's multiply-add fused, as the kernels
// make it, summing a channel's taps in order: the bits the kernels of
// that order must give.
func fmaOne(order *[9]int, w, nc int, wt []float32, choffs []int32, x []float32, bias float32, lo float32, add []float32) []float32 {
	hw := w * w
	s := make([]float32, hw)
	for ci, o := range choffs[:nc] {
		pl := x[o : int(o)+hw]
		for _, t := range order {
			dy, dx := t/3-1, t%3-1
			wv := float64(wt[ci*9+t])
			for y := max(0, -dy); y < min(w, w-dy); y++ {
				for xx := max(0, -dx); xx < min(w, w-dx); xx++ {
					q := y*w + xx
					s[q] = float32(math.FMA(wv, float64(pl[(y+dy)*w+xx+dx]), float64(s[q])))
				}
			}
		}
	}
	for q := range s {
		v := s[q] + bias
		if add != nil {
			v += add[q]
		}
		s[q] = epiLo(v, lo)
	}
	return s
}

// TestFlatOneBits checks that flatOneImpl sums the taps in
// flatOneTapOrder (its bits are those of fmaOne in that order, which
// differ from flatTapOrder's) on 16x16 and 32x32 planes, with and
// without add and ReLU, and that flat plans run it for groups of one
// filter on those planes only.
func TestFlatOneBits(t *testing.T) {
	if flatOneImpl == nil {
		t.Skip("no flatOne kernels in this build")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, w := range []int{16, 32} {
		flatOneBitsCase(t, r, w)
	}
	groups := newFlat8([]Group{
		{Filters: []int{0}, Channels: []int{0, 1}, Weights: make([]float32, 18)},
		{Filters: []int{1, 2}, Channels: []int{0}, Weights: make([]float32, 18)},
	}, 1024, 2)
	if !groups[0].one || groups[1].one {
		t.Errorf("newFlat8 marked groups one = %v, %v; want true, false", groups[0].one, groups[1].one)
	}
	if g := newFlat8([]Group{{Filters: []int{0}, Channels: []int{0}, Weights: make([]float32, 9)}}, 64, 0); g[0].one {
		t.Error("a group of one filter on 8x8 planes marked one")
	}
}

func flatOneBitsCase(t *testing.T, r *rand.Rand, w int) {
	hw := w * w
	for _, nc := range []int{1, 2, 5, 17} {
		for variant := range 4 {
			x := randSlice(r, nc*hw)
			choffs := r.Perm(nc)
			co := make([]int32, nc)
			for i, c := range choffs {
				co[i] = int32(c * hw)
			}
			wt, bias := randSlice(r, nc*9), randSlice(r, 1)
			var add []float32
			if variant&1 == 1 {
				add = randSlice(r, hw)
			}
			lo := reluLo(variant&2 == 2)
			got := make([]float32, hw)
			flatOneImpl(w, 1, nc, wt, nc*9, co, x, got, []int{0}, bias, lo, add)
			want := fmaOne(&flatOneTapOrder, w, nc, wt, co, x, bias[0], lo, add)
			for q := range hw {
				if got[q] != want[q] {
					t.Fatalf("w=%d nc=%d variant %d: output %d = %v, want %v", w, nc, variant, q, got[q], want[q])
				}
			}
			if nc >= 5 && variant == 0 {
				other := fmaOne(&flatTapOrder, w, nc, wt, co, x, bias[0], lo, add)
				diff := 0
				for q := range hw {
					if other[q] != want[q] {
						diff++
					}
				}
				if diff == 0 {
					t.Errorf("w=%d nc=%d: the two tap orders gave the same bits: the check above shows nothing", w, nc)
				}
			}
		}
	}
}
