package models

import (
	"math"
	"math/rand/v2"

	"github.com/sgcnn/sgcnn/nn"
)

// lenet5 is Caffe's LeNet from examples/mnist/lenet_train_test.prototxt:
//
//	conv1 20@5x5 -> max pool 2 -> conv2 50@5x5 -> max pool 2 ->
//	fc1 800->500 -> ReLU -> fc2 500->10
//
// on 1x28x28 inputs. As in Caffe there is no nonlinearity after the convs;
// the only ReLU follows fc1. Every layer has a bias: 431,080 parameters.
// Caffe's "ip1"/"ip2" are called fc1/fc2 here. Weights follow Caffe's
// "xavier" filler (uniform in +-sqrt(3/fan_in)), biases start at zero.
func lenet5(classes int, rng *rand.Rand, _ config) *Model {
	conv1 := nn.NewConv2d("conv1", 1, 20, 5, 1, 0, true, rng)
	conv2 := nn.NewConv2d("conv2", 20, 50, 5, 1, 0, true, rng)
	fc1 := nn.NewLinear("fc1", 50*4*4, 500, true, rng)
	fc2 := nn.NewLinear("fc2", 500, classes, true, rng)
	for _, p := range []*nn.Param{conv1.W, conv2.W, fc1.W, fc2.W} {
		xavier(p, rng)
	}
	for _, p := range []*nn.Param{conv1.B, conv2.B, fc1.B, fc2.B} {
		p.Value.Zero()
	}
	net := nn.NewSequential("lenet5",
		conv1, nn.NewMaxPool2d("pool1", 2, 2, 0),
		conv2, nn.NewMaxPool2d("pool2", 2, 2, 0),
		fc1, nn.NewReLU("relu1"),
		fc2,
	)
	return &Model{
		Net:        net,
		InputShape: [3]int{1, 28, 28},
		Classes:    classes,
		Prunable:   prunableNames(net, func(n string) bool { return n == "conv1" }),
	}
}

// xavier redraws w uniformly in +-sqrt(3/fan_in), Caffe's XavierFiller
// with its default variance_norm FAN_IN.
func xavier(w *nn.Param, rng *rand.Rand) {
	fanIn := w.Value.Len() / w.Value.Shape[0]
	bound := math.Sqrt(3 / float64(fanIn))
	for i := range w.Value.Data {
		w.Value.Data[i] = float32(bound * (2*rng.Float64() - 1))
	}
}
