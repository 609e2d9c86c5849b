package selfgroup

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Expected values follow numpy.percentile's linear method by hand: sort,
// x = p/100*(n-1), i = floor(x), g = x-i, a[i] + (a[i+1]-a[i])*g.
func TestPercentileNumpyCases(t *testing.T) {
	for _, tc := range []struct {
		vals []float64
		p    float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, 40, 2.2},                    // x=1.2: 2 + 1*0.2
		{[]float64{1, 2, 3, 4}, 50, 2.5},                    // x=1.5: the median
		{[]float64{3, 1, 2}, 0, 1},                          // minimum
		{[]float64{3, 1, 2}, 100, 3},                        // maximum
		{[]float64{10, 7, 4, 3, 2, 1}, 25, 2.25},            // x=1.25 in 1,2,3,4,7,10
		{[]float64{15, 20, 35, 40, 50}, 40, 29},             // x=1.6: 35 - 15*0.4 (g >= 0.5 form)
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9.1}, // x=8.1
		{[]float64{5}, 37, 5},                               // one value
		{[]float64{0.1, 0.2, 0.3}, 33.3, 0.1666},            // x=0.666: 0.2 - 0.1*0.334
		{[]float64{0, 0, 0, 1, 1, 2}, 70, 1},                // x=3.5 between two ones
		{[]float64{2.5, -1, 7, 7, 7, 3}, 60, 7},             // ties at the top
	} {
		if got := Percentile(tc.vals, tc.p); got != tc.want {
			t.Errorf("Percentile(%v, %g) = %v, want %v", tc.vals, tc.p, got, tc.want)
		}
		f32 := make([]float32, len(tc.vals))
		for i, v := range tc.vals {
			f32[i] = float32(v)
		}
		want32 := percentileSorted(f32, tc.p)
		if got := Percentile(f32, tc.p); got != want32 {
			t.Errorf("float32 Percentile(%v, %g) = %v, want %v", f32, tc.p, got, want32)
		}
	}
}

// percentileSorted is the obviously correct version: sort a copy.
func percentileSorted[T float32 | float64](vals []T, p float64) float64 {
	a := make([]float64, len(vals))
	for i, v := range vals {
		a[i] = float64(v)
	}
	slices.Sort(a)
	x := p / 100 * float64(len(a)-1)
	i := int(math.Floor(x))
	g := x - float64(i)
	j := min(i+1, len(a)-1)
	d := a[j] - a[i]
	if g >= 0.5 {
		return a[j] - d*(1-g)
	}
	return a[i] + d*g
}

func TestPercentileMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 300 {
		n := 1 + r.IntN(2000)
		vals := make([]float32, n)
		distinct := 1 + r.IntN(50) // many ties, like a pruned layer's zeros
		for i := range vals {
			if trial%2 == 0 {
				vals[i] = float32(r.IntN(distinct))
			} else {
				vals[i] = float32(r.NormFloat64())
			}
		}
		orig := slices.Clone(vals)
		p := 100 * r.Float64()
		if trial%10 == 0 {
			p = float64(10 * r.IntN(11))
		}
		if got, want := Percentile(vals, p), percentileSorted(vals, p); got != want {
			t.Fatalf("trial %d n=%d p=%g: %v, sort gives %v", trial, n, p, got, want)
		}
		if !slices.Equal(vals, orig) {
			t.Fatal("Percentile modified its input")
		}
	}
}

func TestPercentileNaNAndPanics(t *testing.T) {
	if v := Percentile([]float64{1, math.NaN(), 2}, 50); !math.IsNaN(v) {
		t.Errorf("NaN input gave %v", v)
	}
	for _, f := range []func(){
		func() { Percentile([]float64{}, 50) },
		func() { Percentile([]float64{1}, -1) },
		func() { Percentile([]float64{1}, 100.5) },
		func() { Percentile([]float64{1}, math.NaN()) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}

func TestSelectKthSorted(t *testing.T) {
	// Already sorted, reversed and constant inputs: the pivot choices that
	// hurt naive quickselect.
	n := 5000
	for name, gen := range map[string]func(i int) float64{
		"asc":   func(i int) float64 { return float64(i) },
		"desc":  func(i int) float64 { return float64(n - i) },
		"const": func(int) float64 { return 1 },
		"organ": func(i int) float64 { return float64(min(i, n-i)) },
	} {
		for _, k := range []int{0, 1, n / 3, n / 2, n - 2, n - 1} {
			a := make([]float64, n)
			for i := range a {
				a[i] = gen(i)
			}
			want := slices.Clone(a)
			slices.Sort(want)
			selectKth(a, k)
			if a[k] != want[k] {
				t.Errorf("%s k=%d: %v want %v", name, k, a[k], want[k])
			}
		}
	}
}
