package kmeans

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSqDistMatchesRef(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// Lengths around the 4-wide unrolled block, with a guard band after c.
	for _, n := range []int{0, 1, 3, 4, 5, 7, 8, 9, 63, 64, 65, 2048} {
		x := make([]float32, n)
		c := make([]float32, n+3)
		for i := range x {
			x[i] = float32(r.NormFloat64())
			c[i] = float32(r.NormFloat64())
		}
		c[n], c[n+1], c[n+2] = 1e30, 1e30, 1e30
		got := float64(sqDist(x, c[:n]))
		want := sqDistRef(x, c)
		if math.Abs(got-want) > 1e-5*(1+want) {
			t.Errorf("n=%d: sqDist=%g, ref=%g", n, got, want)
		}
	}
}

func BenchmarkSqDist(b *testing.B) {
	x := make([]float32, 2048)
	c := make([]float32, 2048)
	for i := range x {
		x[i] = float32(i)
		c[i] = float32(2048 - i)
	}
	b.SetBytes(2048 * 4)
	var s float32
	for b.Loop() {
		s += sqDist(x, c)
	}
	_ = s
}

func BenchmarkSqDistRef(b *testing.B) {
	x := make([]float32, 2048)
	c := make([]float32, 2048)
	b.SetBytes(2048 * 4)
	var s float64
	for b.Loop() {
		s += sqDistRef(x, c)
	}
	_ = s
}
