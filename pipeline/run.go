package pipeline

import (
	"fmt"
	"io"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/count"
	"github.com/sgcnn/sgcnn/internal/units"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/prune"
	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/selfgroup"
	"github.com/sgcnn/sgcnn/train"
)

// Phases of a run, in the order they happen for each step.
const (
	PhasePrune  = "prune"  // the next pruning step is due
	PhaseLocal  = "local"  // local fine-tuning after step State.Step
	PhaseGlobal = "global" // global fine-tuning after the last step
	PhaseDone   = "done"
)

// State is where a run stands; it is saved with every checkpoint.
type State struct {
	Config Config     `json:"config"`
	Step   int        `json:"step"`  // pruning steps applied
	Phase  string     `json:"phase"` // one of the Phase constants
	Epoch  int        `json:"epoch"` // epochs done in the current phase
	Report report.Run `json:"report"`
}

// Runner runs a pruning schedule on a model.
type Runner struct {
	Model    *models.Model
	Pruner   prune.Pruner
	Train    train.Source // augmented, shuffled training batches
	TrainLen int          // images per training epoch
	Test     train.Source // test batches, or validation batches when Final is set
	// Final, when set, is the test set: Test is then a validation split
	// (Config.ValSplit), every accuracy of the run is measured on it, and
	// Final is evaluated once, on the final model, at the end.
	Final train.Source
	Log   io.Writer
	// Save writes a checkpoint of the model, st and the optimiser (nil
	// between phases); an error stops the run.
	Save func(st *State, opt *optim.SGD) error
	// Restore, when set, restores the optimiser state of a resumed phase.
	Restore func(opt *optim.SGD) error
	// Distill, when set, adds knowledge distillation to every fine-tuning
	// epoch (Config.Distill; the caller builds the teacher).
	Distill *train.Distill
	// Epoch, when set, returns the function that trains the epochs of the
	// phase st is in elsewhere (package torchtrain), with opt's momentum.
	Epoch func(st *State, opt *optim.SGD) train.EpochFunc
	// Finish, when set, runs once the schedule is done and before the
	// final test evaluation, e.g. to average the global cycles' models
	// (Config.Average); it may replace the model's weights and records its
	// choice in st.Report. It must do nothing when st says it was done.
	Finish func(st *State) error
	// Measure, when set, returns the measured speedup of the model as
	// it is now over the dense baseline; it fills the report's column.
	Measure func() (float64, error)
	// Stop, when set, is asked before every pruning step and phase; an
	// error from it (e.g. context.Canceled after a signal) ends the run
	// there, after the last checkpoint.
	Stop func() error

	// sgd, when set (by tests), is given every phase's optimiser.
	sgd func(opt *optim.SGD)
}

// NewState starts a run of cfg on m: it validates cfg before any work.
func NewState(cfg Config, m *models.Model) (*State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(layersOf(m, cfg)) == 0 {
		return nil, fmt.Errorf("model %s has no prunable layer", m.Arch)
	}
	for _, name := range cfg.Layers {
		l, ok := m.Layer(name).(nn.Prunable)
		if !ok || l == nil {
			return nil, fmt.Errorf("layer %q: not a prunable layer of %s", name, m.Arch)
		}
	}
	conf, err := report.ConfigOf(cfg)
	if err != nil {
		return nil, err
	}
	return &State{Config: cfg, Phase: PhasePrune, Report: report.Run{Model: m.Arch, Method: cfg.Method,
		Scheme: cfg.Scheme, Config: conf, Baseline: report.Step{AccPruned: -1, AccTuned: -1}}}, nil
}

// layersOf returns the layers cfg prunes.
func layersOf(m *models.Model, cfg Config) []nn.Prunable {
	if len(cfg.Layers) == 0 {
		return m.PrunableLayers()
	}
	var ls []nn.Prunable
	for _, name := range cfg.Layers {
		if l, ok := m.Layer(name).(nn.Prunable); ok {
			ls = append(ls, l)
		}
	}
	return ls
}

// epochs returns the local and global epochs the scheme uses.
func (c *Config) epochs() (local, global int) {
	s, _ := selfgroup.ParseScheme(c.Scheme)
	local, global = c.LocalEpochs, c.GlobalEpochs
	if s == selfgroup.G {
		local = 0
	}
	if s == selfgroup.L {
		global = 0
	}
	return local, global
}

func (r *Runner) logf(format string, args ...any) {
	if r.Log != nil {
		fmt.Fprintf(r.Log, format, args...)
	}
}

// counts returns the model's counts against the baseline, with the
// model's prunable layers counted by the paper's masked rule (as its
// baselines are).
func (r *Runner) counts(base report.Counts) (report.Counts, error) {
	t, err := count.Count(r.Model.Net, r.Model.InputShape, r.Model.Prunable...)
	if err != nil {
		return report.Counts{}, err
	}
	c := report.Counts{Params: t.Params, FLOPs: t.FLOPs}
	if base.Params > 0 {
		c.Compression = float64(base.Params) / float64(t.Params)
		c.FLOPsReduction = float64(base.FLOPs) / float64(t.FLOPs)
	}
	return c, nil
}

