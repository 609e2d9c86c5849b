package pipeline

import (
	"math"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/selfgroup"
	"github.com/sgcnn/sgcnn/train"
)

// batchRates runs cfg on testRunner's LeNet-5 (3 batches of 16 per epoch)
// and returns the rate every training batch was stepped with, by the
// run's epoch (local phases first, then the global one).
func batchRates(t *testing.T, cfg Config) map[int][]float64 {
	t.Helper()
	r, st, _ := testRunner(t, cfg)
	var opt *optim.SGD
	r.sgd = func(o *optim.SGD) { opt = o }
	seen := map[int][]float64{}
	src := r.Train
	r.Train = func(e int, yield func(train.Batch) bool) error {
		return src(e, func(b train.Batch) bool {
			ok := yield(b) // Fit sets the rate, then steps
			seen[e] = append(seen[e], opt.LR)
			return ok
		})
	}
	if _, err := r.Run(st); err != nil {
		t.Fatal(err)
	}
	return seen
}

// cosineAt is PyTorch's CosineAnnealingLR (eta_min 0) at a fractional
// epoch t of a cosine over n epochs from base.
func cosineAt(base, t float64, n int) float64 {
	return base * (1 + math.Cos(math.Pi*t/float64(n))) / 2
}

// checkRates compares the rates of the run's epochs from first on with
// want(t) at t = epoch + batch/3 of the phase.
func checkRates(t *testing.T, seen map[int][]float64, first, epochs int, want func(t float64) float64) {
	t.Helper()
	for e := range epochs {
		got := seen[first+e]
		if len(got) != 3 {
			t.Fatalf("epoch %d: %d batches, want 3", first+e, len(got))
		}
		for i, lr := range got {
			at := float64(e) + float64(i)/3
			if w := want(at); math.Abs(lr-w) > 1e-15 {
				t.Errorf("phase epoch %d batch %d (t = %.4g): lr %.17g, want %.17g", e, i, at, lr, w)
			}
		}
	}
}

// TestLRStepIterFollowsTheCosine checks that with LRStep "iter" every
// batch of the global phase is stepped at the cosine of the fractional
// epoch reached, as PyTorch's CosineAnnealingLR stepped per iteration,
// that the local phases keep their constant rate, and that "epoch" (and
// "", runs saved before the field) holds each epoch's rate.
func TestLRStepIterFollowsTheCosine(t *testing.T) {
	cfg := smallConfig(selfgroup.LG)
	cfg.GlobalEpochs, cfg.GlobalSchedule, cfg.GlobalLR, cfg.LocalLR = 3, "cosine", 0.01, 0.004
	cfg.LRStep = "iter"
	seen := batchRates(t, cfg) // 3 steps of 1 local epoch (run epochs 0-2), then 3 global (3-5)
	checkRates(t, seen, 0, 3, func(float64) float64 { return 0.004 })
	checkRates(t, seen, 3, 3, func(at float64) float64 { return cosineAt(0.01, at, 3) })
	for _, step := range []string{"epoch", ""} {
		cfg.LRStep = step
		seen := batchRates(t, cfg)
		checkRates(t, seen, 3, 3, func(at float64) float64 { return cosineAt(0.01, math.Floor(at), 3) })
	}
}

// TestLRStepIterCycles checks per-iteration cosine cycles: each cycle
// anneals within its epochs and restarts at the base rate.
func TestLRStepIterCycles(t *testing.T) {
	cfg := smallConfig(selfgroup.G)
	cfg.GlobalEpochs, cfg.Cycles, cfg.GlobalLR, cfg.LRStep = 4, 2, 0.01, "iter"
	seen := batchRates(t, cfg)
	checkRates(t, seen, 0, 4, func(at float64) float64 { return cosineAt(0.01, math.Mod(at, 2), 2) })
	c := Cycles{Base: 0.01, Length: 2}
	for e := range 6 {
		if c.LRAt(float64(e)) != c.LR(e) {
			t.Errorf("epoch %d: LRAt %g, LR %g", e, c.LRAt(float64(e)), c.LR(e))
		}
	}
}

// TestLRStepValidate checks that a bad LRStep and iter under the torch
// trainer are refused, naming the flags.
func TestLRStepValidate(t *testing.T) {
	for _, c := range []struct{ step, trainer, want string }{
		{"epoch", "", ""},
		{"", "torch", ""},
		{"iter", "go", ""},
		{"batch", "", `--lr-step "batch": want epoch or iter`},
		{"iter", "torch", "--lr-step iter: not with --trainer torch"},
	} {
		cfg := smallConfig(selfgroup.G)
		cfg.LRStep, cfg.Trainer = c.step, c.trainer
		err := cfg.Validate()
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("lr step %q, trainer %q: error %v, want %q", c.step, c.trainer, err, c.want)
		}
	}
}

// TestPrecisionValidate checks that an unknown precision and bf16 under
// the torch trainer are refused.
func TestPrecisionValidate(t *testing.T) {
	for _, c := range []struct{ prec, trainer, want string }{
		{"", "", ""},
		{"fp32", "torch", ""},
		{"bf16", "go", ""},
		{"fp16", "", `unknown precision "fp16"`},
		{"bf16", "torch", "not with the torch trainer"},
	} {
		cfg := smallConfig(selfgroup.G)
		cfg.Precision, cfg.Trainer = c.prec, c.trainer
		err := cfg.Validate()
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("precision %q, trainer %q: error %v, want %q", c.prec, c.trainer, err, c.want)
		}
	}
}
