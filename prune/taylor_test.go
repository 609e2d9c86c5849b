package prune

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// TestTaylorImportance checks TaylorImportance on a pruned LeNet-5 against
// central finite differences of the loss: connection (i, j) of a layer
// must score the sum over its kernel positions t and over the first nb
// batches b of |w_t * dL_b/dw_t|, and zero where the mask has pruned it. The batches
// after the first nb must not count.
func TestTaylorImportance(t *testing.T) {
	m := lenet(t)
	if _, err := Once(m, 50, 50, &SelfGrouping{Seed: 3}); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(4, 4))
	type batch struct {
		x *tensor.Tensor
		y []int
	}
	batches := make([]batch, 3)
	for i := range batches {
		x := tensor.New(2, 1, 28, 28)
		for k := range x.Data {
			x.Data[k] = float32(r.NormFloat64())
		}
		batches[i] = batch{x, []int{r.IntN(10), r.IntN(10)}}
	}
	const nb = 2
	data := func(yield func(*tensor.Tensor, []int) bool) error {
		for _, b := range batches {
			if !yield(b.x, b.y) {
				return nil
			}
		}
		return nil
	}
	layers := m.PrunableLayers()
	got, err := TaylorImportance(m.Net, data, nb)(layers)
	if err != nil {
		t.Fatal(err)
	}
	ctx := nn.NewCtx(false)
	loss := func(b batch) float64 {
		logits, err := m.Net.Forward(ctx, b.x)
		if err != nil {
			t.Fatal(err)
		}
		l, _, err := nn.SoftmaxCrossEntropy(logits, b.y, nil)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	const h = 1e-3
	for li, l := range layers {
		n, c := l.MaskShape()
		w := l.Weight().Value.Data
		kk := len(w) / (n * c)
		mask := l.Mask()
		step := 1 // every connection of the small layers, a sample of the large
		if n*c > 500 {
			step = n*c/150 + 1
		}
		var top float64
		for _, v := range got[li] {
			top = max(top, float64(v))
		}
		for ij := 0; ij < n*c; ij += step {
			var want float64
			if mask[ij] != 0 {
				for _, b := range batches[:nb] {
					for t := range kk {
						wt := &w[ij*kk+t]
						orig := *wt
						*wt = orig + h
						up := loss(b)
						*wt = orig - h
						down := loss(b)
						*wt = orig
						want += math.Abs(float64(orig) * (up - down) / (2 * h))
					}
				}
			}
			if d := math.Abs(float64(got[li][ij]) - want); d > 0.03*want+1e-3*top {
				t.Errorf("%s connection %d (mask %g): taylor importance %.6g, finite differences %.6g",
					l.Name(), ij, mask[ij], got[li][ij], want)
			}
		}
	}
	for _, l := range layers {
		for _, g := range l.Weight().Grad.Data {
			if g != 0 {
				t.Fatalf("%s: gradients left after the importance", l.Name())
			}
		}
	}
}
