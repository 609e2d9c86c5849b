package compile_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/prune"
	"github.com/sgcnn/sgcnn/tensor"
)

// randomizeBN gives every BatchNorm non-trivial running statistics and
// affine parameters, so folding is exercised and dead filters output
// nonzero constants (beta mostly positive: relu(shift) > 0).
func randomizeBN(net nn.Layer, r *rand.Rand) {
	nn.Walk(net, func(l nn.Layer) {
		bn, ok := l.(*nn.BatchNorm2d)
		if !ok {
			return
		}
		for i := range bn.C {
			bn.Gamma.Value.Data[i] = 0.5 + r.Float32()
			bn.Beta.Value.Data[i] = r.Float32() - 0.3
			bn.Mean.Value.Data[i] = 0.2 * (r.Float32() - 0.5)
			bn.Var.Value.Data[i] = 0.5 + r.Float32()
		}
	})
}

// pruneModel prunes m's prunable layers with the self-grouping method to
// conv rate rate (FC layers min(rate, 60)) in one step, then kills a few
// whole filters (every input pruned) in every pruned conv, so that dead
// filters appear whatever the weights.
func pruneModel(t testing.TB, m *models.Model, rate float64, seed uint64) {
	t.Helper()
	if _, err := prune.Once(m, rate, 60, &prune.SelfGrouping{Groups: 16, Seed: seed}); err != nil {
		t.Fatal(err)
	}
	layers := m.PrunableLayers()
	r := rand.New(rand.NewPCG(seed, 99))
	for _, l := range layers {
		if _, ok := l.(*nn.Conv2d); !ok {
			continue
		}
		n, c := l.MaskShape()
		mask := append([]float32(nil), l.Mask()...)
		for range max(1, n/8) {
			clear(mask[r.IntN(n)*c:][:c])
		}
		if err := l.SetMask(mask); err != nil {
			t.Fatal(err)
		}
	}
}

// relErr returns max|got-want| / max(max|want|, 1e-3).
func relErr(got, want []float32) float64 {
	var d, s float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(got[i])-float64(want[i])))
		s = math.Max(s, math.Abs(float64(want[i])))
	}
	return d / math.Max(s, 1e-3)
}

// randInput returns a batch of b images of shape in.
func randInput(r *rand.Rand, b int, in [3]int) *tensor.Tensor {
	x := tensor.New(b, in[0], in[1], in[2])
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	return x
}

// checkParity compiles m and compares its output on x with the masked
// dense network's in evaluation mode.
func checkParity(t *testing.T, m *models.Model, x *tensor.Tensor, opt compile.Options) *compile.Net {
	t.Helper()
	want, err := m.Net.Forward(nn.NewCtx(false), x)
	if err != nil {
		t.Fatal(err)
	}
	want = want.Clone()
	net, err := compile.Compile(m.Net, m.InputShape[:], opt)
	if err != nil {
		t.Fatal(err)
	}
	got, err := net.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(got.Shape, want.Shape) {
		t.Fatalf("shape %v, want %v", got.Shape, want.Shape)
	}
	if e := relErr(got.Data, want.Data); e > 1e-5 || math.IsNaN(e) {
		t.Errorf("route %v: relative error %.3g > 1e-5", opt.Route, e)
	}
	return net
}

