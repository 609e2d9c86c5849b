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
		merged := mergeGroups(lc, patterns, []func(int, int) float64{groupCost, groupCostFit}[trial%2])
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
