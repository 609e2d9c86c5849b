package compile_test

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/tensor"
)

// TestThreadsPerNetwork compiles one pruned ResNet-20 twice in one
// process, on 1 and on 3 threads (Options.Threads), with the program's
// default set to 2, runs both at the same time, and checks that every
// output equals the single-thread reference computed alone and that each
// network ran on its own count, not the other's or the default.
func TestThreadsPerNetwork(t *testing.T) {
	defer parallel.SetThreads(parallel.Threads())
	parallel.SetThreads(2)
	m, err := models.New("resnet20", 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(8, 9))
	randomizeBN(m.Net, r)
	pruneModel(t, m, 70, 5)
	const batch = 6 // three micro-batches of 2: enough work for 3 goroutines
	opt := compile.Options{Route: compile.Grouped, Micro: 2, Threads: 1}
	ref, err := compile.Compile(m.Net, m.InputShape[:], opt)
	if err != nil {
		t.Fatal(err)
	}
	x := randInput(r, batch, m.InputShape)
	want, err := ref.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	want = want.Clone()
	nets := make([]*compile.Net, 2)
	for i, th := range []int{1, 3} {
		o := opt
		o.Threads = th
		if nets[i], err = compile.Compile(m.Net, m.InputShape[:], o); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]float64, len(nets))
	for i, n := range nets {
		xi := x.Clone()
		wg.Go(func() {
			for range 20 {
				got, err := n.Forward(xi)
				if err != nil {
					errs[i] = math.Inf(1)
					return
				}
				errs[i] = math.Max(errs[i], maxRelErr(got, want))
			}
		})
	}
	wg.Wait()
	for i, th := range []int{1, 3} {
		if errs[i] > 1e-6 || math.IsNaN(errs[i]) {
			t.Errorf("network on %d threads: relative error %.3g against the single-thread reference", th, errs[i])
		}
		if p := compile.Peak(nets[i]); p != th {
			t.Errorf("network compiled for %d threads ran loops on up to %d goroutines", th, p)
		}
	}
}

// maxRelErr is relErr that is +Inf for a tensor of the wrong shape.
func maxRelErr(got, want *tensor.Tensor) float64 {
	if !tensor.SameShape(got.Shape, want.Shape) {
		return math.Inf(1)
	}
	return relErr(got.Data, want.Data)
}
