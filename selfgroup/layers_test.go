package selfgroup

import (
	"math"
	"math/rand/v2"
)

// convLike returns n*c*kk weights with the structure of an initialised conv
// layer: Gaussian, with lognormal per-filter and per-channel scales so that
// importance vectors differ in more than noise.
func convLike(n, c, kk int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 11))
	fs := lognormal(r, n, 0.4)
	cs := lognormal(r, c, 0.4)
	w := make([]float32, n*c*kk)
	std := math.Sqrt(2 / float64(c*kk))
	for i := range n {
		for j := range c {
			for t := range kk {
				w[(i*c+j)*kk+t] = float32(std * fs[i] * cs[j] * r.NormFloat64())
			}
		}
	}
	return w
}

// pretrainedLike imitates a trained layer: heavy-tailed (Laplace) weights,
// filter families that read similar channels (what self-grouping finds),
// a few collapsed filters with near-zero weights and some weak input
// channels.
func pretrainedLike(n, c, kk int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 12))
	families := 8
	pref := make([]float64, families*c) // channel preference of each family
	for i := range pref {
		pref[i] = math.Exp(1.0 * r.NormFloat64())
	}
	cs := lognormal(r, c, 0.6)
	for j := range c {
		if r.Float64() < 0.1 {
			cs[j] *= 0.05 // weak input channel
		}
	}
	w := make([]float32, n*c*kk)
	for i := range n {
		f := r.IntN(families)
		scale := math.Exp(0.3 * r.NormFloat64())
		if r.Float64() < 0.05 {
			scale = 1e-3 // collapsed filter
		}
		for j := range c {
			s := 0.05 * scale * cs[j] * pref[f*c+j]
			for t := range kk {
				lap := r.ExpFloat64()
				if r.IntN(2) == 0 {
					lap = -lap
				}
				w[(i*c+j)*kk+t] = float32(s * lap)
			}
		}
	}
	return w
}

func lognormal(r *rand.Rand, n int, sigma float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = math.Exp(sigma * r.NormFloat64())
	}
	return x
}
