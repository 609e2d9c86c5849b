package train

import (
	"math"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"
)

// torchCosine12 are the rates PyTorch 1.13's CosineAnnealingLR(T_max=12)
// gives an SGD at lr 0.01 over 12 iterations, stepped after each one.
var torchCosine12 = []float64{0.01, 0.009829629131445342, 0.009330127018922194, 0.008535533905932736,
	0.0075, 0.006294095225512604, 0.005, 0.003705904774487397, 0.0025000000000000014,
	0.0014644660940672629, 0.0006698729810778065, 0.00017037086855465903}

// lrSeen runs Fit for 3 epochs of 4 batches of 32 and returns the rate
// every batch was stepped with.
func lrSeen(t *testing.T, perIter bool) []float64 {
	t.Helper()
	net := linearNet(1)
	s := NewStepper(net, optim.NewSGD(nn.AllParams(net), 0.01, 0.9, 0, false), nn.NewCtx(true))
	src := blobs(4, 32, 1)
	var seen []float64
	train := func(e int, yield func(Batch) bool) error {
		return src(e, func(b Batch) bool {
			ok := yield(b) // Fit sets the rate, then steps
			seen = append(seen, s.Opt.LR)
			return ok
		})
	}
	hist, err := Fit(s, Plan{Epochs: 3, Schedule: optim.Cosine{Base: 0.01, Epochs: 3}, TrainLen: 128,
		Train: train, PerIteration: perIter})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || len(seen) != 12 {
		t.Fatalf("%d epochs, %d batches: want 3 and 12", len(hist), len(seen))
	}
	return seen
}

func TestFitPerIterationMatchesTorch(t *testing.T) {
	for i, lr := range lrSeen(t, true) {
		if math.Abs(lr-torchCosine12[i]) > 1e-12 {
			t.Fatalf("batch %d: lr %.17g, PyTorch %.17g", i, lr, torchCosine12[i])
		}
	}
}

func TestFitPerEpochHoldsWithinEpoch(t *testing.T) {
	want := []float64{0.01, 0.0075, 0.0025} // PyTorch's CosineAnnealingLR(T_max=3) stepped per epoch
	for i, lr := range lrSeen(t, false) {
		if math.Abs(lr-want[i/4]) > 1e-12 {
			t.Fatalf("batch %d: lr %g, want %g", i, lr, want[i/4])
		}
	}
}

// cycle is a Schedule without a per-iteration form.
type cycle struct{}

func (cycle) LR(int) float64 { return 0.1 }
func (cycle) String() string { return "cycle" }

func TestFitPerIterationRefusals(t *testing.T) {
	net := linearNet(1)
	s := NewStepper(net, optim.NewSGD(nn.AllParams(net), 0.01, 0.9, 0, false), nn.NewCtx(true))
	cos := optim.Cosine{Base: 0.01, Epochs: 1}
	run := func(int, float64) (float64, float64, int, error) { return 0, 0, 1, nil }
	for _, c := range []struct {
		name, want string
		plan       Plan
	}{
		{"no continuous form", "no per-iteration form", Plan{Schedule: cycle{}, TrainLen: 128}},
		{"epochs run elsewhere", "sgcnn's own engine", Plan{Schedule: cos, TrainLen: 128, RunEpoch: run}},
		{"no epoch length", "TrainLen > 0", Plan{Schedule: cos}},
	} {
		c.plan.Epochs, c.plan.PerIteration, c.plan.Train = 1, true, blobs(1, 8, 1)
		if _, err := Fit(s, c.plan); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want one saying %q", c.name, err, c.want)
		}
	}
}
