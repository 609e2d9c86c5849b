package nn_test

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// threadsNet is a small residual network, the same for the same seed.
func threadsNet(seed uint64) nn.Layer {
	r := rng(seed)
	body := nn.NewSequential("body", nn.NewConv2d("conv", 8, 8, 3, 1, 1, false, r), nn.NewBatchNorm2d("bn", 8), nn.NewReLU("relu"))
	return nn.NewSequential("net", nn.NewResidual("res", body, nil), nn.NewReLU("out"))
}

// TestCtxThreads runs one training step (forward and backward) of two
// copies of a network at the same time, with Ctx.Threads 1 and 3 and the
// program's default at 2, and checks that the outputs and gradients agree
// and that each context's layers ran on its own count.
func TestCtxThreads(t *testing.T) {
	defer parallel.SetThreads(parallel.Threads())
	parallel.SetThreads(2)
	r := rand.New(rand.NewPCG(3, 4))
	x := tensor.New(6, 8, 32, 32) // 49152 floats: 3 chunks of the elementwise loops
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	dy := x.Clone()
	for i := range dy.Data {
		dy.Data[i] = float32(r.NormFloat64())
	}
	threads := []int{1, 3}
	ctxs := make([]*nn.Ctx, len(threads))
	nets := make([]nn.Layer, len(threads))
	outs := make([][2]*tensor.Tensor, len(threads))
	errs := make([]error, len(threads))
	var wg sync.WaitGroup
	for i, th := range threads {
		ctxs[i], nets[i] = &nn.Ctx{Train: true, Threads: th}, threadsNet(7)
		wg.Go(func() {
			y, err := nets[i].Forward(ctxs[i], x.Clone())
			if err != nil {
				errs[i] = err
				return
			}
			y = y.Clone()
			dx, err := nets[i].Backward(ctxs[i], dy.Clone())
			outs[i], errs[i] = [2]*tensor.Tensor{y, dx}, err
		})
	}
	wg.Wait()
	for i, th := range threads {
		if errs[i] != nil {
			t.Fatalf("threads %d: %v", th, errs[i])
		}
		if p := ctxs[i].Pool().Peak(); p != th {
			t.Errorf("Ctx.Threads %d: loops ran on up to %d goroutines", th, p)
		}
	}
	for k, what := range []string{"output", "input gradient"} {
		if d := maxDiff(outs[0][k].Data, outs[1][k].Data); d > 1e-5 {
			t.Errorf("%s differs by %.3g (relative) on 1 and 3 threads", what, d)
		}
	}
	p0, p1 := nn.AllParams(nets[0]), nn.AllParams(nets[1])
	for j := range p0 {
		if d := maxDiff(p0[j].Grad.Data, p1[j].Grad.Data); d > 1e-5 {
			t.Errorf("gradient of %s differs by %.3g (relative) on 1 and 3 threads", p0[j].Name, d)
		}
	}
}

// maxDiff returns max|a-b| / max(max|a|, 1).
func maxDiff(a, b []float32) float64 {
	var d, s float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
		s = math.Max(s, math.Abs(float64(a[i])))
	}
	return d / math.Max(s, 1)
}
