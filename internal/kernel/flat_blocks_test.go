package kernel

import (
	"slices"
	"testing"
	"time"
)

// TestFlatSplit checks the block sizes flatSplit picks: the even split
// without measurements, and with them the sizes of least modelled time,
// which cover the group exactly, largest first.
func TestFlatSplit(t *testing.T) {
	even := map[int][]int{1: {1}, 6: {6}, 7: {4, 3}, 16: {6, 5, 5}, 13: {5, 4, 4}}
	for nf, want := range even {
		if got := flatSplit(nf, 8, nil); !slices.Equal(got, want) {
			t.Errorf("flatSplit(%d, nil) = %v, want %v", nf, got, want)
		}
	}
	// costs returns call times: a fixed cost per call plus m*perFilter[m]
	// per channel.
	costs := func(fixed int, perFilter ...int) *flatBlockCost {
		var c flatBlockCost
		for k, nc := range flatCostNC {
			for m := 1; m <= flat8MaxM; m++ {
				c[k][m] = time.Duration(fixed + nc*m*perFilter[m-1])
			}
		}
		return &c
	}
	reuse := costs(0, 14, 12, 11, 10, 11, 10) // blocks of 4 and 6 cheapest per filter
	for _, c := range []struct {
		t      *flatBlockCost
		nf, nc int
		want   []int
	}{
		{reuse, 16, 16, []int{6, 6, 4}}, // ties broken towards larger blocks
		{reuse, 5, 16, []int{4, 1}},
		{costs(0, 14, 12, 11, 10, 11, 11), 16, 16, []int{4, 4, 4, 4}},
		{reuse, 1, 16, []int{1}},
		{costs(0, 10, 10, 10, 10, 10, 10), 3, 8, []int{3}},
		{costs(0, 10, 20, 20, 20, 20, 20), 3, 8, []int{1, 1, 1}},
		// A large fixed cost per call (few channels): fewest calls.
		{costs(1000, 14, 12, 11, 10, 11, 10), 5, 4, []int{5}},
	} {
		got := flatSplit(c.nf, c.nc, c.t)
		if !slices.Equal(got, c.want) {
			t.Errorf("flatSplit(%d, %d, %v) = %v, want %v", c.nf, c.nc, c.t, got, c.want)
		}
	}
	for nf := 1; nf <= 40; nf++ {
		for _, nc := range []int{1, 5, 40} {
			got := flatSplit(nf, nc, reuse)
			sum := 0
			for _, m := range got {
				sum += m
				if m < 1 || m > flat8MaxM {
					t.Fatalf("flatSplit(%d) = %v: a block outside 1..%d", nf, got, flat8MaxM)
				}
			}
			if sum != nf || !slices.IsSortedFunc(got, func(a, b int) int { return b - a }) {
				t.Fatalf("flatSplit(%d) = %v: want blocks summing to %d, largest first", nf, got, nf)
			}
		}
	}
}
