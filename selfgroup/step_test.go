package selfgroup

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/internal/maskgroup"
)

// cumulative prunes w at rates 10, 20, ..., 90, carrying the mask over, and
// calls check after every step with the previous mask.
func cumulative(t *testing.T, w []float32, n, c, kk int, opt Options, check func(p float64, old []float32, res Result)) {
	t.Helper()
	rates, err := Rates(10, 90)
	if err != nil {
		t.Fatal(err)
	}
	var mask []float32
	for _, p := range rates {
		res, err := Step(w, n, c, kk, mask, p, nil, opt)
		if err != nil {
			t.Fatal(err)
		}
		check(p, mask, res)
		mask = res.NewMask
	}
}

func TestPrunedFractionTracksRate(t *testing.T) {
	for _, tc := range []struct {
		name      string
		w         []float32
		n, c, kk  int
		rule      KeepRule
		tolerance float64
	}{
		{"conv 64x64x3x3", convLike(64, 64, 9, 1), 64, 64, 9, FirstMember, 0.01},
		{"pretrained-like 64x64x3x3", pretrainedLike(64, 64, 9, 2), 64, 64, 9, FirstMember, 0.01},
		{"pretrained-like 128x64x1x1", pretrainedLike(128, 64, 1, 3), 128, 64, 1, FirstMember, 0.01},
		{"conv own-mask", convLike(64, 64, 9, 4), 64, 64, 9, OwnMask, 0.01},
		{"FC 500x800 own-mask", convLike(500, 800, 1, 5), 500, 800, 1, OwnMask, 0.01},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cumulative(t, tc.w, tc.n, tc.c, tc.kk, Options{Rule: tc.rule, Seed: 7}, func(p float64, old []float32, res Result) {
				if d := math.Abs(res.Pruned - p/100); d > tc.tolerance {
					t.Errorf("rate %g%%: pruned fraction %.4f", p, res.Pruned)
				}
				if got := zeroFraction(res.NewMask); got != res.Pruned {
					t.Errorf("rate %g%%: Pruned %v but mask has %v zeros", p, res.Pruned, got)
				}
			})
		})
	}
}

func zeroFraction(m []float32) float64 {
	z := 0
	for _, v := range m {
		if v == 0 {
			z++
		}
	}
	return float64(z) / float64(len(m))
}

func TestMasksNeverRegain(t *testing.T) {
	n, c, kk := 48, 40, 9
	w := pretrainedLike(n, c, kk, 9)
	for _, rule := range []KeepRule{FirstMember, OwnMask} {
		cumulative(t, w, n, c, kk, Options{Rule: rule, Seed: 3}, func(p float64, old []float32, res Result) {
			for ij, v := range res.NewMask {
				if v != 0 && v != 1 {
					t.Fatalf("%v rate %g: mask value %v", rule, p, v)
				}
				if old != nil && old[ij] == 0 && v != 0 {
					t.Fatalf("%v rate %g: connection %d regained", rule, p, ij)
				}
			}
		})
	}
}

