package kmeans

import (
	"math"
	"math/rand/v2"
)

// state is one restart's working memory, reused across the restarts a
// worker runs. Distances (not squared) are kept in float64; the bounds are
// Elkan's:
//
//	upper[i]     >= dist(point i, centroid labels[i])
//	lower[i*k+c] <= dist(point i, centroid c)
type state struct {
	data    []float32
	n, d, k int

	cent    []float32 // k*d current centroids
	old     []float32 // k*d centroids before the last update
	sums    []float64 // k*d sum of the points in each cluster
	counts  []int     // k points per cluster
	labels  []int32   // n
	upper   []float64 // n
	lower   []float64 // n*k
	cc      []float64 // k*k centroid-centroid distances
	half    []float64 // k: half the distance to the nearest other centroid
	shift   []float64 // k: how far each centroid moved in the last update
	moved   []int32   // points whose label changed in the last assignment
	from    []int32   // their previous labels
	idx     []int     // n scratch for sampling the initial centroids
	inertia float64
	iter    int
	restart int
}

func newState(data []float32, n, d, k int) *state {
	return &state{
		data: data, n: n, d: d, k: k,
		cent:   make([]float32, k*d),
		old:    make([]float32, k*d),
		sums:   make([]float64, k*d),
		counts: make([]int, k),
		labels: make([]int32, n),
		upper:  make([]float64, n),
		lower:  make([]float64, n*k),
		cc:     make([]float64, k*k),
		half:   make([]float64, k),
		shift:  make([]float64, k),
		idx:    make([]int, n),
	}
}

func (s *state) point(i int) []float32 { return s.data[i*s.d : (i+1)*s.d] }
func (s *state) centroid(c int) []float32 {
	return s.cent[c*s.d : (c+1)*s.d]
}
func (s *state) dist(i, c int) float64 {
	return math.Sqrt(float64(sqDist(s.point(i), s.centroid(c))))
}

// run performs restart r: sample k distinct points as centroids, then
// alternate update and assignment until the labels stop changing, the
// centroid shift falls to tol (absolute, already scaled by the variance) or
// maxIter updates have run.
func (s *state) run(seed uint64, r, maxIter int, tol float64) {
	s.restart = r
	rng := rand.New(rand.NewPCG(seed, uint64(r)))
	// Partial Fisher-Yates: the first k entries of idx become k distinct
	// point indices.
	for i := range s.idx {
		s.idx[i] = i
	}
	for c := range s.k {
		j := c + rng.IntN(s.n-c)
		s.idx[c], s.idx[j] = s.idx[j], s.idx[c]
		copy(s.centroid(c), s.point(s.idx[c]))
	}
	s.centroidDistances()
	s.assignAll()

	s.iter = 0
	for s.iter < maxIter {
		s.iter++
		total := s.update(s.iter == 1)
		if total <= tol {
			s.assign()
			break
		}
		if s.assign() == 0 {
			break
		}
	}
	s.inertia = 0
	for i := range s.n {
		s.inertia += float64(sqDist(s.point(i), s.centroid(int(s.labels[i]))))
	}
}

// centroidDistances fills cc and half from cent.
func (s *state) centroidDistances() {
	k := s.k
	for c := range k {
		s.cc[c*k+c] = 0
		for e := c + 1; e < k; e++ {
			v := math.Sqrt(float64(sqDist(s.centroid(c), s.centroid(e))))
			s.cc[c*k+e], s.cc[e*k+c] = v, v
		}
	}
	for c := range k {
		h := math.Inf(1)
		for e := range k {
			if e != c {
				h = min(h, s.cc[c*k+e])
			}
		}
		s.half[c] = h / 2
	}
}

// assignAll labels every point from scratch and sets all bounds. A centroid
// c is skipped when dist(x, a) <= cc[a][c]/2 for the best a so far, since
// then c cannot be closer; its lower bound is then cc[a][c] - dist(x, a).
func (s *state) assignAll() {
	k := s.k
	for c := range s.counts {
		s.counts[c] = 0
	}
	for i := range s.n {
		lo := s.lower[i*k : (i+1)*k]
		a := 0
		u := s.dist(i, 0)
		lo[0] = u
		for c := 1; c < k; c++ {
			if h := s.cc[a*k+c]; u <= h/2 {
				lo[c] = h - u
				continue
			}
			v := s.dist(i, c)
			lo[c] = v
			if v < u {
				a, u = c, v
			}
		}
		s.labels[i] = int32(a)
		s.upper[i] = u
		s.counts[a]++
	}
	s.moved = s.moved[:0]
}

