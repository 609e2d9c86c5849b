package graph_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/nn/nntest"
)

// BenchmarkResNet56TreeVsGraph times training steps (forward and backward,
// batch 32) of ResNet-56 as the nn tree and as its lowered graph run by
// Net, alternating the two within every iteration so that both see the
// same machine load; it reports each one's mean step, the ratio of the
// totals and the median ratio of the paired steps:
//
//	go test ./graph/ -run - -bench TreeVsGraph -benchtime 20x
func BenchmarkResNet56TreeVsGraph(b *testing.B) {
	m, err := models.New("resnet56", 10, 1)
	if err != nil {
		b.Fatal(err)
	}
	g, err := graph.Lower(m.Net, m.InputShape[:])
	if err != nil {
		b.Fatal(err)
	}
	gnet, err := graph.NewNet("resnet56", g)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	x := nntest.Randn(r, 1, 32, 3, 32, 32)
	dy := nntest.Randn(r, 1, 32, 10)
	ctx := nn.NewCtx(true)
	step := func(net nn.Layer) time.Duration {
		t0 := time.Now()
		if _, err := net.Forward(ctx, x); err != nil {
			b.Fatal(err)
		}
		if _, err := net.Backward(ctx, dy.Clone()); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	step(m.Net)
	step(gnet)
	var tree, graphT time.Duration
	ratios := make([]float64, b.N)
	b.ResetTimer()
	for i := range b.N {
		var tt, tg time.Duration
		if i%2 == 0 {
			tt = step(m.Net)
			tg = step(gnet)
		} else {
			tg = step(gnet)
			tt = step(m.Net)
		}
		tree, graphT, ratios[i] = tree+tt, graphT+tg, float64(tg)/float64(tt)
	}
	slices.Sort(ratios)
	b.ReportMetric(float64(tree.Milliseconds())/float64(b.N), "tree-ms/step")
	b.ReportMetric(float64(graphT.Milliseconds())/float64(b.N), "graph-ms/step")
	b.ReportMetric(float64(graphT)/float64(tree), "graph/tree")
	b.ReportMetric(ratios[len(ratios)/2], "median-graph/tree")
}
