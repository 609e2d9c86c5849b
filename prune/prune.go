package prune

import (
	"fmt"
	"hash/fnv"

	"github.com/sgcnn/sgcnn/internal/maskgroup"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/selfgroup"
)

// Pruner prunes the given layers to the given cumulative rates (percent,
// one per layer) at pruning step step (0-based). It installs the new masks
// with SetMask (Install) and returns a record per layer, in layer order.
type Pruner interface {
	Prune(layers []nn.Prunable, rates []float64, step int) ([]Layer, error)
}

// Layer is one layer's record of a pruning step: what was asked, what the
// new mask prunes, and the grouping behind it.
type Layer struct {
	Name     string
	Rate     float64 // rate applied, percent
	Pruned   float64 // pruned fraction of the N*C connections
	Groups   int     // groups the method used this step
	Patterns int     // distinct input patterns (mask rows) among live filters
	Dead     int     // filters with no input left
	// Labels[i] is filter i's group and Mask the N x C connection mask
	// the step installed.
	Labels []int
	Mask   []float32
	N, C   int
}

// ImportanceFunc returns data-driven importance vectors per layer (n*c
// values each, laid out as in package selfgroup), e.g. TaylorImportance's.
type ImportanceFunc = func(layers []nn.Prunable) ([][]float32, error)

// LayerStep prunes one layer: w holds its n*c*kk weights, mask its current
// mask (nil: dense), rate its cumulative rate (percent) and imp its
// data-driven importance (nil: none given; the step then uses the L1 norms
// of the masked weights where it needs one).
type LayerStep func(l nn.Prunable, w []float32, n, c, kk int, mask []float32, rate float64, imp []float32) (selfgroup.Result, error)

// EachLayer runs step on every layer at its rate, with the importance of
// scores (nil: none), installs the new masks and returns the records: the
// loop every method of this package shares.
func EachLayer(layers []nn.Prunable, rates []float64, scores ImportanceFunc, step LayerStep) ([]Layer, error) {
	if len(rates) != len(layers) {
		return nil, fmt.Errorf("prune: %d rates for %d layers", len(rates), len(layers))
	}
	var imps [][]float32
	if scores != nil {
		var err error
		if imps, err = scores(layers); err != nil {
			return nil, err
		}
		if len(imps) != len(layers) {
			return nil, fmt.Errorf("prune: importance for %d layers, want %d", len(imps), len(layers))
		}
	}
	out := make([]Layer, len(layers))
	for li, l := range layers {
		n, c := l.MaskShape()
		w := l.Weight().Value.Data
		var imp []float32
		if imps != nil {
			imp = imps[li]
		}
		res, err := step(l, w, n, c, len(w)/(n*c), l.Mask(), rates[li], imp)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.Name(), err)
		}
		if out[li], err = Install(l, res, rates[li]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Install puts the new mask of one pruning step at rate into l and returns
// the layer's record. Every method ends its per-layer work with it.
func Install(l nn.Prunable, res selfgroup.Result, rate float64) (Layer, error) {
	if err := l.SetMask(res.NewMask); err != nil {
		return Layer{}, fmt.Errorf("layer %s: %w", l.Name(), err)
	}
	n, c := l.MaskShape()
	groups, dead := maskgroup.Of(res.NewMask, n, c)
	return Layer{Name: l.Name(), Rate: rate, Pruned: res.Pruned, Groups: res.Groups,
		Patterns: len(groups), Dead: len(dead), Labels: res.Labels, Mask: res.NewMask, N: n, C: c}, nil
}

// SelfGrouping is the paper's method (package selfgroup): importance
// vectors, k-means groups, centroid threshold, group connectivity. Its
// k-means seed differs per layer and per step, derived from Seed.
type SelfGrouping struct {
	Groups int // g; 0: selfgroup.DefaultGroups
	Rule   selfgroup.KeepRule
	Seed   uint64
	// Importance, when set, replaces the L1 importance (e.g. Taylor).
	Importance ImportanceFunc
}

// Prune runs one self-grouping step on every layer.
func (s *SelfGrouping) Prune(layers []nn.Prunable, rates []float64, step int) ([]Layer, error) {
	return EachLayer(layers, rates, s.Importance,
		func(l nn.Prunable, w []float32, n, c, kk int, mask []float32, rate float64, imp []float32) (selfgroup.Result, error) {
			return selfgroup.Step(w, n, c, kk, mask, rate, imp,
				selfgroup.Options{Groups: s.Groups, Rule: s.Rule, Seed: stepSeed(s.Seed, l.Name(), step)})
		})
}

// Once prunes every prunable layer of m in one step of p (step 0) at rate
// (percent): conv layers at rate, fully connected ones at min(rate,
// fcCap), as selfgroup.LayerRate caps them (fcCap >= 100 caps nothing). It
// is the one-shot pruning of benchmarks and tests, without fine-tuning.
func Once(m *models.Model, rate, fcCap float64, p Pruner) ([]Layer, error) {
	if !(rate > 0 && rate < 100) {
		return nil, fmt.Errorf("prune: rate %g%% outside (0, 100)", rate)
	}
	if !(fcCap > 0) {
		return nil, fmt.Errorf("prune: FC cap %g%%: want a positive rate", fcCap)
	}
	layers := m.PrunableLayers()
	rates := make([]float64, len(layers))
	for i, l := range layers {
		_, fc := l.(*nn.Linear)
		rates[i] = selfgroup.LayerRate(rate, fcCap, fc)
	}
	return p.Prune(layers, rates, 0)
}

// stepSeed derives a per-layer, per-step k-means seed from the run seed.
func stepSeed(seed uint64, name string, step int) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%d", seed, name, step)
	return h.Sum64()
}

// layerSeed derives a per-layer seed from the run seed (the same for
// every step of the schedule).
func layerSeed(seed uint64, name string) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", seed, name)
	return h.Sum64()
}

// checkRate returns an error for a rate outside (0, 100).
func checkRate(rate float64) error {
	if !(rate > 0 && rate < 100) {
		return fmt.Errorf("prune: rate %g%% outside (0, 100)", rate)
	}
	return nil
}

// importance returns imp, or the L1 importance of the masked weights when
// imp is nil.
func importance(w []float32, n, c, kk int, mask, imp []float32) []float32 {
	if imp != nil {
		return imp
	}
	return selfgroup.Importance(w, n, c, kk, mask)
}
