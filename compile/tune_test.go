package compile

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sgcnn/sgcnn/internal/kernel"
)

// TestMergeGroups checks that merging keeps a partition of the live
// filters, never raises the modelled cost, and merges singleton groups
// that read the same channels but one.
func TestMergeGroups(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for trial := range 20 {
		n, c := 4+r.IntN(60), 1+r.IntN(40)
		lc := &layerConv{p: kernel.Conv{N: n, C: c}, kk: 9, keep: make([][]bool, n)}
		for i := range n {
			lc.keep[i] = make([]bool, c)
			for j := range c {
				lc.keep[i][j] = r.IntN(3) == 0
			}
			lc.keep[i][r.IntN(c)] = true
		}
		if trial == 0 { // two filters one channel apart: merging pays
			c = 16
			lc = &layerConv{p: kernel.Conv{N: 2, C: c}, kk: 9, keep: [][]bool{make([]bool, c), make([]bool, c)}}
			for j := range 8 {
				lc.keep[0][j], lc.keep[1][j] = true, true
			}
			lc.keep[1][8] = true
		}
		patterns, _ := lc.patterns()
		measured := measuredCost(kernel.Conv{C: c, H: 8, W: 8, KH: 3, KW: 3, Stride: 1, Pad: 1})
		merged := mergeGroups(lc, patterns, []func(int, int) float64{groupCost, measured}[trial%2])
		var all, want []int
		for _, g := range merged {
			all = append(all, g...)
		}
		for _, g := range patterns {
			want = append(want, g...)
		}
		slices.Sort(all)
		slices.Sort(want)
		if !slices.Equal(all, want) {
			t.Fatalf("trial %d: merged filters %v, want %v", trial, all, want)
		}
		cost := func(sets [][]int) float64 {
			var s float64
			for _, f := range sets {
				s += groupCost(len(lc.channels(f))*lc.kk, len(f))
			}
			return s
		}
		if cm, cp := cost(merged), cost(patterns); cm > cp {
			t.Errorf("trial %d: merged cost %g > unmerged %g", trial, cm, cp)
		}
		if trial == 0 && len(merged) != 1 {
			t.Errorf("near-equal singletons not merged: %v", merged)
		}
	}
}

// TestMeasuredCost checks the measured group cost models (fp32 and int8)
// of a ResNet stage shape: positive, growing with the taps, a group of 8
// filters dearer than one of a single filter over the same taps (fp32: by
// more than twice, each filter's products are its own; int8: at all, its
// packing and interleaving are shared), and timed once per geometry.
func TestMeasuredCost(t *testing.T) {
	p := kernel.Conv{C: 32, H: 16, W: 16, N: 32, KH: 3, KW: 3, Stride: 1, Pad: 1}
	for _, int8 := range []bool{false, true} {
		cost := measuredCostOf(p, int8)
		for nf := 1; nf <= 2*costNF+3; nf++ {
			lo, hi := cost(9*4, nf), cost(9*16, nf)
			if lo <= 0 || hi < lo {
				t.Errorf("int8 %v, nf %d: cost %g at 36 taps, %g at 144", int8, nf, lo, hi)
			}
		}
		want := 2.0
		if int8 {
			want = 1
		}
		if c1, c8 := cost(9*16, 1), cost(9*16, 8); c8 <= want*c1 {
			t.Errorf("int8 %v: 8 filters cost %g ns, one %g: want more than %g times", int8, c8, c1, want)
		}
		q := p
		q.N = 5 // the filter count does not matter
		costMu.Lock()
		n := len(costCache)
		costMu.Unlock()
		measuredCostOf(q, int8)
		costMu.Lock()
		if len(costCache) != n {
			t.Errorf("int8 %v: a second geometry entry for the same shape: %d, want %d", int8, len(costCache), n)
		}
		costMu.Unlock()
	}
}
