package prune

import (
	"fmt"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/selfgroup"
	"github.com/sgcnn/sgcnn/tensor"
)

// Batches yields labelled batches (images x, class labels y) until yield
// returns false or the data ends; an error ends it early. A training set
// (train.Source at some epoch) adapts to it in one line.
type Batches func(yield func(x *tensor.Tensor, y []int) bool) error

// TaylorImportance returns an importance function that sums |w * dL/dw|
// (selfgroup.TaylorImportance) over the kernel positions and over the
// first nb batches of data, the first-order Taylor estimate of each
// connection's effect on the loss (softmax cross-entropy). It runs net in
// evaluation mode, so batch-norm statistics do not move, and leaves its
// gradients zeroed.
func TaylorImportance(net nn.Layer, data Batches, nb int) ImportanceFunc {
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
		err := data(func(x *tensor.Tensor, y []int) bool {
			nn.ZeroGrad(net)
			logits, err := net.Forward(ctx, x)
			if err != nil {
				ferr = err
				return false
			}
			if _, grad, err = nn.SoftmaxCrossEntropy(logits, y, grad); err != nil {
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
		if ferr == nil {
			ferr = err
		}
		if ferr != nil {
			return nil, fmt.Errorf("taylor importance: %w", ferr)
		}
		return acc, nil
	}
}