// assign relabels the points with Elkan's pruning and returns how many
// changed cluster; they are recorded in moved/from for the next update.
func (s *state) assign() int {
	s.centroidDistances()
	k := s.k
	s.moved, s.from = s.moved[:0], s.from[:0]
	for i := range s.n {
		a0 := int(s.labels[i])
		a := a0
		u := s.upper[i]
		if u <= s.half[a] {
			continue
		}
		lo := s.lower[i*k : (i+1)*k]
		tight := false
		for c := range k {
			if c == a {
				continue
			}
			z := max(lo[c], s.cc[a*k+c]/2)
			if u <= z {
				continue
			}
			if !tight {
				u = s.dist(i, a)
				lo[a] = u
				tight = true
				if u <= z {
					continue
				}
			}
			v := s.dist(i, c)
			lo[c] = v
			if v < u {
				a, u = c, v
			}
		}
		s.upper[i] = u
		if a != a0 {
			s.labels[i] = int32(a)
			s.counts[a0]--
			s.counts[a]++
			s.moved = append(s.moved, int32(i))
			s.from = append(s.from, int32(a0))
		}
	}
	return len(s.moved)
}

// update moves every centroid to the mean of its points, re-seeding empty
// clusters, shifts the bounds accordingly and returns the squared Frobenius
// norm of the centroid shift. The first update after assignAll sums all
// points; later ones apply only the points recorded in moved.
func (s *state) update(full bool) float64 {
	d := s.d
	if full {
		for j := range s.sums {
			s.sums[j] = 0
		}
		for i := range s.n {
			addTo(s.sums[int(s.labels[i])*d:], s.point(i), 1)
		}
	} else {
		for m, i := range s.moved {
			x := s.point(int(i))
			addTo(s.sums[int(s.from[m])*d:], x, -1)
			addTo(s.sums[int(s.labels[i])*d:], x, 1)
		}
	}
	reseeded := s.reseedEmpty()

	copy(s.old, s.cent)
	var total float64
	for c := range s.k {
		inv := 1 / float64(s.counts[c])
		row := s.centroid(c)
		for j, v := range s.sums[c*d : (c+1)*d] {
			row[j] = float32(v * inv)
		}
		sh := math.Sqrt(float64(sqDist(s.old[c*d:(c+1)*d], row)))
		s.shift[c] = sh
		total += sh * sh
	}
	k := s.k
	for i := range s.n {
		s.upper[i] += s.shift[s.labels[i]]
		lo := s.lower[i*k : (i+1)*k]
		for c, sh := range s.shift {
			lo[c] = max(0, lo[c]-sh)
		}
	}
	for _, i := range reseeded {
		s.upper[i] = math.Inf(1)
	}
	return total
}

// reseedEmpty gives every empty cluster, in index order, the point farthest
// from its own centroid among clusters with more than one point (ties to
// the lowest index), moving that point's contribution between the sums. It
// returns the moved points, whose upper bounds are no longer valid.
func (s *state) reseedEmpty() []int {
	var empty []int
	for c, m := range s.counts {
		if m == 0 {
			empty = append(empty, c)
		}
	}
	if len(empty) == 0 {
		return nil
	}
	// Rare: pay for exact distances to the current centroids.
	far := make([]float64, s.n)
	for i := range s.n {
		far[i] = float64(sqDist(s.point(i), s.centroid(int(s.labels[i]))))
	}
	d := s.d
	var taken []int
	for _, c := range empty {
		best := -1
		for i := range s.n {
			if s.counts[s.labels[i]] > 1 && (best < 0 || far[i] > far[best]) {
				best = i
			}
		}
		// k <= n guarantees a cluster with two points while one is empty.
		a := int(s.labels[best])
		x := s.point(best)
		addTo(s.sums[a*d:], x, -1)
		addTo(s.sums[c*d:], x, 1)
		s.counts[a]--
		s.counts[c]++
		s.labels[best] = int32(c)
		far[best] = math.Inf(-1)
		taken = append(taken, best)
	}
	return taken
}

// addTo adds sign*x to dst[:len(x)].
func addTo(dst []float64, x []float32, sign float64) {
	dst = dst[:len(x)]
	for j, v := range x {
		dst[j] += sign * float64(v)
	}
}
