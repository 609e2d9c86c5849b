package prune

import (
	"cmp"
	"math"
	"slices"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/selfgroup"
)

// Regular is regular group convolution brought to self-grouping's
// connection budget. A layer of n filters and c input channels is split
// into g = min(Groups, n, c) groups (Groups 0: 16, as self-grouping): filter
// i belongs to group floor(i*g/n) and input channel j to channel block
// floor(j*g/c), and group k may read channel block k: the block-diagonal
// mask of ResNeXt and AlexNet, which by itself prunes a fraction 1-1/g.
//
// To meet a rate p exactly, each step keeps the K = n*c - round(p*n*c)
// best of the connections still kept, ranked first by whether they lie in
// the block diagonal, then by the group's centroid importance c_k[j] (the
// mean of the group's importance vectors, as in self-grouping). So:
//   - at p = 1-1/g (and n, c divisible by g) the mask is exactly the
//     block diagonal;
//   - above it, every group drops its weakest channels inside its block;
//   - below it, the block diagonal is kept whole and the strongest
//     off-diagonal (group, channel) pairs are added back.
//
// A group's filters share a channel column in the ranking, so at most one
// (group, channel) pair per step is split between kept and pruned filters.
// Masks only lose ones from step to step.
type Regular struct {
	Groups int
	// Importance, when set, replaces the L1 importance (e.g. Taylor).
	Importance ImportanceFunc
}

// Prune runs one step on every layer.
func (r *Regular) Prune(layers []nn.Prunable, rates []float64, _ int) ([]Layer, error) {
	return EachLayer(layers, rates, r.Importance,
		func(_ nn.Prunable, w []float32, n, c, kk int, mask []float32, rate float64, imp []float32) (selfgroup.Result, error) {
			return RegularStep(w, n, c, kk, mask, rate, imp, r.Groups)
		})
}

// RegularStep prunes one layer (n filters, c input channels, kk kernel
// positions, weights and masks laid out as in package selfgroup) to the
// cumulative rate (percent) as Regular describes, with groups groups (0:
// 16). imp is n*c importance values or nil (L1 of the masked weights). The
// Result's Labels are the filter groups, Centroids the group centroids,
// Threshold the ranking score of the weakest kept connection; Inertia is
// zero.
func RegularStep(w []float32, n, c, kk int, mask []float32, rate float64, imp []float32, groups int) (selfgroup.Result, error) {
	if err := checkRate(rate); err != nil {
		return selfgroup.Result{}, err
	}
	if groups <= 0 {
		groups = selfgroup.DefaultGroups
	}
	g := min(groups, n, c)
	imp = importance(w, n, c, kk, mask, imp)
	labels := make([]int, n)
	size := make([]int, g)
	for i := range n {
		labels[i] = i * g / n
		size[labels[i]]++
	}
	cent := make([]float32, g*c)
	sum := make([]float64, g*c)
	for i, k := range labels {
		for j := range c {
			sum[k*c+j] += float64(imp[i*c+j])
		}
	}
	for t, s := range sum {
		cent[t] = float32(s / float64(size[t/c]))
	}

	type conn struct {
		in    bool // in the block diagonal
		score float32
		k     int // filter group
		j, i  int
	}
	var cands []conn
	for i, k := range labels {
		for j := range c {
			if mask != nil && mask[i*c+j] == 0 {
				continue
			}
			cands = append(cands, conn{in: j*g/c == k, score: cent[k*c+j], k: k, j: j, i: i})
		}
	}
	slices.SortFunc(cands, func(a, b conn) int {
		if a.in != b.in {
			if a.in {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.k, b.k), cmp.Compare(a.j, b.j), cmp.Compare(a.i, b.i))
	})
	keep := n*c - int(math.Round(rate/100*float64(n*c)))
	keep = max(0, min(keep, len(cands)))
	newMask := make([]float32, n*c)
	for _, x := range cands[:keep] {
		newMask[x.i*c+x.j] = 1
	}
	var tau float64
	if keep > 0 {
		tau = float64(cands[keep-1].score)
	}
	return selfgroup.Result{NewMask: newMask, Labels: labels, Centroids: cent, Groups: g, Threshold: tau,
		Pruned: float64(n*c-keep) / float64(n*c)}, nil
}