// evaluate returns the model's top-1 on Test (the test set or the
// validation split). It runs the model
// compiled (package compile: groups executed as groups, BN folded), which
// evaluates a pruned ResNet-56 at Conv-70 about 3x faster than package
// nn's forward of the masked weights, and falls back to package nn for
// models the compiler does not take. The two agree within 1e-5 in every
// logit (compile's parity tests).
func (r *Runner) evaluate() (float64, error) { return r.evaluateOn(r.Test) }

// evaluateOn returns the model's top-1 on src, as evaluate does.
func (r *Runner) evaluateOn(src train.Source) (float64, error) {
	batches := func(y func(train.Batch) bool) error { return src(0, y) }
	if net, err := compile.Compile(r.Model.Net, r.Model.InputShape[:], compile.Options{Route: compile.Grouped}); err == nil {
		res, err := train.EvaluateFunc(net.Forward, batches)
		return res.Top1, err
	}
	res, err := train.Evaluate(r.Model.Net, batches)
	return res.Top1, err
}

// Run continues st until the run is done, saving after every step and
// epoch. It returns the final report.
func (r *Runner) Run(st *State) (*report.Run, error) {
	cfg := &st.Config
	rates, err := cfg.Schedule()
	if err != nil {
		return nil, err
	}
	local, global := cfg.epochs()
	layers := layersOf(r.Model, *cfg)
	rep := &st.Report
	rep.Eval = report.EvalTest
	if r.Final != nil {
		rep.Eval = report.EvalValidation
	}
	if rep.Baseline.Params == 0 {
		c, err := r.counts(report.Counts{})
		if err != nil {
			return nil, err
		}
		c.Compression, c.FLOPsReduction = 1, 1
		acc, err := r.evaluate()
		if err != nil {
			return nil, err
		}
		rep.Baseline = report.Step{Index: 0, AccPruned: acc, AccTuned: acc, Counts: c, Speedup: 1}
		r.logf("baseline %s: top-1 %.2f%%, %s params, %s FLOPs\n", r.Model.Arch, acc, units.Human(c.Params), units.Human(c.FLOPs))
	}
	for st.Phase != PhaseDone {
		if r.Stop != nil {
			if err := r.Stop(); err != nil {
				return nil, err
			}
		}
		switch st.Phase {
		case PhasePrune:
			if st.Step == len(rates) {
				st.Phase, st.Epoch = PhaseGlobal, 0
				if global == 0 {
					st.Phase = PhaseDone
				}
				continue
			}
			p := rates[st.Step]
			lr := make([]float64, len(layers))
			for i, l := range layers {
				_, isFC := l.(*nn.Linear)
				lr[i] = selfgroup.LayerRate(p, cfg.FCCap, isFC)
			}
			recs, err := r.Pruner.Prune(layers, lr, st.Step)
			if err != nil {
				return nil, fmt.Errorf("pruning step %d (rate %g%%): %w", st.Step+1, p, err)
			}
			st.Step++
			acc, err := r.evaluate()
			if err != nil {
				return nil, err
			}
			c, err := r.counts(rep.Baseline.Counts)
			if err != nil {
				return nil, err
			}
			row := report.Step{Index: st.Step, Rate: p, FCCap: selfgroup.LayerRate(p, cfg.FCCap, true),
				AccPruned: acc, AccTuned: -1, Counts: c, Layers: reportLayers(recs)}
			rep.Steps = append(rep.Steps, row)
			r.logf("step %d/%d: rate %g%%: top-1 %.2f%% after pruning, %s params (%.2fx), %s FLOPs (%.2fx)\n",
				st.Step, len(rates), p, acc, units.Human(c.Params), c.Compression, units.Human(c.FLOPs), c.FLOPsReduction)
			st.Phase, st.Epoch = PhaseLocal, 0
			if local == 0 {
				st.Phase = PhasePrune
			}
			if err := r.Save(st, nil); err != nil {
				return nil, err
			}
		case PhaseLocal, PhaseGlobal:
			if err := r.fineTune(st, local, global); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("checkpoint has unknown phase %q", st.Phase)
		}
	}
	if r.Finish != nil {
		if err := r.Finish(st); err != nil {
			return nil, err
		}
	}
	if err := r.finalTest(rep); err != nil {
		return nil, err
	}
	if r.Measure != nil && len(rep.Steps) > 0 {
		sp, err := r.Measure()
		if err != nil {
			return nil, fmt.Errorf("measuring the speedup: %w", err)
		}
		last := &rep.Steps[len(rep.Steps)-1]
		if rep.Final != nil {
			rep.Final.Speedup = sp
		}
		last.Speedup = sp
	}
	return rep, nil
}

