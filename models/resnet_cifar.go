package models

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/sgcnn/sgcnn/nn"
)

// cifarResNet returns the builder of He et al.'s CIFAR ResNet with n basic
// blocks per stage (depth 6n+2), in the layout of akamaster's
// pytorch_resnet_cifar10 (shared/models/cifar10/SOURCES.md):
//
//	conv1 3x3 16, bn1, relu
//	layer1: n blocks of 16 channels at 32x32
//	layer2: n blocks of 32 channels, the first with stride 2
//	layer3: n blocks of 64 channels, the first with stride 2
//	global average pool, linear 64 -> classes
//
// A block is relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)). The
// shortcut is the identity unless the stride or width changes; there it is
// option A (subsample and zero-pad channels, no parameters) or, with
// ShortcutB, a 1x1 conv and a BatchNorm named layerX.0.shortcut.0/.1.
// Convs and the linear layer are initialised He-normal (fan_in), as the
// reference code does.
func cifarResNet(n int) func(int, *rand.Rand, config) *Model {
	return func(classes int, rng *rand.Rand, c config) *Model {
		conv1 := nn.NewConv2d("conv1", 3, 16, 3, 1, 1, false, rng)
		heNormal(conv1.W, false, rng)
		layers := []nn.Layer{conv1, nn.NewBatchNorm2d("bn1", 16), nn.NewReLU("relu")}
		in := 16
		for s, planes := range []int{16, 32, 64} {
			for i := range n {
				stride := 1
				if s > 0 && i == 0 {
					stride = 2
				}
				name := fmt.Sprintf("layer%d.%d", s+1, i)
				layers = append(layers, basicBlock(name, in, planes, stride, c.shortcutB, rng))
				in = planes
			}
		}
		linear := nn.NewLinear("linear", 64, classes, true, rng)
		heNormal(linear.W, false, rng)
		layers = append(layers, nn.NewGlobalAvgPool("avgpool"), linear)
		net := nn.NewSequential(fmt.Sprintf("resnet%d", 6*n+2), layers...)
		return &Model{
			Net:        net,
			InputShape: [3]int{3, 32, 32},
			Classes:    classes,
			Prunable: prunableNames(net, func(name string) bool {
				return name == "conv1" || strings.Contains(name, ".shortcut.")
			}),
		}
	}
}

// basicBlock is one CIFAR ResNet block named name (e.g. "layer2.0").
func basicBlock(name string, in, planes, stride int, optionB bool, rng *rand.Rand) nn.Layer {
	conv1 := nn.NewConv2d(name+".conv1", in, planes, 3, stride, 1, false, rng)
	conv2 := nn.NewConv2d(name+".conv2", planes, planes, 3, 1, 1, false, rng)
	heNormal(conv1.W, false, rng)
	heNormal(conv2.W, false, rng)
	body := nn.NewSequential(name+".body",
		conv1, nn.NewBatchNorm2d(name+".bn1", planes), nn.NewReLU(name+".relu1"),
		conv2, nn.NewBatchNorm2d(name+".bn2", planes),
	)
	var shortcut nn.Layer // nil: identity
	if stride != 1 || in != planes {
		if optionB {
			sc := nn.NewConv2d(name+".shortcut.0", in, planes, 1, stride, 0, false, rng)
			heNormal(sc.W, false, rng)
			shortcut = nn.NewSequential(name+".shortcut", sc, nn.NewBatchNorm2d(name+".shortcut.1", planes))
		} else {
			shortcut = nn.NewShortcutA(name+".shortcut", in, planes, stride)
		}
	}
	return nn.NewSequential(name,
		nn.NewResidual(name+".add", body, shortcut),
		nn.NewReLU(name+".relu2"),
	)
}
