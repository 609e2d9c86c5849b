package swa

import (
	"errors"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/train"
)

// UpdateBN re-estimates the running mean and variance of every
// BatchNorm2d in net from the batches: it resets them (mean 0, variance
// 1), runs net forward in training mode over every batch, and leaves each
// statistic the plain average over the batches of the batch mean and of
// the unbiased batch variance (PyTorch's update_bn, a cumulative average
// in place of the exponential one). The layers' momentum is restored
// afterwards. Dropout, if any, is active during the pass, as in update_bn.
// It returns the number of images seen.
func UpdateBN(net nn.Layer, batches func(yield func(train.Batch) bool) error) (int, error) {
	bns := BatchNorms(net)
	if len(bns) == 0 {
		return 0, errors.New("swa: the network has no batch-norm layer to update")
	}
	momentum := make([]float64, len(bns))
	for i, bn := range bns {
		momentum[i] = bn.Momentum
		clear(bn.Mean.Value.Data)
		for j := range bn.Var.Value.Data {
			bn.Var.Value.Data[j] = 1
		}
	}
	defer func() {
		for i, bn := range bns {
			bn.Momentum = momentum[i]
		}
	}()
	ctx := nn.NewCtx(true)
	images, k := 0, 0
	var ferr error
	err := batches(func(b train.Batch) bool {
		k++
		for _, bn := range bns {
			bn.Momentum = 1 / float64(k)
		}
		if _, ferr = net.Forward(ctx, b.X); ferr != nil {
			return false
		}
		images += len(b.Y)
		return true
	})
	if ferr != nil {
		return images, ferr
	}
	if err != nil {
		return images, err
	}
	if k == 0 {
		return 0, errors.New("swa: no batches to estimate the batch-norm statistics from")
	}
	return images, nil
}

// BatchNorms lists net's batch-norm layers in forward order: the layers
// UpdateBN re-estimates.
func BatchNorms(net nn.Layer) []*nn.BatchNorm2d {
	var bns []*nn.BatchNorm2d
	nn.Walk(net, func(l nn.Layer) {
		if bn, ok := l.(*nn.BatchNorm2d); ok {
			bns = append(bns, bn)
		}
	})
	return bns
}
