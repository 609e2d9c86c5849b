package onnximport

import (
	"testing"

	"github.com/sgcnn/sgcnn/internal/onnxpb"
)

// TestNodeNames: torch's scoped node names give the PyTorch module names
// (the state_dict prefixes torchvision's models use); weight names win when
// they end in ".weight"; names stay unique.
func TestNodeNames(t *testing.T) {
	im := &importer{names: map[string]bool{}}
	cases := []struct{ node, op, weight, want string }{
		{"/layer1/layer1.0/downsample/downsample.0/Conv", "Conv", "onnx::Conv_497", "layer1.0.downsample.0"},
		{"/features/features.3/block/block.0/block.0.0/Conv", "Conv", "onnx::Conv_12", "features.3.block.0.0"},
		{"/features/denseblock1/denselayer1/conv1/Conv", "Conv", "features.denseblock1.denselayer1.conv1.weight", "features.denseblock1.denselayer1.conv1"},
		{"/layer1/layer1.0/relu/Relu", "Relu", "", "layer1.0.relu.Relu"},
		{"/layer1/layer1.0/relu/Relu", "Relu", "", "layer1.0.relu.Relu_2"},
		{"/Flatten", "Flatten", "", "Flatten"},
		{"", "Gemm", "fc.weight", "fc"},
		{"", "Gemm", "fc.weight", "fc_2"},
		{"", "Add", "", "add"},
		{"Conv_0", "Conv", "W:0", "Conv_0"},
		{"a b/c:d", "Relu", "", "a_b.c_d"},
	}
	for _, c := range cases {
		n := &onnxpb.NodeProto{Name: c.node, OpType: c.op}
		if got := im.nodeName(n, c.weight); got != c.want {
			t.Errorf("node %q (%s) with weight %q: named %q, want %q", c.node, c.op, c.weight, got, c.want)
		}
	}
}