func TestFirstStepHasAtMostGPatterns(t *testing.T) {
	for _, g := range []int{1, 4, 16} {
		n, c := 96, 64
		res, err := Step(convLike(n, c, 9, 1), n, c, 9, nil, 50, nil, Options{Groups: g, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if got := Patterns(res.NewMask, n, c); got > g {
			t.Errorf("g=%d: %d patterns after one step from dense", g, got)
		}
		// Every group's members share one row (FirstMember from dense).
		groups, _ := maskgroup.Of(res.NewMask, n, c)
		for _, members := range groups {
			for _, i := range members[1:] {
				if res.Labels[i] != res.Labels[members[0]] {
					t.Errorf("g=%d: filters %d and %d share a pattern but not a group", g, members[0], i)
				}
			}
		}
	}
}

func TestGroupsClampedToN(t *testing.T) {
	n, c := 5, 32
	res, err := Step(convLike(n, c, 9, 2), n, c, 9, nil, 30, nil, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Groups != 5 || len(res.Centroids) != 5*c {
		t.Fatalf("Groups=%d, %d centroid values; want 5 and %d", res.Groups, len(res.Centroids), 5*c)
	}
	// Five filters in five groups: every centroid is its filter's
	// importance vector.
	imp := Importance(convLike(n, c, 9, 2), n, c, 9, nil)
	for i, k := range res.Labels {
		if !slices.Equal(res.Centroids[k*c:(k+1)*c], imp[i*c:(i+1)*c]) {
			t.Fatalf("filter %d: centroid is not its importance vector", i)
		}
	}
}

func TestStepDeterministic(t *testing.T) {
	n, c, kk := 64, 64, 9
	w := convLike(n, c, kk, 8)
	a, _ := Step(w, n, c, kk, nil, 40, nil, Options{Seed: 5})
	b, _ := Step(w, n, c, kk, nil, 40, nil, Options{Seed: 5})
	if !slices.Equal(a.NewMask, b.NewMask) || !slices.Equal(a.Labels, b.Labels) || a.Threshold != b.Threshold {
		t.Fatal("same seed, different result")
	}
	differ := false
	for s := uint64(6); s < 16 && !differ; s++ {
		o, _ := Step(w, n, c, kk, nil, 40, nil, Options{Seed: s, Restarts: 1})
		differ = !slices.Equal(a.Labels, o.Labels)
	}
	if !differ {
		t.Error("ten other seeds all gave the same grouping")
	}
}

func TestStepThresholdDefinition(t *testing.T) {
	// Recompute tau and the masks from Result by the METHOD.md formulas.
	n, c, kk := 40, 24, 9
	w := pretrainedLike(n, c, kk, 4)
	res1, _ := Step(w, n, c, kk, nil, 30, nil, Options{Seed: 2})
	for _, rule := range []KeepRule{FirstMember, OwnMask} {
		res, err := Step(w, n, c, kk, res1.NewMask, 60, nil, Options{Seed: 2, Rule: rule})
		if err != nil {
			t.Fatal(err)
		}
		m := res1.NewMask
		v := make([]float64, n*c)
		for i, k := range res.Labels {
			for j := range c {
				v[i*c+j] = float64(res.Centroids[k*c+j] * m[i*c+j])
			}
		}
		if tau := Percentile(v, 60); tau != res.Threshold {
			t.Errorf("%v: threshold %v, recomputed %v", rule, res.Threshold, tau)
		}
		for i, k := range res.Labels {
			f := slices.Index(res.Labels, k)
			if rule == OwnMask {
				f = i
			}
			for j := range c {
				keep := float64(res.Centroids[k*c+j]*m[f*c+j]) > res.Threshold && m[i*c+j] == 1
				if (res.NewMask[i*c+j] == 1) != keep {
					t.Fatalf("%v: filter %d channel %d: mask %v, rule says %v", rule, i, j, res.NewMask[i*c+j], keep)
				}
			}
		}
	}
}

func TestStepErrors(t *testing.T) {
	w := convLike(4, 4, 1, 1)
	for _, tc := range []struct {
		rate float64
		opt  Options
		want string
	}{
		{0, Options{}, "rate"},
		{100, Options{}, "rate"},
		{-5, Options{}, "rate"},
		{math.NaN(), Options{}, "rate"},
		{50, Options{Groups: -1}, "negative"},
		{50, Options{Tol: -1}, "negative"},
		{50, Options{Rule: 7}, "keep rule"},
	} {
		if _, err := Step(w, 4, 4, 1, nil, tc.rate, nil, tc.opt); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("rate %v opt %+v: error %v, want it to mention %q", tc.rate, tc.opt, err, tc.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("wrong len(w) did not panic")
		}
	}()
	Step(w[:15], 4, 4, 1, nil, 50, nil, Options{})
}
