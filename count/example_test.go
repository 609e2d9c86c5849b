package count_test

import (
	"fmt"

	"github.com/sgcnn/sgcnn/count"
	"github.com/sgcnn/sgcnn/models"
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