// fineTune runs (the rest of) a local or global phase.
func (r *Runner) fineTune(st *State, local, global int) error {
	cfg := &st.Config
	epochs, sched := local, optim.Schedule(optim.Constant{Base: cfg.LocalLR})
	if st.Phase == PhaseGlobal {
		epochs = global
		s, err := optim.Parse(cfg.GlobalSchedule, cfg.GlobalLR, global)
		if err != nil {
			return err
		}
		sched = s
		if n := cfg.CycleLength(); n > 0 {
			sched = Cycles{Base: cfg.GlobalLR, Length: n}
		}
	}
	opt := optim.NewSGD(nn.AllParams(r.Model.Net), sched.LR(0), cfg.Momentum, cfg.WeightDecay, false)
	if r.sgd != nil {
		r.sgd(opt)
	}
	if st.Epoch > 0 && r.Restore != nil {
		if err := r.Restore(opt); err != nil {
			return err
		}
	}
	prec, err := nn.ParsePrecision(cfg.Precision)
	if err != nil {
		return err
	}
	if prec == nn.BF16 && r.Log != nil && st.Epoch == 0 {
		fmt.Fprintf(r.Log, "%s step %d: bf16 convolutions: %s\n", st.Phase, st.Step, nn.BF16Route())
	}
	stepper := train.NewStepper(r.Model.Net, opt, &nn.Ctx{Train: true, Precision: prec})
	stepper.Distill = r.Distill
	label := fmt.Sprintf("%s step %d", st.Phase, st.Step)
	src, trainLen := r.dataEpochs(st, local), r.TrainLen
	if n := cfg.LocalImages; st.Phase == PhaseLocal && n > 0 && n < trainLen {
		src, trainLen = train.Limit(src, n), n
	}
	test, val := r.Test, train.Source(nil)
	if r.Final != nil {
		test, val = nil, r.Test
	}
	_, err = train.Fit(stepper, train.Plan{Epochs: epochs, StartEpoch: st.Epoch, Schedule: sched,
		PerIteration: cfg.LRStep == "iter", TrainLen: trainLen, Train: src, Test: test, Val: val, Log: r.Log, Label: label, RunEpoch: r.epochFunc(st, opt),
		AfterEpoch: func(es train.EpochStats) error {
			st.Epoch = es.Epoch
			top1 := es.TestTop1
			if val != nil {
				top1 = es.ValTop1
			}
			st.Report.Epochs = append(st.Report.Epochs, report.Epoch{Phase: st.Phase, Step: st.Step,
				Epoch: es.Epoch, LR: es.LR, Loss: es.TrainLoss, TestTop1: top1})
			if st.Epoch == epochs {
				r.finishPhase(st, top1, epochs)
				return r.Save(st, nil)
			}
			return r.Save(st, opt)
		}})
	if err != nil {
		return err
	}
	if st.Epoch >= epochs && st.Phase != PhasePrune && st.Phase != PhaseDone {
		// Nothing left to run in this phase (e.g. resumed at its end).
		acc, err := r.evaluate()
		if err != nil {
			return err
		}
		r.finishPhase(st, acc, epochs)
		return r.Save(st, nil)
	}
	return nil
}

// epochFunc is Runner.Epoch's function for the phase, or nil.
func (r *Runner) epochFunc(st *State, opt *optim.SGD) train.EpochFunc {
	if r.Epoch == nil {
		return nil
	}
	return r.Epoch(st, opt)
}

// finishPhase records the accuracy after a phase and moves on.
func (r *Runner) finishPhase(st *State, acc float64, epochs int) {
	rep := &st.Report
	if st.Phase == PhaseLocal {
		row := &rep.Steps[len(rep.Steps)-1]
		row.AccTuned, row.Epochs = acc, epochs
		st.Phase = PhasePrune
	} else {
		final := rep.Steps[len(rep.Steps)-1]
		final.Layers = nil
		final.AccTuned, final.Epochs = acc, epochs
		rep.Final = &final
		st.Phase = PhaseDone
	}
	st.Epoch = 0
}

// finalTest evaluates the test set once, on the final model, in a run
// whose accuracies are on a validation split (Runner.Final set).
func (r *Runner) finalTest(rep *report.Run) error {
	if r.Final == nil || rep.FinalTest != nil {
		return nil
	}
	acc, err := r.evaluateOn(r.Final)
	if err != nil {
		return fmt.Errorf("the final test evaluation: %w", err)
	}
	rep.FinalTest = &acc
	r.logf("final model: validation top-1 %.2f%% (every choice made on it), test top-1 %.2f%% (evaluated once, now)\n",
		finalVal(rep), acc)
	return nil
}

// finalVal is the final model's accuracy as the run measured it.
func finalVal(rep *report.Run) float64 {
	if rep.Final != nil {
		return rep.Final.AccTuned
	}
	if n := len(rep.Steps); n > 0 {
		if a := rep.Steps[n-1].AccTuned; a >= 0 {
			return a
		}
		return rep.Steps[n-1].AccPruned
	}
	return rep.Baseline.AccTuned
}
