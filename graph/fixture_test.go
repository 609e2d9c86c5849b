package graph

// Comparison of the general conv, the transposed conv and the general
// pools with PyTorch. The reference values in testdata/*.fix come from
// scripts/gen_graph_fixtures.py (torch 1.13, autograd in float64 on
// float32 inputs).

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/nn/nntest"
)

var (
	fwdTol  = nntest.Tol{Rtol: 1e-4, Atol: 1e-5}
	gradTol = nntest.Tol{Rtol: 1e-4, Atol: 5e-5}
)

// fixtureNodes are the cases of scripts/gen_graph_fixtures.py as nodes.
var fixtureNodes = map[string]Node{
	"conv_group2":       {Op: Conv, Attrs: Attrs{Out: 6, Kernel: [2]int{3, 3}, Pads: [4]int{1, 1, 1, 1}, Group: 2, Bias: true}},
	"conv_depthwise_s2": {Op: Conv, Attrs: Attrs{Out: 4, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}, Group: 4}},
	"conv_dilated":      {Op: Conv, Attrs: Attrs{Out: 4, Kernel: [2]int{3, 3}, Pads: [4]int{2, 2, 2, 2}, Dilation: [2]int{2, 2}, Bias: true}},
	"conv_rect_asym":    {Op: Conv, Attrs: Attrs{Out: 4, Kernel: [2]int{1, 3}, Stride: [2]int{2, 1}, Pads: [4]int{0, 1, 1, 0}, Bias: true}},
	"conv_mixed": {Op: Conv, Attrs: Attrs{Out: 6, Kernel: [2]int{3, 2}, Stride: [2]int{1, 2}, Pads: [4]int{1, 0, 2, 1},
		Dilation: [2]int{2, 1}, Group: 2, Bias: true}},
	"convt_s2": {Op: ConvTranspose, Attrs: Attrs{Out: 4, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1},
		OutputPadding: [2]int{1, 1}, Bias: true}},
	"convt_group": {Op: ConvTranspose, Attrs: Attrs{Out: 6, Kernel: [2]int{2, 3}, Stride: [2]int{2, 1}, Pads: [4]int{0, 1, 0, 1},
		Group: 2, Bias: true}},
	"maxpool_ceil":     {Op: MaxPool, Attrs: Attrs{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, CeilMode: true}},
	"maxpool_ceil_pad": {Op: MaxPool, Attrs: Attrs{Kernel: [2]int{3, 2}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}, CeilMode: true}},
	"maxpool_dil":      {Op: MaxPool, Attrs: Attrs{Kernel: [2]int{2, 2}, Stride: [2]int{1, 2}, Pads: [4]int{1, 0, 1, 0}, Dilation: [2]int{2, 2}}},
	"avgpool_nocount":  {Op: AveragePool, Attrs: Attrs{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}},
	"avgpool_ceil_count": {Op: AveragePool, Attrs: Attrs{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1},
		CeilMode: true, CountIncludePad: true}},
	"avgpool_ceil_nocount": {Op: AveragePool, Attrs: Attrs{Kernel: [2]int{2, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1},
		CeilMode: true}},
}

// TestFixtures builds each case's layer as Build does, loads PyTorch's
// parameters, and compares the output, the input gradient and the
// parameter gradients.
func TestFixtures(t *testing.T) {
	for name, nd := range fixtureNodes {
		t.Run(name, func(t *testing.T) {
			f := nntest.LoadFixture(t, filepath.Join("testdata", name+".fix"))
			x := f.Get(t, "x")
			nd.Name = name
			l, err := buildLayer(&nd, x.Shape[1:], rng(1))
			if err != nil {
				t.Fatal(err)
			}
			if _, simple := l.(*nn.MaxPool2d); simple {
				t.Fatalf("case %s runs nn's pool, not the general one", name)
			}
			params := nn.AllParams(l)
			for _, p := range params {
				f.SetParam(t, strings.TrimPrefix(p.Name, name+"."), p.Value)
			}
			if len(params) == 0 && f.Has("weight") {
				t.Fatal("the fixture has weights, the layer none")
			}
			ctx := nn.NewCtx(true)
			y, err := l.Forward(ctx, x.Clone())
			if err != nil {
				t.Fatal(err)
			}
			nntest.Compare(t, "y", y, f.Get(t, "y"), fwdTol)
			dx, err := l.Backward(ctx, f.Get(t, "dy").Clone())
			if err != nil {
				t.Fatal(err)
			}
			nntest.Compare(t, "dx", dx, f.Get(t, "dx"), gradTol)
			for _, p := range params {
				k := strings.TrimPrefix(p.Name, name+".")
				nntest.Compare(t, k+".grad", p.Grad, f.Get(t, k+".grad"), gradTol)
			}
		})
	}
}
