package kmeans

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// planted returns k well-separated Gaussian blobs of m points each in R^d,
// shuffled, with the true blob of every point.
func planted(k, m, d int, seed uint64) ([]float32, []int) {
	r := rand.New(rand.NewPCG(seed, 99))
	centers := make([]float64, k*d)
	for i := range centers {
		centers[i] = 20 * r.NormFloat64()
	}
	for c := range k {
		centers[c*d] = 50 * float64(c) // at least 50 apart; blobs have sd 0.5
	}
	n := k * m
	perm := r.Perm(n)
	data := make([]float32, n*d)
	truth := make([]int, n)
	for p := range n {
		i := perm[p]
		c := p / m
		truth[i] = c
		for j := range d {
			data[i*d+j] = float32(centers[c*d+j] + 0.5*r.NormFloat64())
		}
	}
	return data, truth
}

// samePartition reports whether a and b are equal up to a relabelling.
func samePartition(a, b []int) bool {
	ab, ba := map[int]int{}, map[int]int{}
	for i := range a {
		if x, ok := ab[a[i]]; ok && x != b[i] {
			return false
		}
		if y, ok := ba[b[i]]; ok && y != a[i] {
			return false
		}
		ab[a[i]], ba[b[i]] = b[i], a[i]
	}
	return true
}

func TestPlantedClusters(t *testing.T) {
	// Random-sample initialisation puts one seed in every blob with
	// probability k!/k^k per restart, so k stays small enough that ten
	// restarts find the planted partition for every seed tried.
	for _, tc := range []struct{ k, m, d int }{{2, 50, 1}, {3, 20, 2}, {4, 30, 64}, {5, 10, 300}} {
		data, truth := planted(tc.k, tc.m, tc.d, 7)
		for seed := range uint64(5) {
			res := Fit(data, tc.k*tc.m, tc.d, Options{K: tc.k, Seed: seed})
			if !samePartition(res.Labels, truth) {
				t.Errorf("k=%d d=%d seed=%d: labels do not match the planted blobs", tc.k, tc.d, seed)
			}
		}
		res := Fit(data, tc.k*tc.m, tc.d, Options{K: tc.k, Seed: 1})
		// Centroids are the means of their points and Inertia matches them.
		want := Inertia(data, tc.k*tc.m, tc.d, res.Labels, res.Centroids)
		if math.Abs(res.Inertia-want) > 1e-4*want {
			t.Errorf("k=%d: Inertia %g, recomputed %g", tc.k, res.Inertia, want)
		}
	}
}

// randomData is structureless: clusters are poorly separated, so restarts
// and the Elkan bounds matter.
func randomData(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 5))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(r.ExpFloat64())
	}
	return x
}

func TestCentroidsAreMeans(t *testing.T) {
	n, d := 300, 17
	data := randomData(n, d, 3)
	res := Fit(data, n, d, Options{K: 9, Seed: 4})
	sum := make([]float64, 9*d)
	cnt := make([]int, 9)
	for i, c := range res.Labels {
		cnt[c]++
		for j := range d {
			sum[c*d+j] += float64(data[i*d+j])
		}
	}
	for c := range 9 {
		if cnt[c] == 0 {
			t.Fatalf("cluster %d empty", c)
		}
		for j := range d {
			if got, want := float64(res.Centroids[c*d+j]), sum[c*d+j]/float64(cnt[c]); math.Abs(got-want) > 1e-5 {
				t.Fatalf("centroid %d[%d]=%g, mean %g", c, j, got, want)
			}
		}
	}
	// Every point is at its nearest centroid (up to float32 rounding).
	for i, c := range res.Labels {
		own := sqDistRef(data[i*d:(i+1)*d], res.Centroids[c*d:(c+1)*d])
		for e := range 9 {
			if o := sqDistRef(data[i*d:(i+1)*d], res.Centroids[e*d:(e+1)*d]); o < own-1e-4*own {
				t.Fatalf("point %d labelled %d (%g) but %d is closer (%g)", i, c, own, e, o)
			}
		}
	}
}

