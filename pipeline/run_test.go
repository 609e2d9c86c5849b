package pipeline

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/selfgroup"
	"github.com/sgcnn/sgcnn/tensor"
	"github.com/sgcnn/sgcnn/train"
)

// synthetic returns a source of nb fixed batches of random 1x28x28 images
// whose label is decided by the mean brightness of the left half, so that
// the network can learn something.
func synthetic(nb, bs int, seed uint64) train.Source {
	rng := rand.New(rand.NewPCG(seed, 7))
	batches := make([]train.Batch, nb)
	for i := range batches {
		x := tensor.New(bs, 1, 28, 28)
		y := make([]int, bs)
		for b := range bs {
			y[b] = rng.IntN(10)
			for j := range 28 * 28 {
				x.Data[b*784+j] = float32(rng.NormFloat64()) * 0.5
				if j%28 < 14 {
					x.Data[b*784+j] += float32(y[b]) * 0.2
				}
			}
		}
		batches[i] = train.Batch{X: x, Y: y}
	}
	return func(_ int, yield func(train.Batch) bool) error {
		for _, b := range batches {
			if !yield(b) {
				return nil
			}
		}
		return nil
	}
}

type memSave struct {
	states  []State
	weights [][]float32
	masks   [][][]float32
}

func (s *memSave) save(m *models.Model) func(*State, *optim.SGD) error {
	return func(st *State, _ *optim.SGD) error {
		raw, _ := json.Marshal(st)
		var cp State
		_ = json.Unmarshal(raw, &cp)
		s.states = append(s.states, cp)
		var ws []float32
		for _, p := range nn.AllParams(m.Net) {
			ws = append(ws, p.Value.Data...)
		}
		s.weights = append(s.weights, ws)
		var ms [][]float32
		for _, l := range m.PrunableLayers() {
			ms = append(ms, append([]float32(nil), l.Mask()...))
		}
		s.masks = append(s.masks, ms)
		return nil
	}
}

func testRunner(t *testing.T, cfg Config) (*Runner, *State, *memSave) {
	t.Helper()
	m, err := models.New("lenet5", 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	st, err := NewState(cfg, m)
	if err != nil {
		t.Fatal(err)
	}
	ms := &memSave{}
	pr, err := NewPruner(cfg, m.Net, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Model: m, Pruner: pr, Train: synthetic(3, 16, 1), TrainLen: 48,
		Test: synthetic(2, 16, 2), Save: ms.save(m)}
	return r, st, ms
}

func smallConfig(scheme selfgroup.Scheme) Config {
	cfg := DefaultConfig(scheme, 60)
	cfg.Step, cfg.FCCap = 20, 40
	cfg.LocalEpochs, cfg.GlobalEpochs, cfg.GlobalSchedule = 1, 1, "constant"
	cfg.Batch = 16
	return cfg
}

func TestRunTracksRatesAndNeverRegrows(t *testing.T) {
	cfg := smallConfig(selfgroup.LG)
	cfg.Rule = "own-mask" // first-member may overshoot on LeNet's small layers
	r, st, ms := testRunner(t, cfg)
	rep, err := r.Run(st)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Steps) != 3 || rep.Final == nil {
		t.Fatalf("got %d steps, final %v; want 3 steps and a final row", len(rep.Steps), rep.Final)
	}
	for i, s := range rep.Steps {
		p := 20 * float64(i+1)
		if s.Rate != p {
			t.Errorf("step %d rate %g, want %g", i+1, s.Rate, p)
		}
		for _, l := range s.Layers {
			want := p
			if l.Name == "fc1" || l.Name == "fc2" {
				want = math.Min(p, 40)
			}
			if l.Rate != want {
				t.Errorf("step %d layer %s got rate %g, want %g", i+1, l.Name, l.Rate, want)
			}
			// Conv layers track the rate within a point; FC layers may
			// overshoot under the first-member rule, never undershoot much.
			if l.Name == "conv2" && math.Abs(100*l.Pruned-want) > 1 {
				t.Errorf("step %d: conv2 pruned %.3f, want %g%% +- 1", i+1, l.Pruned, want)
			}
		}
		if s.AccTuned < 0 {
			t.Errorf("LG step %d has no accuracy after local fine-tuning", i+1)
		}
		if i > 0 && s.FLOPs >= rep.Steps[i-1].FLOPs {
			t.Errorf("FLOPs did not fall from step %d to %d", i, i+1)
		}
	}
	// Masks only lose connections from one checkpoint to the next.
	for k := 1; k < len(ms.masks); k++ {
		for li := range ms.masks[k] {
			prev, cur := ms.masks[k-1][li], ms.masks[k][li]
			for j := range cur {
				if prev != nil && prev[j] == 0 && cur[j] != 0 {
					t.Fatalf("checkpoint %d: layer %d regained connection %d", k, li, j)
				}
			}
		}
	}
	if st.Phase != PhaseDone {
		t.Fatalf("phase %q, want done", st.Phase)
	}
}

