package models

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/sgcnn/sgcnn/nn"
)

// resnet50 is torchvision's resnet50 (v1.5: the stride sits on the 3x3
// conv), with torchvision's module and parameter names:
//
//	conv1 7x7/2 64, bn1, relu, maxpool 3x3/2
//	layer1..layer4: 3, 4, 6, 3 bottlenecks of width 64, 128, 256, 512
//	(outputs 4x wider), the first of layer2..4 with stride 2
//	avgpool (global), fc 2048 -> classes
//
// A bottleneck is conv1 1x1, bn1, relu, conv2 3x3, bn2, relu, conv3 1x1,
// bn3, plus the shortcut (layerX.0.downsample.0/.1: 1x1 conv and BN in the
// first block of each stage), then relu. Convs are initialised He-normal
// with fan_out, as torchvision does; BN starts at weight 1, bias 0.
func resnet50(classes int, rng *rand.Rand, _ config) *Model {
	conv1 := nn.NewConv2d("conv1", 3, 64, 7, 2, 3, false, rng)
	heNormal(conv1.W, true, rng)
	layers := []nn.Layer{
		conv1, nn.NewBatchNorm2d("bn1", 64), nn.NewReLU("relu"),
		nn.NewMaxPool2d("maxpool", 3, 2, 1),
	}
	in := 64
	for s, blocks := range []int{3, 4, 6, 3} {
		planes := 64 << s
		for i := range blocks {
			stride := 1
			if s > 0 && i == 0 {
				stride = 2
			}
			name := fmt.Sprintf("layer%d.%d", s+1, i)
			layers = append(layers, bottleneck(name, in, planes, stride, rng))
			in = planes * 4
		}
	}
	layers = append(layers, nn.NewGlobalAvgPool("avgpool"), nn.NewLinear("fc", 2048, classes, true, rng))
	net := nn.NewSequential("resnet50", layers...)
	return &Model{
		Net:        net,
		InputShape: [3]int{3, 224, 224},
		Classes:    classes,
		Prunable: prunableNames(net, func(name string) bool {
			return name == "conv1" || strings.Contains(name, ".downsample.")
		}),
	}
}

// bottleneck is one torchvision Bottleneck block named name ("layer1.0").
func bottleneck(name string, in, planes, stride int, rng *rand.Rand) nn.Layer {
	out := planes * 4
	conv1 := nn.NewConv2d(name+".conv1", in, planes, 1, 1, 0, false, rng)
	conv2 := nn.NewConv2d(name+".conv2", planes, planes, 3, stride, 1, false, rng)
	conv3 := nn.NewConv2d(name+".conv3", planes, out, 1, 1, 0, false, rng)
	for _, c := range []*nn.Conv2d{conv1, conv2, conv3} {
		heNormal(c.W, true, rng)
	}
	body := nn.NewSequential(name+".body",
		conv1, nn.NewBatchNorm2d(name+".bn1", planes), nn.NewReLU(name+".relu1"),
		conv2, nn.NewBatchNorm2d(name+".bn2", planes), nn.NewReLU(name+".relu2"),
		conv3, nn.NewBatchNorm2d(name+".bn3", out),
	)
	var shortcut nn.Layer // nil: identity
	if stride != 1 || in != out {
		ds := nn.NewConv2d(name+".downsample.0", in, out, 1, stride, 0, false, rng)
		heNormal(ds.W, true, rng)
		shortcut = nn.NewSequential(name+".downsample", ds, nn.NewBatchNorm2d(name+".downsample.1", out))
	}
	return nn.NewSequential(name,
		nn.NewResidual(name+".add", body, shortcut),
		nn.NewReLU(name+".relu3"),
	)
}
