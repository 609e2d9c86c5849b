package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/sgcnn/sgcnn/nn"
)

// vgg16Config is VGG-16's feature layout: conv widths, 0 for a 2x2 max pool.
var vgg16Config = []int{64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0}

// vgg16 is the VGG-16 with BatchNorm most CIFAR work uses (kuangliu's
// pytorch-cifar models/vgg.py, as in the network-slimming and pruning
// literature's baselines), chosen over the ImageNet VGG's three-layer
// classifier because at 32x32 the features end at 1x1x512:
//
//	features: for each width w: Conv2d(in, w, 3, padding 1, bias) ->
//	          BatchNorm2d(w) -> ReLU; for each M: MaxPool2d(2, 2);
//	          then AvgPool2d(1, 1) (a no-op kept so that indices match)
//	classifier: Linear(512, classes)
//
// Layers are named by their index in the features Sequential, as PyTorch
// does: features.0 (conv), features.1 (BN), features.2 (ReLU), features.3
// (conv), ..., features.44 (the final pool), then classifier. 14,728,266
// parameters for 10 classes. Initialisation is PyTorch's default.
func vgg16(classes int, rng *rand.Rand, _ config) *Model {
	var feats []nn.Layer
	in := 3
	name := func() string { return fmt.Sprintf("features.%d", len(feats)) }
	for _, w := range vgg16Config {
		if w == 0 {
			feats = append(feats, nn.NewMaxPool2d(name(), 2, 2, 0))
			continue
		}
		feats = append(feats, nn.NewConv2d(name(), in, w, 3, 1, 1, true, rng))
		feats = append(feats, nn.NewBatchNorm2d(name(), w))
		feats = append(feats, nn.NewReLU(name()))
		in = w
	}
	feats = append(feats, nn.NewAvgPool2d(name(), 1, 1, 0))
	net := nn.NewSequential("vgg16",
		nn.NewSequential("features", feats...),
		nn.NewLinear("classifier", 512, classes, true, rng),
	)
	return &Model{
		Net:        net,
		InputShape: [3]int{3, 32, 32},
		Classes:    classes,
		Prunable:   prunableNames(net, func(n string) bool { return n == "features.0" }),
	}
}
