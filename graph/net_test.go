package graph_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/nn/nntest"
	"github.com/sgcnn/sgcnn/tensor"
)

// pass runs one forward and backward pass of net and returns copies of
// the output, the input gradient and every parameter gradient, restoring
// the BN running statistics afterwards so that a second pass starts from
// the same state.
func pass(t *testing.T, net nn.Layer, train bool, x, dy *tensor.Tensor) (y, dx *tensor.Tensor, grads []*tensor.Tensor) {
	t.Helper()
	bufs := nn.AllBuffers(net)
	saved := make([]*tensor.Tensor, len(bufs))
	for i, b := range bufs {
		saved[i] = b.Value.Clone()
	}
	defer func() {
		for i, b := range bufs {
			copy(b.Value.Data, saved[i].Data)
		}
	}()
	nn.ZeroGrad(net)
	ctx := nn.NewCtx(train)
	out, err := net.Forward(ctx, x.Clone())
	if err != nil {
		t.Fatal(err)
	}
	y = out.Clone()
	d, err := net.Backward(ctx, dy.Clone())
	if err != nil {
		t.Fatal(err)
	}
	dx = d.Clone()
	for _, p := range nn.AllParams(net) {
		grads = append(grads, p.Grad.Clone())
	}
	return y, dx, grads
}

// closeTo reports the largest |a-b| / (1 + |b|) over two tensors.
func closeTo(a, b *tensor.Tensor) float64 {
	if a.Len() != b.Len() {
		return math.Inf(1)
	}
	var worst float64
	for i := range a.Data {
		d := math.Abs(float64(a.Data[i]-b.Data[i])) / (1 + math.Abs(float64(b.Data[i])))
		if d > worst || d != d {
			worst = d
		}
	}
	return worst
}

// TestNetMatchesTree lowers built-in networks, runs the lowered graph with
// Net and compares the output, the input gradient and every parameter
// gradient with the nn tree's own, in training and evaluation mode.
func TestNetMatchesTree(t *testing.T) {
	for _, arch := range []string{"resnet20", "resnet20B", "densenet40", "vgg16", "lenet5"} {
		t.Run(arch, func(t *testing.T) {
			if arch == "vgg16" && testing.Short() {
				t.Skip("vgg16 takes seconds; -short")
			}
			var opts []models.Option
			if arch == "resnet20B" {
				arch, opts = "resnet20", []models.Option{models.ShortcutB()}
			}
			m, err := models.New(arch, 10, 3, opts...)
			if err != nil {
				t.Fatal(err)
			}
			g, err := graph.Lower(m.Net, m.InputShape[:])
			if err != nil {
				t.Fatal(err)
			}
			net, err := graph.NewNet("lowered", g)
			if err != nil {
				t.Fatal(err)
			}
			if len(nn.AllParams(net)) != len(nn.AllParams(m.Net)) || len(nn.Prunables(net)) != len(nn.Prunables(m.Net)) {
				t.Fatalf("net has %d params and %d prunables, tree %d and %d", len(nn.AllParams(net)), len(nn.Prunables(net)),
					len(nn.AllParams(m.Net)), len(nn.Prunables(m.Net)))
			}
			r := rand.New(rand.NewPCG(1, 2))
			for _, p := range nn.Prunables(net) { // half the connections pruned
				n, c := p.MaskShape()
				mask := make([]float32, n*c)
				for i := range mask {
					mask[i] = float32(r.IntN(2))
				}
				if err := p.SetMask(mask); err != nil {
					t.Fatal(err)
				}
			}
			x := nntest.Randn(r, 1, append([]int{2}, m.InputShape[:]...)...)
			dy := nntest.Randn(r, 1, 2, 10)
			for _, train := range []bool{true, false} {
				y0, dx0, g0 := pass(t, m.Net, train, x, dy)
				y1, dx1, g1 := pass(t, net, train, x, dy)
				if e := closeTo(y1, y0); e > 1e-5 {
					t.Errorf("train %v: output differs by %.3g", train, e)
				}
				if e := closeTo(dx1, dx0); e > 1e-4 {
					t.Errorf("train %v: input gradient differs by %.3g", train, e)
				}
				ps := nn.AllParams(net)
				for i := range g0 {
					if e := closeTo(g1[i], g0[i]); e > 1e-4 {
						t.Errorf("train %v: gradient of %s differs by %.3g", train, ps[i].Name, e)
					}
					if m := ps[i].Mask; m != nil {
						kk := len(g1[i].Data) / len(m)
						for j, v := range g1[i].Data {
							if m[j/kk] == 0 && (v != 0 || ps[i].Value.Data[j] != 0) {
								t.Fatalf("%s[%d]: pruned weight %g has gradient %g", ps[i].Name, j, ps[i].Value.Data[j], v)
							}
						}
					}
				}
			}
		})
	}
}
