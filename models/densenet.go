package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/sgcnn/sgcnn/nn"
)

// denseSpec describes a DenseNet.
type denseSpec struct {
	arch         string
	input        [3]int
	imagenetStem bool  // 7x7/2 conv0 + norm0 + relu0 + 3x3/2 max pool0; else a 3x3/1 conv0
	stem         int   // conv0's filters
	growth       int   // k
	blocks       []int // dense layers per block
	bottleneck   bool  // BC: 1x1 conv to 4k before the 3x3 conv
	compression  float64
}

// densenet201 is torchvision's densenet201: k = 32, blocks 6/12/48/32,
// bottleneck 4k, compression 0.5, 64-filter 7x7/2 stem and max pool, on
// 224x224 inputs.
func densenet201(classes int, rng *rand.Rand, _ config) *Model {
	return denseNet(denseSpec{arch: "densenet201", input: [3]int{3, 224, 224}, imagenetStem: true,
		stem: 64, growth: 32, blocks: []int{6, 12, 48, 32}, bottleneck: true, compression: 0.5}, classes, rng)
}

// densenet121CIFAR is DenseNet-121 (k = 32) for 32x32 inputs, as in the
// paper's CIFAR experiments and kuangliu's pytorch-cifar: blocks 6/12/24/16,
// bottleneck 4k, compression 0.5, and a 3x3 stride-1 stem conv with 2k = 64
// filters and no pooling, so the blocks run at 32, 16, 8 and 4 pixels.
func densenet121CIFAR(classes int, rng *rand.Rand, _ config) *Model {
	return denseNet(denseSpec{arch: "densenet121", input: [3]int{3, 32, 32},
		stem: 64, growth: 32, blocks: []int{6, 12, 24, 16}, bottleneck: true, compression: 0.5}, classes, rng)
}

// densenet40 is Huang et al.'s DenseNet (L = 40, k = 12) for CIFAR: no
// bottleneck and no compression (BC = false), a 3x3 stem conv with 16
// filters, three blocks of 12 layers each made of BN-ReLU-Conv3x3 (named
// norm1, relu1, conv1), and transitions BN-ReLU-Conv1x1-AvgPool2:
// 1,019,722 parameters for 10 classes. The 16-filter stem is the original
// code's (and network slimming's, 1.02M); some PyTorch ports use 2k = 24
// filters there for every DenseNet, which gives 1.06M.
func densenet40(classes int, rng *rand.Rand, _ config) *Model {
	return denseNet(denseSpec{arch: "densenet40", input: [3]int{3, 32, 32},
		stem: 16, growth: 12, blocks: []int{12, 12, 12}, compression: 1}, classes, rng)
}

// denseNet builds a DenseNet with torchvision's names:
//
//	features.conv0 [, features.norm0, features.relu0, features.pool0]
//	features.denseblockB.denselayerL.{norm1, relu1, conv1, norm2, relu2, conv2}
//	features.transitionB.{norm, relu, conv, pool}
//	features.norm5, relu, avgpool (global), classifier
//
// Each dense layer is a DenseConcat: its output is its input with the k new
// channels appended. Convs are initialised He-normal (fan_in) and the
// classifier's bias to zero, as torchvision does.
func denseNet(s denseSpec, classes int, rng *rand.Rand) *Model {
	conv := func(name string, in, out, k, stride, pad int) *nn.Conv2d {
		c := nn.NewConv2d(name, in, out, k, stride, pad, false, rng)
		heNormal(c.W, false, rng)
		return c
	}
	var feats []nn.Layer
	if s.imagenetStem {
		feats = append(feats, conv("features.conv0", s.input[0], s.stem, 7, 2, 3),
			nn.NewBatchNorm2d("features.norm0", s.stem), nn.NewReLU("features.relu0"),
			nn.NewMaxPool2d("features.pool0", 3, 2, 1))
	} else {
		feats = append(feats, conv("features.conv0", s.input[0], s.stem, 3, 1, 1))
	}
	c := s.stem
	for b, n := range s.blocks {
		block := fmt.Sprintf("features.denseblock%d", b+1)
		var layers []nn.Layer
		for l := range n {
			name := fmt.Sprintf("%s.denselayer%d", block, l+1)
			var body []nn.Layer
			if s.bottleneck {
				w := 4 * s.growth
				body = []nn.Layer{
					nn.NewBatchNorm2d(name+".norm1", c), nn.NewReLU(name + ".relu1"), conv(name+".conv1", c, w, 1, 1, 0),
					nn.NewBatchNorm2d(name+".norm2", w), nn.NewReLU(name + ".relu2"), conv(name+".conv2", w, s.growth, 3, 1, 1),
				}
			} else {
				body = []nn.Layer{
					nn.NewBatchNorm2d(name+".norm1", c), nn.NewReLU(name + ".relu1"), conv(name+".conv1", c, s.growth, 3, 1, 1),
				}
			}
			layers = append(layers, nn.NewDenseConcat(name, nn.NewSequential(name+".body", body...)))
			c += s.growth
		}
		feats = append(feats, nn.NewSequential(block, layers...))
		if b == len(s.blocks)-1 {
			break
		}
		name := fmt.Sprintf("features.transition%d", b+1)
		out := int(float64(c) * s.compression)
		feats = append(feats, nn.NewSequential(name,
			nn.NewBatchNorm2d(name+".norm", c), nn.NewReLU(name+".relu"),
			conv(name+".conv", c, out, 1, 1, 0), nn.NewAvgPool2d(name+".pool", 2, 2, 0)))
		c = out
	}
	feats = append(feats, nn.NewBatchNorm2d("features.norm5", c))
	classifier := nn.NewLinear("classifier", c, classes, true, rng)
	classifier.B.Value.Zero()
	net := nn.NewSequential(s.arch,
		nn.NewSequential("features", feats...),
		nn.NewReLU("relu"), nn.NewGlobalAvgPool("avgpool"), classifier,
	)
	return &Model{
		Net:        net,
		InputShape: s.input,
		Classes:    classes,
		Prunable:   prunableNames(net, func(n string) bool { return n == "features.conv0" }),
	}
}
