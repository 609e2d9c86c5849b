package kmeans

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// lloydRef is plain Lloyd iteration with the same initialisation and
// stopping rules as state.run, written for clarity: the Elkan bounds must
// not change what it converges to.
func lloydRef(data []float32, n, d, k int, seed uint64, r, maxIter int, tol float64) []int {
	rng := rand.New(rand.NewPCG(seed, uint64(r)))
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	cent := make([]float32, k*d)
	for c := range k {
		j := c + rng.IntN(n-c)
		idx[c], idx[j] = idx[j], idx[c]
		copy(cent[c*d:], data[idx[c]*d:(idx[c]+1)*d])
	}
	labels := make([]int, n)
	assign := func() int {
		changed := 0
		for i := range n {
			best, bd := 0, math.Inf(1)
			for c := range k {
				if v := sqDistRef(data[i*d:(i+1)*d], cent[c*d:(c+1)*d]); v < bd {
					best, bd = c, v
				}
			}
			if best != labels[i] {
				changed++
			}
			labels[i] = best
		}
		return changed
	}
	assign()
	for range maxIter {
		sums := make([]float64, k*d)
		cnt := make([]int, k)
		for i, c := range labels {
			cnt[c]++
			for j := range d {
				sums[c*d+j] += float64(data[i*d+j])
			}
		}
		var total float64
		for c := range k {
			if cnt[c] == 0 {
				panic("lloydRef: empty cluster; pick other data")
			}
			for j := range d {
				v := float32(sums[c*d+j] / float64(cnt[c]))
				e := float64(v) - float64(cent[c*d+j])
				total += e * e
				cent[c*d+j] = v
			}
		}
		if total <= tol {
			assign()
			break
		}
		if assign() == 0 {
			break
		}
	}
	return labels
}

func TestElkanMatchesLloyd(t *testing.T) {
	for _, tc := range []struct{ n, d, k int }{{100, 3, 4}, {300, 40, 16}, {64, 576, 16}} {
		data := randomData(tc.n, tc.d, uint64(tc.d))
		tol := DefaultTol * meanVariance(data, tc.n, tc.d)
		s := newState(data, tc.n, tc.d, tc.k)
		for r := range 3 {
			s.run(5, r, DefaultMaxIter, tol)
			want := lloydRef(data, tc.n, tc.d, tc.k, 5, r, DefaultMaxIter, tol)
			got := make([]int, tc.n)
			for i, a := range s.labels {
				got[i] = int(a)
			}
			if !slices.Equal(got, want) {
				t.Errorf("n=%d d=%d k=%d restart %d: Elkan labels differ from plain Lloyd", tc.n, tc.d, tc.k, r)
			}
		}
	}
}

// resnet50Convs lists (filters N, input channels C) of the 53 convolutions
// of torchvision's resnet50 in module order: the stem, then per bottleneck
// conv1 (1x1), conv2 (3x3), conv3 (1x1) and, in the first block of each
// stage, the 1x1 downsample. Self-grouping clusters N points in R^C.
func resnet50Convs() [][2]int {
	shapes := [][2]int{{64, 3}}
	in := 64
	for stage, blocks := range []int{3, 4, 6, 3} {
		planes := 64 << stage
		for b := range blocks {
			shapes = append(shapes, [2]int{planes, in}, [2]int{planes, planes}, [2]int{4 * planes, planes})
			if b == 0 {
				shapes = append(shapes, [2]int{4 * planes, in})
			}
			in = 4 * planes
		}
	}
	return shapes
}

func TestResNet50ConvCount(t *testing.T) {
	if got := len(resnet50Convs()); got != 53 {
		t.Fatalf("%d convs, want 53", got)
	}
}

// importanceLike mimics L1 importance vectors of a trained layer: positive,
// heavy-tailed, with per-filter and per-channel scales.
func importanceLike(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	fs := make([]float64, n)
	for i := range fs {
		fs[i] = math.Exp(0.5 * r.NormFloat64())
	}
	cs := make([]float64, d)
	for j := range cs {
		cs[j] = math.Exp(0.5 * r.NormFloat64())
	}
	x := make([]float32, n*d)
	for i := range n {
		for j := range d {
			x[i*d+j] = float32(fs[i] * cs[j] * math.Abs(r.NormFloat64()))
		}
	}
	return x
}

// BenchmarkResNet50Layers times one self-grouping clustering (k=16, 10
// restarts) of every ResNet-50 conv layer; one op is the whole network.
func BenchmarkResNet50Layers(b *testing.B) {
	shapes := resnet50Convs()
	data := make([][]float32, len(shapes))
	for l, s := range shapes {
		data[l] = importanceLike(s[0], s[1], uint64(l))
	}
	b.ResetTimer()
	for b.Loop() {
		iters := 0
		for l, s := range shapes {
			res := Fit(data[l], s[0], s[1], Options{K: 16, Seed: 1})
			iters += res.Iter
		}
		b.ReportMetric(float64(iters)/float64(len(shapes)), "iter/layer")
	}
}
