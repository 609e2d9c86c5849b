package selfgroup

import "fmt"

// StepWithLabels is Step with the grouping given instead of found by
// k-means: labels[i] in [0, groups) is filter i's group. The centroid c_k
// of a group is the mean of its members' importance vectors (a group with
// no member has a zero centroid); the threshold and the keep rule
// (opt.Rule) are Step's. opt.Seed, Restarts, MaxIter and Tol are unused,
// and so is opt.Groups: groups is the number of groups. It lets a
// comparison method (random clusters, a fixed partition) share the
// threshold and keep rule with self-grouping, so that only the grouping
// differs.
//
// The Result's Inertia is the within-group sum of squared distances of the
// importance vectors to their centroids. Inputs are not modified. Slice
// lengths that do not match the shape, and labels outside [0, groups),
// panic; a rate outside (0, 100) or groups < 1 is an error.
func StepWithLabels(w []float32, n, c, kk int, mask []float32, rate float64, imp []float32, labels []int, groups int, opt Options) (Result, error) {
	checkLayer("StepWithLabels", len(w), n, c, kk, mask)
	if imp != nil && len(imp) != n*c {
		panic(fmt.Sprintf("selfgroup: StepWithLabels: len(imp)=%d, want n*c=%d*%d", len(imp), n, c))
	}
	if len(labels) != n {
		panic(fmt.Sprintf("selfgroup: StepWithLabels: len(labels)=%d, want n=%d", len(labels), n))
	}
	if !(rate > 0 && rate < 100) {
		return Result{}, fmt.Errorf("selfgroup: rate %g%% outside (0, 100)", rate)
	}
	if groups < 1 {
		return Result{}, fmt.Errorf("selfgroup: %d groups, want at least 1", groups)
	}
	if opt.Rule != FirstMember && opt.Rule != OwnMask {
		return Result{}, fmt.Errorf("selfgroup: unknown keep rule %v", opt.Rule)
	}
	for i, k := range labels {
		if k < 0 || k >= groups {
			panic(fmt.Sprintf("selfgroup: StepWithLabels: labels[%d]=%d outside [0, %d)", i, k, groups))
		}
	}
	if imp == nil {
		imp = Importance(w, n, c, kk, mask)
	}

	// Centroids as member means, summed in float64.
	sum := make([]float64, groups*c)
	size := make([]int, groups)
	for i, k := range labels {
		size[k]++
		for j, v := range imp[i*c : (i+1)*c] {
			sum[k*c+j] += float64(v)
		}
	}
	cent := make([]float32, groups*c)
	for k := range groups {
		if size[k] == 0 {
			continue
		}
		for j := range c {
			cent[k*c+j] = float32(sum[k*c+j] / float64(size[k]))
		}
	}
	var inertia float64
	for i, k := range labels {
		for j, v := range imp[i*c : (i+1)*c] {
			d := float64(v) - float64(cent[k*c+j])
			inertia += d * d
		}
	}
	newMask, tau, pruned := connect(n, c, mask, rate, labels, cent, groups, opt.Rule)
	return Result{NewMask: newMask, Labels: append([]int(nil), labels...), Centroids: cent, Groups: groups,
		Threshold: tau, Pruned: pruned, Inertia: inertia}, nil
}
