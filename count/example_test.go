package count_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/sgcnn/sgcnn/count"
	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
)

// ResNet-20's baseline as the paper counts it: all masks = 1 on the
// default prunable layers.
func ExampleCount() {
	m, err := models.New("resnet20", 10, 1)
	if err != nil {
		panic(err)
	}
	base, err := count.Count(m.Net, m.InputShape, m.Prunable...)
	if err != nil {
		panic(err)
	}
	fmt.Println(base.Params, base.FLOPs)
	fmt.Println(base.Totals)

	// Prune half the connections of every prunable conv.
	for _, p := range m.PrunableLayers() {
		n, c := p.MaskShape()
		if len(p.Weight().Value.Shape) != 4 {
			continue
		}
		mask := make([]float32, n*c)
		for i := range mask {
			mask[i] = float32((i/c + i) % 2)
		}
		if err := p.SetMask(mask); err != nil {
			panic(err)
		}
	}
	pruned, err := count.Count(m.Net, m.InputShape, m.Prunable...)
	if err != nil {
		panic(err)
	}
	fmt.Println(pruned.Totals)
	fmt.Printf("%.2fx fewer params, %.2fx fewer FLOPs\n",
		count.CompressionRatio(base.Totals, pruned.Totals), count.FLOPsReduction(base.Totals, pruned.Totals))
	// Output:
	// 269690 40551722
	// 269.69K params, 40.55M FLOPs
	// 136.06K params, 20.50M FLOPs
	// 1.98x fewer params, 1.98x fewer FLOPs
}

// The per-layer table of LeNet-5; "*" marks layers counted with the masked
// rule (here all-ones masks on the default prunable layers).
func ExampleTable_String() {
	m, err := models.New("lenet5", 10, 1)
	if err != nil {
		panic(err)
	}
	tb, err := count.Count(m.Net, m.InputShape, m.Prunable...)
	if err != nil {
		panic(err)
	}
	fmt.Print(tb)
	// Output:
	//   layer     kind     weight    output     live  pruned  params    FLOPs
	//   conv1     conv   20x1x5x5  20x24x24    20/20   0.000     520   288000
	//   conv2    conv*  50x20x5x5    50x8x8    50/50   0.000   25050  1600050
	//   fc1    linear*    500x800       500  500/500   0.000  400500   400500
	//   fc2    linear*     10x500        10    10/10   0.000    5010     5010
	//   total                                                 431080  2293560
}

// A graph with a depthwise-separable block: the depthwise conv is counted
// dense with its 32 groups (32*1*3*3 weights) and marked "conv dw"; the
// pointwise conv and the classifier are prunable, here counted with all
// masks = 1.
func ExampleGraph() {
	rng := rand.New(rand.NewPCG(1, 1))
	node := func(name string, op graph.Op, a graph.Attrs, l nn.Layer, in string) *graph.Node {
		return &graph.Node{Name: name, Op: op, Inputs: []string{in}, Outputs: []string{name}, Attrs: a, Layer: l}
	}
	g := &graph.Graph{Input: "x", InputShape: []int{32, 8, 8}, Output: "fc", Nodes: []*graph.Node{
		node("dw", graph.Conv, graph.Attrs{Out: 32, Kernel: [2]int{3, 3}, Pads: [4]int{1, 1, 1, 1}, Group: 32}, nil, "x"),
		node("pw", graph.Conv, graph.Attrs{Out: 64, Kernel: [2]int{1, 1}}, nn.NewConv2d("pw", 32, 64, 1, 1, 0, false, rng), "dw"),
		node("relu", graph.Relu, graph.Attrs{}, nil, "pw"),
		node("pool", graph.GlobalAveragePool, graph.Attrs{}, nil, "relu"),
		node("fc", graph.Gemm, graph.Attrs{Out: 10, Bias: true}, nn.NewLinear("fc", 64, 10, true, rng), "pool"),
	}}
	if err := g.Infer(); err != nil {
		panic(err)
	}
	tb, err := count.Graph(g, "pw", "fc")
	if err != nil {
		panic(err)
	}
	fmt.Print(tb)
	// Output:
	// layer     kind     weight  output   live  pruned  params   FLOPs
	//   dw     conv dw   32x1x3x3  32x8x8  32/32   0.000     288   18432
	//   pw       conv*  64x32x1x1  64x8x8  64/64   0.000    2048  131136
	//   fc     linear*      10x64      10  10/10   0.000     650     650
	//   total                                               2986  150218
	// g=G: grouped conv, dw: depthwise conv; self-grouping leaves them dense, and they are counted dense
}
