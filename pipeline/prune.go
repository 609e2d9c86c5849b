package pipeline

import (
	"fmt"
	"hash/fnv"

	"github.com/sgcnn/sgcnn/internal/maskgroup"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/selfgroup"
	"github.com/sgcnn/sgcnn/tensor"
	"github.com/sgcnn/sgcnn/train"
)

// Pruner prunes the given layers to the given cumulative rates (percent,
// one per layer) at pruning step step (0-based). It installs the new masks
// with SetMask and returns a record per layer.
type Pruner interface {
	Prune(layers []nn.Prunable, rates []float64, step int) ([]report.Layer, error)
}

// SelfGrouping is the paper's method: importance vectors, k-means groups,
// centroid threshold, group connectivity.
type SelfGrouping struct {
	Groups int
	Rule   selfgroup.KeepRule
	Seed   uint64
	// Importance, when set, returns data-driven importance vectors per
	// layer (n*c values each, e.g. Taylor); nil means L1 of the weights.
	Importance func(layers []nn.Prunable) ([][]float32, error)
}

// layerSeed derives a per-layer, per-step k-means seed from the run seed.
func layerSeed(seed uint64, name string, step int) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%d", seed, name, step)
	return h.Sum64()
}

// Prune runs one self-grouping step on every layer.
func (s *SelfGrouping) Prune(layers []nn.Prunable, rates []float64, step int) ([]report.Layer, error) {
	var imps [][]float32
	if s.Importance != nil {
		var err error
		if imps, err = s.Importance(layers); err != nil {
			return nil, err
		}
	}
	out := make([]report.Layer, len(layers))
	for li, l := range layers {
		n, c := l.MaskShape()
		w := l.Weight().Value.Data
		var imp []float32
		if imps != nil {
			imp = imps[li]
		}
		res, err := selfgroup.Step(w, n, c, len(w)/(n*c), l.Mask(), rates[li], imp,
			selfgroup.Options{Groups: s.Groups, Rule: s.Rule, Seed: layerSeed(s.Seed, l.Name(), step)})
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
// the layer's record for the report. Every Pruner ends its per-layer work
// with it.
func Install(l nn.Prunable, res selfgroup.Result, rate float64) (report.Layer, error) {
	if err := l.SetMask(res.NewMask); err != nil {
		return report.Layer{}, err
	}
	n, c := l.MaskShape()
	_, dead := maskgroup.Of(res.NewMask, n, c)
	return report.Layer{Name: l.Name(), Rate: rate, Pruned: res.Pruned, Groups: res.Groups,
		Patterns: selfgroup.Patterns(res.NewMask, n, c), Dead: len(dead),
		Labels: res.Labels, Mask: res.NewMask, N: n, C: c}, nil
}

// TaylorImportance returns an importance function that sums
// |w * dL/dw| over the kernel positions and over batches of src (first
// nb batches of epoch 0), the first-order Taylor estimate of each
// connection's effect on the loss. BN layers run in evaluation mode, so
// running statistics do not move.
func TaylorImportance(net nn.Layer, src train.Source, nb int) func([]nn.Prunable) ([][]float32, error) {
	return func(layers []nn.Prunable) ([][]float32, error) {
		acc := make([][]float32, len(layers))
		for i, l := range layers {
			n, c := l.MaskShape()
			acc[i] = make([]float32, n*c)
		}
		ctx := nn.NewCtx(false)
		var grad *tensor.Tensor
		done := 0
		var ferr error
		err := src(0, func(b train.Batch) bool {
			nn.ZeroGrad(net)
			logits, err := net.Forward(ctx, b.X)
			if err != nil {
				ferr = err
				return false
			}
			_, grad, err = nn.SoftmaxCrossEntropy(logits, b.Y, grad)
			if err != nil {
				ferr = err
				return false
			}
			if _, err := net.Backward(ctx, grad); err != nil {
				ferr = err
				return false
			}
			for i, l := range layers {
				n, c := l.MaskShape()
				w := l.Weight()
				imp := selfgroup.TaylorImportance(w.Value.Data, w.Grad.Data, n, c, len(w.Value.Data)/(n*c), l.Mask())
				for j, v := range imp {
					acc[i][j] += v
				}
			}
			done++
			return done < nb
		})
		nn.ZeroGrad(net)
		if ferr != nil {
			return nil, fmt.Errorf("taylor importance: %w", ferr)
		}
		if err != nil {
			return nil, fmt.Errorf("taylor importance: %w", err)
		}
		return acc, nil
	}
}
