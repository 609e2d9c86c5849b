package selfgroup_test

import (
	"fmt"

	"github.com/sgcnn/sgcnn/selfgroup"
)

// Prune a small 1x1 conv layer of 8 filters over 6 input channels to 50%
// with 2 groups: filters 0-3 rely on channels 0-2, filters 4-7 on 3-5. The
// 48 values c_{pi(i)}[j] are 24 weak 0.1s and 24 strong ones from 1 up, so
// the 50th percentile falls halfway between: (0.1+1)/2 = 0.55.
func ExampleStep() {
	n, c := 8, 6
	w := make([]float32, n*c)
	for i := range n {
		for j := range c {
			w[i*c+j] = 0.1 // weak connection
			if (i < 4) == (j < 3) {
				w[i*c+j] = 1 + 0.1*float32(j) // strong one
			}
		}
	}
	res, err := selfgroup.Step(w, n, c, 1, nil, 50, nil, selfgroup.Options{Groups: 2, Seed: 1})
	if err != nil {
		panic(err)
	}
	fmt.Printf("threshold %.2f, pruned %.0f%%\n", res.Threshold, 100*res.Pruned)
	// The filters of each group, in order of their first filter, and the
	// input channels the group's first filter still reads.
	var order []int
	members := map[int][]int{}
	for i, k := range res.Labels {
		if members[k] == nil {
			order = append(order, k)
		}
		members[k] = append(members[k], i)
	}
	for _, k := range order {
		g := members[k]
		fmt.Println("filters", g, "read", res.NewMask[g[0]*c:(g[0]+1)*c])
	}
	fmt.Println("patterns", selfgroup.Patterns(res.NewMask, n, c))
	// Output:
	// threshold 0.55, pruned 50%
	// filters [0 1 2 3] read [1 1 1 0 0 0]
	// filters [4 5 6 7] read [0 0 0 1 1 1]
	// patterns 2
}

func ExampleRates() {
	for _, p := range must(selfgroup.Rates(10, 70)) {
		fmt.Print(p, "/", selfgroup.LayerRate(p, selfgroup.DefaultFCCap, true), " ")
	}
	fmt.Println()
	// Output: 10/10 20/20 30/30 40/40 50/50 60/60 70/60
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
