package train

import (
	"fmt"

	"github.com/sgcnn/sgcnn/tensor"
)

// Ensemble returns a teacher (for Distill.Teacher) whose logits are the
// mean of the given teachers' logits on the same batch: an ensemble of
// networks as one teacher. Every teacher must give logits of one shape;
// the result stays valid until the next call. One teacher is returned
// as it is.
func Ensemble(teachers ...func(x *tensor.Tensor) (*tensor.Tensor, error)) func(x *tensor.Tensor) (*tensor.Tensor, error) {
	switch len(teachers) {
	case 0:
		return func(*tensor.Tensor) (*tensor.Tensor, error) { return nil, fmt.Errorf("ensemble: no teachers") }
	case 1:
		return teachers[0]
	}
	var mean *tensor.Tensor
	return func(x *tensor.Tensor) (*tensor.Tensor, error) {
		for i, teach := range teachers {
			t, err := teach(x)
			if err != nil {
				return nil, fmt.Errorf("ensemble teacher %d: %w", i+1, err)
			}
			if i == 0 {
				if mean == nil || !tensor.SameShape(mean.Shape, t.Shape) {
					mean = tensor.New(t.Shape...)
				}
				copy(mean.Data, t.Data)
				continue
			}
			if !tensor.SameShape(mean.Shape, t.Shape) {
				return nil, fmt.Errorf("ensemble teacher %d gives logits %v, teacher 1 gives %v", i+1, t.Shape, mean.Shape)
			}
			for j, v := range t.Data {
				mean.Data[j] += v
			}
		}
		inv := 1 / float32(len(teachers))
		for j := range mean.Data {
			mean.Data[j] *= inv
		}
		return mean, nil
	}
}