func TestSchemeGHasNoLocalEpochs(t *testing.T) {
	r, st, _ := testRunner(t, smallConfig(selfgroup.G))
	rep, err := r.Run(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range rep.Epochs {
		if e.Phase != PhaseGlobal {
			t.Fatalf("scheme G ran a %s epoch", e.Phase)
		}
	}
	if len(rep.Epochs) != 1 || rep.Final == nil || rep.Steps[0].AccTuned != -1 {
		t.Fatalf("epochs %d, final %v, step 1 tuned %g", len(rep.Epochs), rep.Final, rep.Steps[0].AccTuned)
	}
}

// TestDistillReachesEveryEpoch: with Runner.Distill set, the teacher sees
// every fine-tuning batch, local and global.
func TestDistillReachesEveryEpoch(t *testing.T) {
	cfg := smallConfig(selfgroup.LG)
	r, st, _ := testRunner(t, cfg)
	calls := 0
	r.Distill = &train.Distill{Temp: 2, Alpha: 0.5, Teacher: func(x *tensor.Tensor) (*tensor.Tensor, error) {
		calls++
		return tensor.New(x.Shape[0], 10), nil
	}}
	rep, err := r.Run(st)
	if err != nil {
		t.Fatal(err)
	}
	// 3 steps with 1 local epoch each, 1 global epoch; 3 batches an epoch.
	if want := 3 * len(rep.Epochs); len(rep.Epochs) != 4 || calls != want {
		t.Errorf("%d epochs, %d teacher calls; want 4 epochs and %d calls", len(rep.Epochs), calls, want)
	}
}

// TestResumeMatchesUninterrupted stops a run after its first checkpoints
// and resumes it from each, on one thread: the final masks and weights must
// equal those of a run that never stopped.
func TestResumeMatchesUninterrupted(t *testing.T) {
	cfg := smallConfig(selfgroup.LG)
	r, st, full := testRunner(t, cfg)
	if _, err := r.Run(st); err != nil {
		t.Fatal(err)
	}
	want := full.weights[len(full.weights)-1]
	for stop := 1; stop < 4; stop++ {
		r2, st2, ms2 := testRunner(t, cfg)
		calls := 0
		inner := r2.Save
		r2.Save = func(s *State, o *optim.SGD) error {
			if err := inner(s, o); err != nil {
				return err
			}
			if calls++; calls == stop {
				return errStop
			}
			return nil
		}
		if _, err := r2.Run(st2); !errors.Is(err, errStop) {
			t.Fatalf("stop %d: err %v", stop, err)
		}
		// Rebuild the model from the saved weights and masks and resume.
		r3, _, _ := testRunner(t, cfg)
		restore(t, r3.Model, ms2.weights[stop-1], ms2.masks[stop-1])
		resumed := ms2.states[stop-1]
		if _, err := r3.Run(&resumed); err != nil {
			t.Fatal(err)
		}
		var got []float32
		for _, p := range nn.AllParams(r3.Model.Net) {
			got = append(got, p.Value.Data...)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("resumed after checkpoint %d: weight %d = %g, want %g", stop, i, got[i], want[i])
			}
		}
	}
}

var errStop = errors.New("stop here")

func restore(t *testing.T, m *models.Model, ws []float32, masks [][]float32) {
	t.Helper()
	for li, l := range m.PrunableLayers() {
		if masks[li] != nil {
			if err := l.SetMask(append([]float32(nil), masks[li]...)); err != nil {
				t.Fatal(err)
			}
		}
	}
	off := 0
	for _, p := range nn.AllParams(m.Net) {
		off += copy(p.Value.Data, ws[off:off+len(p.Value.Data)])
	}
}

func TestConfigErrors(t *testing.T) {
	bad := []func(*Config){
		func(c *Config) { c.Rate = 100 },
		func(c *Config) { c.Rate = 0 },
		func(c *Config) { c.Step = 8 },
		func(c *Config) { c.Groups = 0 },
		func(c *Config) { c.Scheme = "X" },
		func(c *Config) { c.Rule = "last-member" },
		func(c *Config) { c.Importance = "random" },
		func(c *Config) { c.Method = "magnitude" },
		func(c *Config) { c.Method, c.Importance = "l1filter", "taylor" },
		func(c *Config) { c.Method, c.TaylorBatches = "taylor", 0 },
		func(c *Config) { c.FCCap = 0 },
		func(c *Config) { c.Rates = []float64{10, 5, 70} },
		func(c *Config) { c.Rates = []float64{10, 50} },
		func(c *Config) { c.Distill, c.DistillTemp, c.DistillAlpha = true, 0, 0.5 },
		func(c *Config) { c.Distill, c.DistillTemp, c.DistillAlpha = true, 4, 1.5 },
	}
	m, _ := models.New("lenet5", 10, 1)
	for i, f := range bad {
		cfg := DefaultConfig(selfgroup.LG, 70)
		f(&cfg)
		if _, err := NewState(cfg, m); err == nil {
			t.Errorf("case %d: bad config accepted: %+v", i, cfg)
		}
	}
	cfg := DefaultConfig(selfgroup.LG, 70)
	cfg.Layers = []string{"nosuch"}
	if _, err := NewState(cfg, m); err == nil {
		t.Error("unknown layer accepted")
	}
}

// TestEvaluateCompiledMatchesNN checks the runner's evaluation, which runs
// the compiled network, against package nn's forward of the masked model,
// dense and after a pruning step.
func TestEvaluateCompiledMatchesNN(t *testing.T) {
	r, _, _ := testRunner(t, smallConfig(selfgroup.G))
	for step := range 2 {
		if step == 1 {
			layers := r.Model.PrunableLayers()
			rates := make([]float64, len(layers))
			for i := range rates {
				rates[i] = 60
			}
			if _, err := r.Pruner.Prune(layers, rates, 1); err != nil {
				t.Fatal(err)
			}
		}
		got, err := r.evaluate()
		if err != nil {
			t.Fatal(err)
		}
		want, err := train.Evaluate(r.Model.Net, func(y func(train.Batch) bool) error { return r.Test(0, y) })
		if err != nil {
			t.Fatal(err)
		}
		if got != want.Top1 {
			t.Errorf("step %d: compiled evaluation top-1 %.2f, package nn %.2f", step, got, want.Top1)
		}
	}
}