// TestParity compiles pruned networks at several rates, on every route,
// and checks their outputs against the masked dense networks'.
func TestParity(t *testing.T) {
	cases := []struct {
		arch   string
		rates  []float64
		routes []compile.Route
		batch  int
	}{
		{"lenet5", []float64{50, 95, 99}, []compile.Route{compile.Auto, compile.Grouped, compile.Dense}, 5},
		{"resnet20", []float64{30, 50, 70, 90}, []compile.Route{compile.Auto, compile.Grouped, compile.Merged, compile.Dense}, 3},
		{"resnet56", []float64{50, 90}, []compile.Route{compile.Auto, compile.Grouped}, 2},
		{"vgg16", []float64{70}, []compile.Route{compile.Grouped, compile.Dense}, 2},
		{"densenet40", []float64{70}, []compile.Route{compile.Grouped}, 2},
	}
	if testing.Short() {
		cases = cases[:2]
	}
	for _, tc := range cases {
		for _, rate := range tc.rates {
			t.Run(fmt.Sprintf("%s/%g", tc.arch, rate), func(t *testing.T) {
				m, err := models.New(tc.arch, 0, 1)
				if err != nil {
					t.Fatal(err)
				}
				r := rand.New(rand.NewPCG(uint64(rate), 3))
				randomizeBN(m.Net, r)
				pruneModel(t, m, rate, 7)
				x := randInput(r, tc.batch, m.InputShape)
				var dead, skipped, folded int
				for _, route := range tc.routes {
					net := checkParity(t, m, x, compile.Options{Route: route, Micro: 2})
					for _, l := range net.Layers() {
						dead += l.Dead
						skipped += l.Skipped
						folded += l.Folded
					}
				}
				if dead == 0 {
					t.Errorf("no dead filters: the test does not cover them")
				}
				if tc.arch != "lenet5" && tc.arch != "densenet40" && (skipped == 0 || folded == 0) {
					t.Errorf("skipped %d, folded %d constant channels: the fold is not exercised", skipped, folded)
				}
			})
		}
	}
}

// TestThreadsAndBatches runs a compiled ResNet-20 with 1 and 2 threads,
// batch sizes around the micro-batch (batch 1 on 2 threads splits each
// conv's groups), and checks the results agree with the dense network.
func TestThreadsAndBatches(t *testing.T) {
	m, err := models.New("resnet20", 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(4, 5))
	randomizeBN(m.Net, r)
	pruneModel(t, m, 70, 3)
	for _, threads := range []int{1, 2} {
		for _, b := range []int{1, 4, 7} {
			x := randInput(r, b, m.InputShape)
			checkParity(t, m, x, compile.Options{Route: compile.Grouped, Micro: 3, SplitOne: compile.SplitOn, Threads: threads})
		}
	}
}

// TestDense checks an unpruned network compiles to dense layers and
// matches nn.
func TestDense(t *testing.T) {
	m, err := models.New("resnet20", 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(6, 7))
	randomizeBN(m.Net, r)
	net := checkParity(t, m, randInput(r, 2, m.InputShape), compile.Options{})
	for _, l := range net.Layers() {
		if l.Route != compile.Dense || l.MACs != l.DenseMACs || l.Dead != 0 {
			t.Errorf("layer %s: %+v, want a dense layer", l.Name, l)
		}
	}
}

// TestUnsupported checks that a layer the compiler does not know is an
// error naming it, not a silent wrong network.
func TestUnsupported(t *testing.T) {
	net := nn.NewSequential("net", nn.NewReLU("relu"), oddLayer{nn.NewReLU("odd")})
	if _, err := compile.Compile(net, []int{1, 4, 4}, compile.Options{}); err == nil {
		t.Fatal("compiled a network with an unknown layer type")
	}
}

// oddLayer is a layer type package compile does not know.
type oddLayer struct{ *nn.ReLU }

// TestMeasure runs Measure and Speedup once on LeNet-5 and checks the
// timings are positive and the report lists every conv and linear layer.
func TestMeasure(t *testing.T) {
	m, err := models.New("lenet5", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	pruneModel(t, m, 90, 1)
	tm, err := compile.Measure(m.Net, m.InputShape[:], 2, 1, compile.Options{Route: compile.Grouped})
	if err != nil {
		t.Fatal(err)
	}
	if tm.NN <= 0 || tm.Dense <= 0 || tm.Compiled <= 0 || len(tm.Layers) != 4 {
		t.Errorf("Measure: %+v", tm)
	}
	if s, err := compile.Speedup(m.Net, m.InputShape[:], 1); err != nil || !(s > 0) {
		t.Errorf("Speedup = %v, %v", s, err)
	}
}
