package maskgroup

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// naive is the obviously correct partition: filter i joins the group of
// the lowest earlier live filter whose row keeps exactly the same inputs
// (nonzero entries), comparing rows entry by entry.
func naive(mask []float32, n, c int) (groups [][]int, dead []int) {
	kept := func(i, j int) bool { return mask[i*c+j] != 0 }
	same := func(a, b int) bool {
		for j := range c {
			if kept(a, j) != kept(b, j) {
				return false
			}
		}
		return true
	}
	of := make([]int, n) // group index, -1 for dead
	for i := range n {
		live := false
		for j := range c {
			live = live || kept(i, j)
		}
		if !live {
			dead = append(dead, i)
			of[i] = -1
			continue
		}
		of[i] = len(groups)
		for p := range i {
			if of[p] >= 0 && same(p, i) {
				of[i] = of[p]
				break
			}
		}
		if of[i] == len(groups) {
			groups = append(groups, nil)
		}
		groups[of[i]] = append(groups[of[i]], i)
	}
	return groups, dead
}

// TestOfHandWorked is a 5 x 3 mask worked by hand: rows 0 and 3 keep
// inputs {0, 2}, rows 1 and 4 keep {1} (row 4 as 0.5 and -2: any nonzero
// is kept, and -0 is not), row 2 keeps nothing.
func TestOfHandWorked(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	mask := []float32{
		1, 0, 1,
		0, 1, 0,
		0, negZero, 0,
		1, 0, 1,
		negZero, -2, 0,
	}
	groups, dead := Of(mask, 5, 3)
	if want := [][]int{{0, 3}, {1, 4}}; !equal(groups, want) {
		t.Errorf("groups %v, want %v", groups, want)
	}
	if !slices.Equal(dead, []int{2}) {
		t.Errorf("dead %v, want [2]", dead)
	}
}

// TestOfAgainstNaive compares Of with the naive partition on random masks
// with few distinct rows (so groups have several members), for channel
// counts around the byte edges of Of's bit keys.
func TestOfAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []int{1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 130} {
		for _, n := range []int{0, 1, 5, 64} {
			for _, patterns := range []int{1, 3, 12} {
				rows := make([][]float32, patterns)
				for p := range rows {
					rows[p] = make([]float32, c)
					keep := r.Float64() // some patterns are dead or nearly full
					for j := range c {
						if r.Float64() < keep {
							rows[p][j] = r.Float32() + 0.25
						}
					}
				}
				mask := make([]float32, 0, n*c)
				for range n {
					mask = append(mask, rows[r.IntN(patterns)]...)
				}
				name := fmt.Sprintf("n%d_c%d_p%d", n, c, patterns)
				groups, dead := Of(mask, n, c)
				wg, wd := naive(mask, n, c)
				if !equal(groups, wg) || !slices.Equal(dead, wd) {
					t.Errorf("%s: Of = %v, dead %v; naive %v, dead %v", name, groups, dead, wg, wd)
				}
			}
		}
	}
}

// TestOfNil checks that a nil mask is one group of every filter.
func TestOfNil(t *testing.T) {
	if g, d := Of(nil, 4, 3); !equal(g, [][]int{{0, 1, 2, 3}}) || d != nil {
		t.Errorf("Of(nil, 4, 3) = %v, %v; want [[0 1 2 3]], nil", g, d)
	}
	if g, d := Of(nil, 0, 3); g != nil || d != nil {
		t.Errorf("Of(nil, 0, 3) = %v, %v; want nil, nil", g, d)
	}
}

// TestOfEdges checks the edge cases by their contract: every connection
// pruned (no groups, every filter dead), none pruned (an all-ones mask is
// one group, as nil is), and a single filter, live or dead.
func TestOfEdges(t *testing.T) {
	const n, c = 6, 5
	zeros, ones := make([]float32, n*c), make([]float32, n*c)
	for i := range ones {
		ones[i] = 1
	}
	if g, d := Of(zeros, n, c); g != nil || !slices.Equal(d, []int{0, 1, 2, 3, 4, 5}) {
		t.Errorf("all pruned: groups %v, dead %v; want none and every filter", g, d)
	}
	if g, d := Of(ones, n, c); !equal(g, [][]int{{0, 1, 2, 3, 4, 5}}) || d != nil {
		t.Errorf("none pruned: groups %v, dead %v; want one group of every filter", g, d)
	}
	if g, d := Of([]float32{0, 3, 0}, 1, 3); !equal(g, [][]int{{0}}) || d != nil {
		t.Errorf("one live filter: groups %v, dead %v", g, d)
	}
	if g, d := Of([]float32{0, 0, 0}, 1, 3); g != nil || !slices.Equal(d, []int{0}) {
		t.Errorf("one dead filter: groups %v, dead %v", g, d)
	}
	// One input channel: at most one live pattern.
	if g, d := Of([]float32{1, 0, 2, 0}, 4, 1); !equal(g, [][]int{{0, 2}}) || !slices.Equal(d, []int{1, 3}) {
		t.Errorf("one channel: groups %v, dead %v", g, d)
	}
}

// TestOfPanics checks the programmer errors: sizes that do not match.
func TestOfPanics(t *testing.T) {
	for _, c := range []struct {
		mask []float32
		n, c int
	}{
		{make([]float32, 6), 2, 4},
		{make([]float32, 6), -1, 3},
		{make([]float32, 0), 0, 0},
		{nil, 2, 0},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Of(len %d, n=%d, c=%d) did not panic", len(c.mask), c.n, c.c)
				}
			}()
			Of(c.mask, c.n, c.c)
		}()
	}
}

func equal(a, b [][]int) bool {
	return slices.EqualFunc(a, b, func(x, y []int) bool { return slices.Equal(x, y) })
}
