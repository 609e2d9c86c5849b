package sgcnn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/tensor"
	"github.com/sgcnn/sgcnn/torchtrain"
	"github.com/sgcnn/sgcnn/train"
)

// trainer is a training run set up: its data, optimiser and engine.
type trainer struct {
	sets     *trainSets
	sched    optim.Schedule
	loader   *data.Loader
	opt      *optim.SGD
	nctx     *nn.Ctx
	stepper  *train.Stepper
	launcher *torchtrain.Launcher
	torchSet torchtrain.Settings
}

// newTrainer sets a run up: the loader, the optimiser with a resumed
// run's momentum, the torch trainer (checked before any work) and the
// teachers.
func newTrainer(ctx context.Context, m *Model, cfg *TrainConfig, s *trainSets, extra map[string]*tensor.Tensor, log io.Writer) (*trainer, error) {
	t := &trainer{sets: s}
	var err error
	if t.sched, err = optim.Parse(cfg.Schedule, cfg.LR, cfg.Epochs); err != nil {
		return nil, configErr("Schedule", nil, "%v", err)
	}
	if t.loader = s.loader; t.loader == nil {
		t.loader, err = data.NewLoader(s.train, data.Config{BatchSize: cfg.Batch, Shuffle: true, Seed: cfg.Seed,
			Pad: s.pad, Flip: s.flip, Norm: s.norm})
		if err != nil {
			return nil, err
		}
	}
	t.opt = optim.NewSGD(nn.AllParams(m.Model.Net), cfg.LR, cfg.Momentum, cfg.WeightDecay, cfg.Nesterov)
	if err := RestoreMomentum(t.opt, extra); err != nil {
		return nil, fmt.Errorf("resuming %s: %w", cfg.Out, err)
	}
	t.torchSet = torchtrain.Settings{Batch: cfg.Batch, Momentum: cfg.Momentum, WeightDecay: cfg.WeightDecay, Nesterov: cfg.Nesterov,
		Pad: s.pad, Flip: s.flip, EpochSize: cfg.EpochSize, Seed: cfg.Seed, Folder: s.folder}
	if t.launcher, err = torchLauncher(ctx, cfg.Engine, cfg.Out+".torch", m.Model.Arch, t.torchSet, len(cfg.Teachers) > 0, log); err != nil {
		return nil, err
	}
	t.nctx = nn.NewCtx(true)
	if t.nctx.Precision, err = nn.ParsePrecision(cfg.Precision); err != nil {
		return nil, err
	}
	if t.nctx.Precision == nn.BF16 && log != nil {
		fmt.Fprintf(log, "bf16 convolutions: %s\n", nn.BF16Route())
	}
	t.stepper = train.NewStepper(m.Model.Net, t.opt, t.nctx)
	if len(cfg.Teachers) > 0 {
		if t.stepper.Distill, err = openTeachers(cfg, m, s.norm, log); err != nil {
			return nil, err
		}
	}
	if cfg.Snapshots != "" {
		if err := os.MkdirAll(cfg.Snapshots, 0o755); err != nil {
			return nil, fmt.Errorf("snapshots: %w", err)
		}
	}
	return t, nil
}

