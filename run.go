package sgcnn

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/pipeline"
	"github.com/sgcnn/sgcnn/tensor"
	"github.com/sgcnn/sgcnn/torchtrain"
	"github.com/sgcnn/sgcnn/train"
)

// newRun builds the pipeline runner of a run, without its Save: the
// training batches, the evaluation sources, the pruner (budgeted when
// cfg.Budget's plan is in force), the teacher, the torch trainer and the
// final measurement.
func newRun(ctx context.Context, m *Model, cfg *PruneConfig, st *pipeline.State, ds *dataSets, log io.Writer) (*pipeline.Runner, error) {
	c := &st.Config
	rd, err := openRunData(ds, c)
	if err != nil {
		return nil, err
	}
	trainSrc := train.Limit(train.FromLoader(ctx, rd.loader), cfg.EpochSize)
	pruner, err := pipeline.NewPruner(*c, m.Model.Net, trainSrc)
	if err != nil {
		return nil, badConfig(err)
	}
	if pruner, err = cfg.Budget.wrap(cfg.Dir, cfg.Resume, *c, pruner); err != nil {
		return nil, err
	}
	var teacher *train.Distill
	if c.Distill {
		if teacher, err = pruneTeacher(filepath.Join(cfg.Dir, TeacherFile), m, ds.norm, *c, cfg.Resume, log); err != nil {
			return nil, err
		}
	}
	torchSet := torchtrain.Settings{Batch: c.Batch, Momentum: c.Momentum, WeightDecay: c.WeightDecay, Pad: rd.pad, Flip: rd.flip,
		EpochSize: cfg.EpochSize, Folder: rd.folder}
	launcher, err := torchLauncher(ctx, c.Engine, filepath.Join(cfg.Dir, "torch"), m.Model.Arch, torchSet, c.Distill, log)
	if err != nil {
		return nil, err
	}
	r := &pipeline.Runner{Model: m.Model, Distill: teacher, Pruner: pruner, Train: trainSrc, TrainLen: EpochLen(rd.n, cfg.EpochSize),
		Test: rd.during, Final: rd.final, Log: log, Stop: ctx.Err}
	if launcher != nil {
		r.Epoch = func(st *pipeline.State, opt *optim.SGD) train.EpochFunc {
			s := torchSet
			s.Seed = c.Seed + 1000*uint64(st.Step) // each phase its own data order, as the Go loader's
			if st.Phase == pipeline.PhaseGlobal {
				s.Seed++
			}
			return launcher.Epoch(ctx, m.Model, opt, ds.train, ds.norm, s)
		}
	}
	if cfg.Measure {
		r.Measure = func() (float64, error) {
			fmt.Fprintln(log, "measuring the compiled model's speedup over the dense one (batch 64)")
			return compile.Speedup(m.Model.Net, m.Model.InputShape[:], 64)
		}
	}
	return r, nil
}

// runData are the batches of a run: the shuffled, augmented training
// batches (n images), the evaluation sources (as evalSources returns
// them), the crop padding and flip, and for image folders the torch
// trainer's folder settings (nil otherwise).
type runData struct {
	loader        *data.Loader
	n             int
	during, final train.Source
	pad           int
	flip          bool
	folder        *torchtrain.Folder
}

// openRunData makes the batches of ds under c's settings: an image
// folder's random resized crops and flips, else c's augmentation.
func openRunData(ds *dataSets, c *pipeline.Config) (*runData, error) {
	if fs := ds.folder; fs != nil {
		return folderRun(fs, ds.norm, c.Batch, c.Seed, c.Engine)
	}
	rd := &runData{n: ds.train.Len()}
	rd.pad, rd.flip = Augmentation(ds.train.H, c.Augment, c.Shift)
	var err error
	rd.loader, err = data.NewLoader(ds.train, data.Config{BatchSize: c.Batch, Shuffle: true, Seed: c.Seed, Pad: rd.pad, Flip: rd.flip, Norm: ds.norm})
	if err != nil {
		return nil, err
	}
	// Evaluating at the training batch size lets the layers keep their
	// buffers instead of reallocating them at every switch.
	rd.during, rd.final, err = evalSources(ds.val, ds.test, ds.norm, c.Batch)
	return rd, err
}

// Augmentation returns the training crop padding and flip for a data set
// of h x h images: CIFAR's (4-pixel padding and left-right flips) when
// augment is set on 32 x 32 images, and a random shift of up to shift
// pixels in each direction (zero padding, a random crop, no flip) when shift
// > 0, on any data set (digits must not be mirrored).
func Augmentation(h int, augment bool, shift int) (pad int, flip bool) {
	if augment && h == 32 {
		pad, flip = data.CIFARPad, true
	}
	if shift > 0 {
		pad = shift
	}
	return pad, flip
}

