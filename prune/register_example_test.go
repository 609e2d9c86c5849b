package prune_test

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/prune"
	"github.com/sgcnn/sgcnn/selfgroup"
)

// magnitude is a method of our own: each layer keeps its connections with
// the largest L1 norms, whatever their filters, with no groups.
type magnitude struct{}

func (magnitude) Prune(layers []nn.Prunable, rates []float64, _ int) ([]prune.Layer, error) {
	return prune.EachLayer(layers, rates, nil,
		func(_ nn.Prunable, w []float32, n, c, kk int, mask []float32, rate float64, _ []float32) (selfgroup.Result, error) {
			imp := selfgroup.Importance(w, n, c, kk, mask) // zero where masked: those go first
			order := make([]int, n*c)
			for i := range order {
				order[i] = i
			}
			slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(imp[a], imp[b]) })
			drop := int(math.Round(rate / 100 * float64(n*c)))
			newMask := make([]float32, n*c)
			for _, ij := range order[drop:] {
				newMask[ij] = 1
			}
			return selfgroup.Result{NewMask: newMask, Labels: make([]int, n), Groups: 1,
				Pruned: float64(drop) / float64(n*c)}, nil
		})
}

func init() {
	prune.Register(prune.Method{Name: "magnitude", Summary: "the connections of largest L1 norm, layer by layer",
		New: func(prune.Options) (prune.Pruner, error) { return magnitude{}, nil }})
}

// A method registered by a program (in an init function, as database/sql
// drivers are) is looked up and built by name like the built-ins, and
// prunes a LeNet-5 in one step: conv layers at 70%, FC layers at the FC cap
// of 40% (conv1, with one input channel, is not among LeNet-5's prunable
// layers).
func ExampleRegister() {
	fmt.Println(prune.Names())
	if _, err := prune.Lookup("magnitude"); err != nil {
		panic(err)
	}
	p, err := prune.New("magnitude", prune.Options{})
	if err != nil {
		panic(err)
	}
	m, err := models.New("lenet5", 10, 1)
	if err != nil {
		panic(err)
	}
	recs, err := prune.Once(m, 70, 40, p)
	if err != nil {
		panic(err)
	}
	for _, r := range recs {
		fmt.Printf("%s %dx%d: rate %g%%, pruned %.3f\n", r.Name, r.N, r.C, r.Rate, r.Pruned)
	}
	// Output:
	// [self-grouping taylor regular random l1filter magnitude]
	// conv2 50x20: rate 70%, pruned 0.700
	// fc1 500x800: rate 40%, pruned 0.400
	// fc2 10x500: rate 40%, pruned 0.400
}
