package torchtrain

import (
	"context"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"
)

// TestGraphEpoch trains one epoch of an imported network (arch "graph": a
// pruned ResNet-20, lowered to sgcnn's graph, run by trainer.py's GraphNet)
// and the same network as the built-in resnet20 (the PyTorch definition),
// from the same weights with the same settings: the two come back with the
// same weights, momentum and loss, so GraphNet computes what the reference
// module does, forward and backward. The LeNet-5 graph (max pooling,
// flatten) trains too.
func TestGraphEpoch(t *testing.T) {
	needTorch(t)
	if testing.Short() {
		t.Skip("starts torchrun")
	}
	ctx := context.Background()
	d := tinySet(64)
	s := Settings{Batch: 16, Momentum: 0.9, WeightDecay: 1e-4, Pad: 4, Flip: true, Seed: 4}
	ref, err := models.New("resnet20", 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	pruneHalf(t, ref)
	tree, err := models.New("resnet20", 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	pruneHalf(t, tree)
	g, err := graph.Lower(tree.Net, tree.InputShape[:])
	if err != nil {
		t.Fatal(err)
	}
	gm, err := models.FromGraph(g, 0)
	if err != nil {
		t.Fatal(err)
	}
	var losses [2]float64
	for i, m := range []*models.Model{ref, gm} {
		opt := optim.NewSGD(nn.AllParams(m.Net), 0.05, 0.9, 1e-4, false)
		var log strings.Builder
		l := &Launcher{Dir: t.TempDir(), Log: &log}
		if err := l.Check(ctx, m.Arch, s); err != nil {
			t.Fatal(err)
		}
		if losses[i], _, _, err = l.Epoch(ctx, m, opt, d, d.Norm(), s)(0, 0.05); err != nil {
			t.Fatalf("%s: %v\n%s", m.Arch, err, log.String())
		}
	}
	if d := losses[0] - losses[1]; d > 1e-5 || d < -1e-5 {
		t.Errorf("loss: resnet20 %g, its graph %g", losses[0], losses[1])
	}
	names, want := models.StateDict(ref)
	_, got := models.StateDict(gm)
	for _, n := range names {
		if got[n] == nil {
			t.Fatalf("the graph model has no %s", n)
		}
		if diff := maxDiff(want[n].Data, got[n].Data); diff > 1e-4 {
			t.Errorf("%s: the graph's result differs from resnet20's by %g", n, diff)
		}
	}

	lenet, err := models.New("lenet5", 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	lg, err := graph.Lower(lenet.Net, lenet.InputShape[:])
	if err != nil {
		t.Fatal(err)
	}
	lm, err := models.FromGraph(lg, 0)
	if err != nil {
		t.Fatal(err)
	}
	grey := tinySet(32)
	grey.C, grey.H, grey.W = 1, 28, 28
	grey.Pixels = grey.Pixels[:32*28*28]
	grey.Mean, grey.Std = grey.Mean[:1], grey.Std[:1]
	opt := optim.NewSGD(nn.AllParams(lm.Net), 0.01, 0.9, 0, false)
	l := &Launcher{Dir: t.TempDir()}
	if loss, _, n, err := l.Epoch(ctx, lm, opt, grey, grey.Norm(), Settings{Batch: 8, Momentum: 0.9, Seed: 1})(0, 0.01); err != nil || n != 32 || !(loss > 0) {
		t.Fatalf("LeNet-5 graph: loss %g over %d images: %v", loss, n, err)
	}
}