func TestMoreRestartsNeverWorse(t *testing.T) {
	n, d := 200, 10
	data := randomData(n, d, 11)
	prev := math.Inf(1)
	for _, r := range []int{1, 2, 3, 5, 10, 20} {
		res := Fit(data, n, d, Options{K: 12, Restarts: r, Seed: 42})
		if res.Inertia > prev {
			t.Errorf("Restarts=%d: inertia %g > %g with fewer restarts", r, res.Inertia, prev)
		}
		prev = res.Inertia
	}
}

func TestDeterministic(t *testing.T) {
	n, d := 257, 33
	data := randomData(n, d, 1)
	a := Fit(data, n, d, Options{K: 16, Seed: 9, Workers: 1})
	b := Fit(data, n, d, Options{K: 16, Seed: 9, Workers: 2})
	c := Fit(data, n, d, Options{K: 16, Seed: 9, Workers: 3})
	for _, o := range []Result{b, c} {
		if !slices.Equal(a.Labels, o.Labels) || !slices.Equal(a.Centroids, o.Centroids) || a.Inertia != o.Inertia {
			t.Fatal("same seed, different result")
		}
	}
	diff := false
	for s := uint64(10); s < 20 && !diff; s++ {
		o := Fit(data, n, d, Options{K: 16, Seed: s, Restarts: 1})
		diff = !slices.Equal(a.Labels, o.Labels)
	}
	if !diff {
		t.Error("ten other seeds all gave the same labels")
	}
}

func TestKClampedToN(t *testing.T) {
	data := []float32{0, 0, 1, 1, 5, 5}
	res := Fit(data, 3, 2, Options{K: 16, Seed: 1})
	if res.K != 3 || len(res.Centroids) != 3*2 {
		t.Fatalf("K=%d, %d centroid values; want 3 and 6", res.K, len(res.Centroids))
	}
	if res.Inertia != 0 || !samePartition(res.Labels, []int{0, 1, 2}) {
		t.Fatalf("3 points in 3 clusters: labels %v inertia %g", res.Labels, res.Inertia)
	}
}

func TestIdenticalPoints(t *testing.T) {
	n, d := 50, 8
	data := make([]float32, n*d)
	for i := range data {
		data[i] = 3.5
	}
	res := Fit(data, n, d, Options{K: 16, Seed: 2})
	if res.Inertia != 0 || math.IsNaN(res.Inertia) {
		t.Fatalf("inertia %g, want 0", res.Inertia)
	}
	for _, v := range res.Centroids {
		if v != 3.5 {
			t.Fatalf("centroid value %g, want 3.5", v)
		}
	}
	if res.Iter >= DefaultMaxIter {
		t.Errorf("ran %d iterations on identical points", res.Iter)
	}
}

// Two tight blobs and k=3 with one centroid started far away from every
// point: it wins no point in the first assignment and must be re-seeded.
func TestEmptyClusterReseeded(t *testing.T) {
	d := 2
	data := []float32{0, 0, 0.1, 0, 0, 0.1, 10, 10, 10.1, 10, 9, 12}
	s := newState(data, 6, d, 3)
	copy(s.cent, []float32{0, 0, 10, 10, 10, 10}) // centroids 1 and 2 coincide
	s.centroidDistances()
	s.assignAll()
	if s.counts[2] != 0 {
		t.Fatalf("setup: cluster 2 has %d points", s.counts[2])
	}
	s.update(true)
	for c, m := range s.counts {
		if m == 0 {
			t.Fatalf("cluster %d still empty after update", c)
		}
	}
	// The farthest point from its centroid is (9, 12).
	if s.labels[5] != 2 || s.cent[4] != 9 || s.cent[5] != 12 {
		t.Fatalf("labels %v centroids %v: want point 5 alone in cluster 2", s.labels, s.cent)
	}
	for s.assign() > 0 {
		s.update(false)
	}
	for c, m := range s.counts {
		if m == 0 {
			t.Fatalf("cluster %d empty at the end", c)
		}
	}
}

func TestBadInputPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"len":  func() { Fit(make([]float32, 5), 2, 2, Options{K: 1}) },
		"k":    func() { Fit(make([]float32, 4), 2, 2, Options{}) },
		"tol":  func() { Fit(make([]float32, 4), 2, 2, Options{K: 1, Tol: -1}) },
		"nan":  func() { Fit([]float32{0, float32(math.NaN())}, 2, 1, Options{K: 1}) },
		"size": func() { Fit(nil, 0, 2, Options{K: 1}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