// run trains the epochs left, saving after each, and evaluates the test
// split once after the last.
func (t *trainer) run(ctx context.Context, m *Model, cfg *TrainConfig, rec *TrainRecord) (*TrainRecord, error) {
	save := func(path string) error {
		if err := saveTrainRun(path, m.Model, rec, t.sets.norm, t.opt); err != nil {
			return err
		}
		if cfg.Saved != nil {
			cfg.Saved(path)
		}
		return nil
	}
	testSrc, valSrc := t.sets.during, train.Source(nil)
	if t.sets.final != nil {
		valSrc, testSrc = testSrc, nil
	}
	_, err := train.Fit(t.stepper, train.Plan{
		Epochs: cfg.Epochs, StartEpoch: rec.Done, Schedule: t.sched, PerIteration: cfg.LRStep == "iter", TrainLen: EpochLen(t.sets.n, cfg.EpochSize),
		Train: train.Limit(train.FromLoader(ctx, t.loader), cfg.EpochSize), Test: testSrc, Val: valSrc, Log: cfg.Log,
		Label:       m.Model.Arch,
		BeforeEpoch: func(e int) { t.nctx.Rand = rand.New(rand.NewPCG(cfg.Seed, uint64(e)+1)) },
		RunEpoch:    t.launcher.EpochFunc(ctx, m.Model, t.opt, t.sets.train, t.torchSet),
		AfterEpoch: func(es train.EpochStats) error {
			rec.Done, rec.Test = es.Epoch, nil // a test result belongs to the last epoch only
			rec.History = append(rec.History, es)
			if err := save(cfg.Out); err != nil {
				return err
			}
			if cfg.Snapshots == "" {
				return nil
			}
			return save(SnapshotPath(cfg.Snapshots, es.Epoch))
		},
	})
	if err != nil {
		return rec, &StoppedError{Err: err}
	}
	if err := ctx.Err(); err != nil { // the cancel came during the last evaluation
		return rec, fmt.Errorf("after the last epoch: %w", err)
	}
	if t.sets.final == nil || rec.Test != nil {
		return rec, nil
	}
	final := t.sets.final
	r, err := train.Evaluate(m.Model.Net, func(yield func(train.Batch) bool) error { return final(0, yield) })
	if err != nil {
		return rec, fmt.Errorf("the final test evaluation: %w", err)
	}
	rec.Test = &r
	fmt.Fprintf(cfg.Log, "%s: test top-1 %.2f%% top-5 %.2f%% (the test set's one evaluation, after the last epoch)\n", m.Model.Arch, r.Top1, r.Top5)
	return rec, save(cfg.Out) // the momentum stays: a longer run may resume this one
}

// SnapshotPath names the copy of epoch e's checkpoint (1-based) in dir.
func SnapshotPath(dir string, e int) string {
	return filepath.Join(dir, fmt.Sprintf("epoch-%03d.safetensors", e))
}

// saveTrainRun writes the model, its run record and the optimiser's
// momentum.
func saveTrainRun(path string, m *models.Model, rec *TrainRecord, norm data.Norm, opt *optim.SGD) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	info := modelfile.Info{Dataset: rec.Config.Dataset, Mean: norm.Mean, Std: norm.Std, Training: raw}
	return models.SaveFile(path, m, info, MomentumOf(opt))
}

// openTeachers opens the run's teachers for the student fed with norm, as
// one teacher: with several, the mean of their logits (an ensemble). A
// teacher is FILE or ARCH=FILE: an sgcnn file names its architecture, a
// PyTorch file is read as ARCH, else as the student's architecture.
func openTeachers(cfg *TrainConfig, student *Model, norm data.Norm, log io.Writer) (*train.Distill, error) {
	open := cfg.OpenTeacher
	if open == nil {
		open = func(arch, path string) (*Model, error) { return Open(path, WithArch(arch)) }
	}
	var forwards []func(*tensor.Tensor) (*tensor.Tensor, error)
	for _, spec := range cfg.Teachers {
		arch, path := TeacherSpec(spec)
		if head, err := readHead(path); arch == "" && (err != nil || !IsNative(head)) {
			arch = student.Model.Arch
		}
		t, err := open(arch, path)
		if err != nil {
			return nil, &ConfigError{Field: "Teachers", Value: spec, Err: err}
		}
		f, err := TeacherForward(t.Model, data.Norm{Mean: t.Info.Mean, Std: t.Info.Std}, norm, student.Model)
		if err != nil {
			if inner := errors.Unwrap(err); inner != nil {
				err = inner
			}
			return nil, &ConfigError{Field: "Teachers", Value: spec, Err: err}
		}
		forwards = append(forwards, f)
	}
	d := cfg.DistillSettings
	if len(cfg.Teachers) > 1 {
		fmt.Fprintf(log, "distilling from the mean logits of %s (T %g, alpha %g)\n", strings.Join(cfg.Teachers, ", "), d.Temp, d.Alpha)
	} else {
		fmt.Fprintf(log, "distilling from %s (T %g, alpha %g)\n", cfg.Teachers[0], d.Temp, d.Alpha)
	}
	return &train.Distill{Teacher: train.Ensemble(forwards...), Temp: d.Temp, Alpha: d.Alpha}, nil
}

// StoppedError is Train's error when a run stopped during its epochs (a
// loss or gradient that turned NaN or Inf, a checkpoint that could not be
// written, a cancel): the last checkpoint in Out stays.
type StoppedError struct{ Err error }

func (e *StoppedError) Error() string { return e.Err.Error() }

func (e *StoppedError) Unwrap() error { return e.Err }
