package prune

import (
	"math/rand/v2"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/selfgroup"
)

// Random is self-grouping with random filter clusters in place of k-means:
// the filters of a layer are dealt into g = min(Groups, n) clusters of
// near-equal size by a random permutation (RandomLabels), and the centroid
// threshold and keep rule are self-grouping's (selfgroup.StepWithLabels).
// It isolates what the data-dependent grouping contributes.
//
// The clusters are drawn once per layer, from Seed and the layer's name,
// and kept through the schedule. Drawing them anew at every step would
// make the members of a group disagree on what earlier steps kept, and
// under the first-member rule the later groups would then overshoot the
// rate; with fixed clusters, members share their mask row and the pruned
// fraction tracks the rate as closely as self-grouping's.
type Random struct {
	Groups int
	Rule   selfgroup.KeepRule
	Seed   uint64
	// Importance, when set, replaces the L1 importance (e.g. Taylor).
	Importance ImportanceFunc
}

// Prune runs one step on every layer.
func (r *Random) Prune(layers []nn.Prunable, rates []float64, _ int) ([]Layer, error) {
	g := r.Groups
	if g <= 0 {
		g = selfgroup.DefaultGroups
	}
	return EachLayer(layers, rates, r.Importance,
		func(l nn.Prunable, w []float32, n, c, kk int, mask []float32, rate float64, imp []float32) (selfgroup.Result, error) {
			ge := min(g, n)
			labels := RandomLabels(n, ge, layerSeed(r.Seed, l.Name()))
			return selfgroup.StepWithLabels(w, n, c, kk, mask, rate, imp, labels, ge, selfgroup.Options{Rule: r.Rule})
		})
}

// RandomLabels deals n filters into g clusters (1 <= g <= n) at random: a
// permutation drawn from seed puts filter perm[t] in cluster t*g/n, so
// cluster sizes differ by at most one and none is empty. Equal arguments
// give equal labels.
func RandomLabels(n, g int, seed uint64) []int {
	if g < 1 || g > n {
		panic("prune: RandomLabels: want 1 <= g <= n")
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	labels := make([]int, n)
	for t, i := range r.Perm(n) {
		labels[i] = t * g / n
	}
	return labels
}