// EpochLen is the number of images an epoch of size images (0: all)
// visits in a set of n.
func EpochLen(n, size int) int {
	if size > 0 && size < n {
		return size
	}
	return n
}

// EvalSource streams a data set in order, unaugmented, normalised by norm.
func EvalSource(ds *data.Dataset, norm data.Norm, batch int) (train.Source, error) {
	l, err := data.NewLoader(ds, data.Config{BatchSize: batch, Norm: norm})
	if err != nil {
		return nil, err
	}
	return train.FromLoader(context.Background(), l), nil
}

// evalSources returns the batches a run measures itself on, and the test
// batches it evaluates once at the end: the validation split and the test
// set when there is a split (val not nil), else the test set and nil.
func evalSources(val, test *data.Dataset, norm data.Norm, batch int) (during, final train.Source, err error) {
	testSrc, err := EvalSource(test, norm, batch)
	if err != nil || val == nil {
		return testSrc, nil, err
	}
	valSrc, err := EvalSource(val, norm, batch)
	if err != nil {
		return nil, nil, err
	}
	return valSrc, testSrc, nil
}

// pruneTeacher returns the distillation of a pruning run: a fresh run
// keeps the dense model m as its teacher in path (before any pruning), a
// resumed one reads it back from there.
func pruneTeacher(path string, m *Model, norm data.Norm, cfg pipeline.Config, resume bool, log io.Writer) (*train.Distill, error) {
	if !resume {
		info := m.Info
		info.Pruning = nil
		if err := models.SaveFile(path, m.Model, info, nil); err != nil {
			return nil, fmt.Errorf("saving the teacher: %w", err)
		}
	}
	f, err := models.LoadFile(path, m.Model.Arch)
	if err != nil {
		return nil, fmt.Errorf("the distillation teacher: %w", err)
	}
	fmt.Fprintf(log, "distilling from %s (T %g, alpha %g)\n", path, cfg.DistillTemp, cfg.DistillAlpha)
	forward, err := TeacherForward(f.Model, data.Norm{Mean: f.Info.Mean, Std: f.Info.Std}, norm, m.Model)
	if err != nil {
		return nil, err
	}
	return &train.Distill{Teacher: forward, Temp: cfg.DistillTemp, Alpha: cfg.DistillAlpha}, nil
}

// TeacherForward returns the logits of the teacher model t for a student
// fed with norm: t runs compiled (BN folded, evaluation mode), or through
// package nn where the compiler does not take it. The teacher must read
// the student's input: the same shape and, where its file records one
// (recorded), the same normalisation.
func TeacherForward(t *models.Model, recorded, norm data.Norm, student *models.Model) (func(*tensor.Tensor) (*tensor.Tensor, error), error) {
	if t.InputShape != student.InputShape || t.Classes != student.Classes {
		return nil, &ConfigError{Err: fmt.Errorf("a %s for %v inputs and %d classes cannot teach a %s for %v inputs and %d classes",
			t.Arch, t.InputShape, t.Classes, student.Arch, student.InputShape, student.Classes)}
	}
	if recorded.Mean != nil && (!slices.Equal(recorded.Mean, norm.Mean) || !slices.Equal(recorded.Std, norm.Std)) {
		return nil, &ConfigError{Err: fmt.Errorf("its file records the input normalisation mean %v std %v, the student is fed mean %v std %v",
			recorded.Mean, recorded.Std, norm.Mean, norm.Std)}
	}
	forward := func(x *tensor.Tensor) (*tensor.Tensor, error) { return t.Net.Forward(nn.NewCtx(false), x) }
	if net, err := compile.Compile(t.Net, t.InputShape[:], compile.Options{Route: compile.Dense}); err == nil {
		forward = net.Forward
	}
	return forward, nil
}

// torchLauncher checks the torch trainer's set-up before any work and
// returns it, working in dir; nil for the Go trainer.
func torchLauncher(ctx context.Context, e torchtrain.Engine, dir, arch string, s torchtrain.Settings, distill bool, log io.Writer) (*torchtrain.Launcher, error) {
	on, err := e.Torch()
	if err != nil {
		return nil, badConfig(err)
	}
	if !on {
		return nil, nil
	}
	if distill {
		return nil, configErr("Trainer", "torch", "does not support distillation (Distill): use the go trainer")
	}
	l := e.Launcher(dir, parallel.Threads(), log)
	if err := l.Check(ctx, arch, s); err != nil {
		return nil, badConfig(err)
	}
	fmt.Fprintf(log, "fine-tuning on PyTorch DDP: %d process(es) per node on %s, work folder %s\n", max(1, e.NProc), l.Device, dir)
	return l, nil
}
