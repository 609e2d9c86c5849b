// Package kmeans clusters points in R^d with Euclidean k-means, as
// selfgroup's self-grouping step needs it: random-sample initialisation,
// several restarts keeping the lowest inertia, a relative tolerance as in
// scikit-learn, and empty clusters re-seeded with the point farthest from its
// centroid.
//
// # Layout
//
// Points are one flat []float32, row-major: point i is data[i*d : (i+1)*d].
// Centroids come back the same way (k rows of d). float32 halves the memory
// traffic of the distance loop, which dominates the run time; sums that
// build centroids, the tolerance and the inertia are accumulated in float64.
//
// # Algorithm
//
// Each restart runs Lloyd's iteration accelerated with Elkan's triangle
// inequality bounds (one upper bound per point, one lower bound per point and
// centroid), so that after the first few iterations most point-centroid
// distances are never computed. Centroid sums are updated incrementally from
// the points that changed cluster. Restarts run on up to GOMAXPROCS
// goroutines; restart r draws its initial centroids from its own PCG stream
// (seed, r), and ties in inertia go to the lowest r, so the result depends
// only on the data and Options, never on scheduling, and a run with R
// restarts sees exactly the first R restarts of a run with more.
//
// Files: kmeans.go (API, restarts), elkan.go (one restart), dist.go (the
// distance kernel and its float64 reference).
package kmeans

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// Defaults used where Options leaves a field zero.
const (
	DefaultRestarts = 10
	DefaultMaxIter  = 300
	DefaultTol      = 1e-4
)

// Options configures Fit. Zero fields take the defaults above.
type Options struct {
	// K is the number of clusters (groups); Fit uses min(K, n). K < 1 panics.
	K int
	// Restarts is the number of random initialisations; the one with the
	// lowest inertia is returned (default 10).
	Restarts int
	// MaxIter bounds the Lloyd iterations of each restart (default 300).
	MaxIter int
	// Tol is the relative tolerance (default 1e-4), defined as in
	// scikit-learn: a restart stops once the squared Frobenius norm of the
	// centroid shift in one iteration is at most Tol times the mean over
	// dimensions of the data's variance. A restart also stops when no point
	// changes cluster. Tol < 0 panics.
	Tol float64
	// Seed selects the random initialisations; equal data, Options and Seed
	// give identical results.
	Seed uint64
	// Workers bounds the goroutines running restarts in parallel; 0 means
	// runtime.GOMAXPROCS(0). The result does not depend on it.
	Workers int
}

// Result is the best clustering found over all restarts.
type Result struct {
	// K is the number of clusters actually used, min(Options.K, n).
	K int
	// Labels[i] in [0, K) is the cluster of point i.
	Labels []int
	// Centroids holds K rows of d values, row-major. Row c is the mean of
	// the points labelled c at the last update; when a restart stops on the
	// tolerance, the labels are then recomputed against these centroids
	// (as scikit-learn does), so a few points, or rarely a whole cluster,
	// may have moved since.
	Centroids []float32
	// Inertia is the sum over points of the squared distance to their
	// centroid.
	Inertia float64
	// Iter is the number of iterations the returned restart ran, and
	// Restart its index.
	Iter, Restart int
}

// Fit clusters the n points of dimension d held row-major in data. It panics
// (programmer error) if len(data) != n*d, n < 1, d < 1, K < 1 or Tol < 0.
func Fit(data []float32, n, d int, opt Options) Result {
	if n < 1 || d < 1 {
		panic(fmt.Sprintf("kmeans: need n >= 1 and d >= 1, got n=%d d=%d", n, d))
	}
	if len(data) != n*d {
		panic(fmt.Sprintf("kmeans: len(data)=%d, want n*d=%d*%d", len(data), n, d))
	}
	if opt.K < 1 {
		panic(fmt.Sprintf("kmeans: K=%d, want K >= 1", opt.K))
	}
	if opt.Tol < 0 {
		panic(fmt.Sprintf("kmeans: Tol=%g, want Tol >= 0", opt.Tol))
	}
	k := min(opt.K, n)
	restarts := opt.Restarts
	if restarts <= 0 {
		restarts = DefaultRestarts
	}
	maxIter := opt.MaxIter
	if maxIter <= 0 {
		maxIter = DefaultMaxIter
	}
	tol := opt.Tol
	if tol == 0 {
		tol = DefaultTol
	}
	tol *= meanVariance(data, n, d)

	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, restarts)

	// Each worker keeps its own best restart; restarts are dealt round-robin
	// so the split never affects which restart wins.
	best := make([]*state, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cur := newState(data, n, d, k)
			var keep *state
			for r := w; r < restarts; r += workers {
				cur.run(opt.Seed, r, maxIter, tol)
				if keep == nil || cur.inertia < keep.inertia {
					if keep == nil {
						keep = newState(data, n, d, k)
					}
					keep, cur = cur, keep
				}
			}
			best[w] = keep
		}()
	}
	wg.Wait()

	var win *state
	for _, s := range best {
		if win == nil || s.inertia < win.inertia ||
			(s.inertia == win.inertia && s.restart < win.restart) {
			win = s
		}
	}
	labels := make([]int, n)
	for i, a := range win.labels {
		labels[i] = int(a)
	}
	return Result{
		K:         k,
		Labels:    labels,
		Centroids: append([]float32(nil), win.cent...),
		Inertia:   win.inertia,
		Iter:      win.iter,
		Restart:   win.restart,
	}
}

// meanVariance returns the mean over the d dimensions of the population
// variance of each coordinate, the scale scikit-learn multiplies its
// tolerance by.
func meanVariance(data []float32, n, d int) float64 {
	mean := make([]float64, d)
	for i := range n {
		for j, v := range data[i*d : (i+1)*d] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	var ss float64
	for i := range n {
		for j, v := range data[i*d : (i+1)*d] {
			e := float64(v) - mean[j]
			ss += e * e
		}
	}
	v := ss / float64(n) / float64(d)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		panic("kmeans: data contains NaN or Inf")
	}
	return v
}

// Inertia returns the sum over points of the squared distance to the
// centroid of their label, in float64. It is the objective Fit minimises.
func Inertia(data []float32, n, d int, labels []int, centroids []float32) float64 {
	var s float64
	for i := range n {
		c := labels[i]
		s += sqDistRef(data[i*d:(i+1)*d], centroids[c*d:(c+1)*d])
	}
	return s
}
