package prune_test

import (
	"fmt"

	"github.com/sgcnn/sgcnn/prune"
)

// Regular group convolution with 2 groups on a 4x4 layer: at rate 50%
// (= 1 - 1/g) the mask is the block diagonal; at 75% each group keeps
// the channel of its block with the larger centroid importance.
func ExampleRegularStep() {
	w := []float32{
		1, 5, 9, 9,
		2, 4, 9, 9,
		9, 9, 3, 1,
		9, 9, 2, 2,
	}
	for _, rate := range []float64{50, 75} {
		res, err := prune.RegularStep(w, 4, 4, 1, nil, rate, nil, 2)
		if err != nil {
			panic(err)
		}
		fmt.Println(rate, res.NewMask)
	}
	// Output:
	// 50 [1 1 0 0 1 1 0 0 0 0 1 1 0 0 1 1]
	// 75 [0 1 0 0 0 1 0 0 0 0 1 0 0 0 1 0]
}

// L1-norm filter pruning removes the filter (mask row) with the smallest
// L1 norm: filter 1, of norm 0.3.
func ExampleL1FilterStep() {
	w := []float32{1, -1, 0.1, 0.2, -2, 0.5}
	res, _ := prune.L1FilterStep(w, 3, 2, 1, nil, 33, false)
	fmt.Println(res.NewMask, res.Pruned)
	// Output: [1 1 0 0 1 1] 0.3333333333333333
}
