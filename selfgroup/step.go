package selfgroup

import (
	"fmt"

	"github.com/sgcnn/sgcnn/internal/kmeans"
)

// DefaultGroups is the paper's number of groups per layer, g = 16.
const DefaultGroups = 16

// KeepRule says whose mask decides which input channels a group keeps.
type KeepRule int

const (
	// FirstMember is the authors' rule and the default: group k keeps
	// channel j iff c_k[j] * m[f(k)][j] > tau, f(k) being the group's
	// lowest-index filter; every member then loses what the group drops.
	// When members' old masks differ, the pruned fraction can overshoot the
	// rate (by several points on FC layers).
	FirstMember KeepRule = iota
	// OwnMask lets each filter i keep channel j iff c_{pi(i)}[j] * m[i][j] >
	// tau, the same values the threshold is taken over, so the pruned
	// fraction tracks the rate.
	OwnMask
)

// String returns "first-member" or "own-mask".
func (r KeepRule) String() string {
	switch r {
	case FirstMember:
		return "first-member"
	case OwnMask:
		return "own-mask"
	}
	return fmt.Sprintf("KeepRule(%d)", int(r))
}

// Options configures Step. Zero fields take the paper's values.
type Options struct {
	// Groups is the number of groups g (default 16), clamped to the number
	// of filters.
	Groups int
	// Rule picks the group connectivity rule (default FirstMember).
	Rule KeepRule
	// Seed seeds the k-means initialisations; equal inputs and Seed give
	// identical masks.
	Seed uint64
	// Restarts, MaxIter and Tol configure k-means (defaults 10, 300, 1e-4;
	// Tol is relative to the mean variance of the importance vectors).
	Restarts, MaxIter int
	Tol               float64
}

// Result is the outcome of one pruning step on one layer.
type Result struct {
	// NewMask is the updated connection mask, n*c values of 0 or 1, never 1
	// where the old mask was 0.
	NewMask []float32
	// Labels[i] is the group pi(i) of filter i, in [0, Groups).
	Labels []int
	// Centroids holds the Groups centroids c_k of the importance vectors,
	// Groups rows of c values.
	Centroids []float32
	// Groups is the number of groups actually used, min(Options.Groups, n).
	// k-means may leave a group without filters (then no label names it).
	Groups int
	// Threshold is tau, the rate-th percentile of c_{pi(i)}[j] * m[i][j].
	Threshold float64
	// Pruned is the fraction of the n*c connections that NewMask removes
	// (including those already removed before this step).
	Pruned float64
	// Inertia is the k-means objective of the grouping.
	Inertia float64
}

// Step performs one self-grouping pruning step on a layer with n filters, c
// input channels and kk kernel positions (FC: kk = 1) at cumulative rate
// (a percentage in (0, 100), e.g. 70): importance, grouping by k-means,
// threshold tau and group connectivity, as described in the package
// comment. w holds n*c*kk weights, mask n*c values (nil: all ones), imp n*c
// importance values (nil: Importance(w, n, c, kk, mask); a caller-supplied
// imp such as TaylorImportance is used as is). Inputs are not modified.
//
// A rate or Options value out of range is returned as an error; slice
// lengths that do not match the shape panic.
func Step(w []float32, n, c, kk int, mask []float32, rate float64, imp []float32, opt Options) (Result, error) {
	checkLayer("Step", len(w), n, c, kk, mask)
	if imp != nil && len(imp) != n*c {
		panic(fmt.Sprintf("selfgroup: Step: len(imp)=%d, want n*c=%d*%d", len(imp), n, c))
	}
	if !(rate > 0 && rate < 100) {
		return Result{}, fmt.Errorf("selfgroup: rate %g%% outside (0, 100)", rate)
	}
	if opt.Groups < 0 || opt.Restarts < 0 || opt.MaxIter < 0 || opt.Tol < 0 {
		return Result{}, fmt.Errorf("selfgroup: negative option in %+v", opt)
	}
	if opt.Rule != FirstMember && opt.Rule != OwnMask {
		return Result{}, fmt.Errorf("selfgroup: unknown keep rule %v", opt.Rule)
	}
	g := opt.Groups
	if g == 0 {
		g = DefaultGroups
	}
	if imp == nil {
		imp = Importance(w, n, c, kk, mask)
	}

	km := kmeans.Fit(imp, n, c, kmeans.Options{
		K: g, Restarts: opt.Restarts, MaxIter: opt.MaxIter, Tol: opt.Tol, Seed: opt.Seed,
	})
	newMask, tau, pruned := connect(n, c, mask, rate, km.Labels, km.Centroids, km.K, opt.Rule)
	return Result{
		NewMask:   newMask,
		Labels:    km.Labels,
		Centroids: km.Centroids,
		Groups:    km.K,
		Threshold: tau,
		Pruned:    pruned,
		Inertia:   km.Inertia,
	}, nil
}

// connect is steps 3 and 4 of the package comment for a given grouping,
// shared by Step (k-means labels) and StepWithLabels (given labels): the
// threshold tau is the rate-th percentile of v[i][j] = c_{pi(i)}[j] *
// m[i][j], and group connectivity keeps (i, j) iff it was kept before and
// the keep rule's value exceeds tau. It returns the new mask, tau and the
// pruned fraction of the n*c connections.
func connect(n, c int, mask []float32, rate float64, labels []int, cent []float32, groups int, rule KeepRule) (newMask []float32, tau, pruned float64) {
	m := func(i, j int) float32 {
		if mask == nil {
			return 1
		}
		return mask[i*c+j]
	}
	v := make([]float32, n*c)
	for i, k := range labels {
		for j := range c {
			v[i*c+j] = cent[k*c+j] * m(i, j)
		}
	}
	tau = Percentile(v, rate)
	first := make([]int, groups)
	for k := range first {
		first[k] = -1
	}
	for i, k := range labels {
		if first[k] < 0 {
			first[k] = i
		}
	}
	newMask = make([]float32, n*c)
	zeros := 0
	for i, k := range labels {
		f := first[k]
		for j := range c {
			var keep bool
			if rule == FirstMember {
				keep = float64(cent[k*c+j]*m(f, j)) > tau
			} else {
				keep = float64(v[i*c+j]) > tau
			}
			if keep && m(i, j) != 0 {
				newMask[i*c+j] = 1
			} else {
				zeros++
			}
		}
	}
	return newMask, tau, float64(zeros) / float64(n*c)
}
