package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/tensor"
	"github.com/sgcnn/sgcnn/torchtrain"
	"github.com/sgcnn/sgcnn/train"
)

// trainConfig is what a training run was asked to do; it is stored in the
// checkpoint so that --resume continues the same run.
type trainConfig struct {
	Model    string  `json:"model"`
	Dataset  string  `json:"dataset"`
	Epochs   int     `json:"epochs"`
	Batch    int     `json:"batch"`
	LR       float64 `json:"lr"`
	Schedule string  `json:"schedule"`
	// LRStep is when the schedule's rate changes: "epoch" or "iter",
	// before every batch ("" in runs saved before the flag: epoch).
	LRStep      string  `json:"lr_step,omitempty"`
	Momentum    float64 `json:"momentum"`
	WeightDecay float64 `json:"weight_decay"`
	Nesterov    bool    `json:"nesterov"`
	Augment     bool    `json:"augment"`
	Shift       int     `json:"shift,omitempty"`
	Seed        uint64  `json:"seed"`
	Init        string  `json:"init,omitempty"`
	// Teachers, when set, are the model files distilled from (several:
	// the mean of their logits), each FILE or ARCH=FILE.
	Teachers []string `json:"teachers,omitempty"`
	// LegacyTeacher is the one teacher of runs saved before ensembles;
	// --resume moves it to Teachers.
	LegacyTeacher string `json:"teacher,omitempty"`
	// Snapshots, when set, is a folder that keeps every epoch's checkpoint
	// as epoch-NNN.safetensors (for sgcnn average).
	Snapshots string `json:"snapshots,omitempty"`
	// TrainLimit and TestLimit keep the first images of each split (0:
	// all); EpochSize draws a fresh random subset per epoch (0: all).
	TrainLimit int `json:"train_limit"`
	TestLimit  int `json:"test_limit"`
	EpochSize  int `json:"epoch_size"`
	// Threads is the worker thread count (0: one per core); DataDir the
	// data set's folder ("": found automatically). --resume uses both
	// unless given.
	Threads int    `json:"threads"`
	DataDir string `json:"data_dir,omitempty"`
	// ValSplit is the number of training images held out as a validation
	// split (0: none, every epoch evaluated on the test set).
	ValSplit int `json:"val_split,omitempty"`
	distillFlags
	torchtrain.Engine
}

// trainState is the record of a run kept in the model file.
type trainState struct {
	Config  trainConfig        `json:"config"`
	Done    int                `json:"epochs_done"`
	History []train.EpochStats `json:"history"`
	// Validation is the run's validation split, Test its one test-set
	// evaluation, after the last epoch (both absent without a split).
	Validation *report.Validation `json:"validation,omitempty"`
	Test       *train.EvalResult  `json:"test,omitempty"`
}

type trainOptions struct {
	trainConfig
	out    string
	plot   string
	resume bool
	json   bool
	force  bool
	// flags are the command's flags (nil when another command runs a
	// training): --resume checks the ones given against the run's.
	flags  *pflag.FlagSet
	valSet bool // --val-split given
}

func newTrainCmd(g *globals) *cobra.Command {
	o := &trainOptions{}
	cmd := &cobra.Command{
		Use:   "train [--model ARCH] [flags]",
		Short: "Train a model from scratch or from given weights",
		Long: `Train a model with SGD (momentum, weight decay) on a data set's training
split, evaluating top-1/top-5 after every epoch on a validation split held
out of the training set (--val-split; on the test split with --val-split 0),
and on the test split once, after the last epoch.

After every epoch the model, its optimiser state and the run's history are
written atomically to --out; --resume continues an interrupted run from
there, bit-identically on one thread. Training stops with an error naming
the layer if the loss or a gradient turns NaN/Inf; the last checkpoint
stays intact. With --seed and --threads 1 runs repeat bit for bit.

The learning-rate schedule is one of constant, cosine, step:N[:GAMMA] or
multistep:M1,M2,...[:GAMMA] (epochs, 0-based; GAMMA defaults to 0.1).

--teacher adds knowledge distillation (Hinton et al. 2015): the loss mixes
the labels' cross-entropy with the teacher's soft targets at temperature
--distill-temp, weighted by --distill-alpha. With --weights a pruned model
(its masks are kept) and --teacher the dense one, this continues a pruning
run's fine-tuning. A model fine-tuned to convergence with plain
cross-entropy may need a lower rate than it was trained with: the
distillation loss is sharper (a pruned ResNet-56's loss rose through a
whole epoch at 0.01 and fell at 0.005; docs/RESULTS.md).

Repeat --teacher for an ensemble: the teacher's logits are then the mean
of every teacher's. Teachers may be of other architectures that read the
same inputs and give the same classes; a PyTorch file, which does not name
its architecture, is given as ARCH=FILE (e.g. resnet44=resnet44.th).

--snapshots DIR keeps a copy of every epoch's checkpoint as
DIR/epoch-NNN.safetensors (each one resumable), e.g. for sgcnn average.
To rewind a run, copy a snapshot out of DIR and resume the copy: its later
epochs are trained again and overwrite their files in DIR.

A run stores every setting that changes its result (limits and threads
included), and --resume uses exactly those: a flag given with --resume that
differs from the stored value is an error naming both, except --threads,
--data, the --trainer torch placement (--nproc, --device, --nnodes,
--rdzv-endpoint), a larger --epochs (extending the run) and a --schedule replacing a
stored one that no longer parses. A new run refuses an existing --out
unless --force is given. While a run writes, a lock file .NAME.lock beside
--out holds its PID: a second run on the same --out is refused; the lock of
a killed run is taken over. SIGINT or SIGTERM stop a run at any time; a run
stopped before its first checkpoint leaves nothing behind.` + torchHelp,
		Example: `  sgcnn train --model lenet5 --epochs 10 --lr 0.01 --schedule step:4
  sgcnn train --model resnet20 --epochs 30 --schedule cosine --out runs/resnet20.safetensors
  sgcnn train --out runs/resnet20.safetensors --resume
  sgcnn train --model resnet56 --weights runs/prune-resnet56-G-conv62/checkpoint.safetensors \
      --teacher resnet56.th --epochs 20 --lr 0.005
  sgcnn train --model resnet56 --weights pruned.safetensors --teacher resnet56.th \
      --teacher resnet44=resnet44.th --teacher resnet32=resnet32.th --epochs 15 --lr 0.003
  sgcnn train --model resnet20 --weights resnet20.th --trainer torch --nproc 2 --epochs 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if arch := fileArch(o.Init); arch != "" && !cmd.Flags().Changed("model") {
				o.Model = arch // a model file names its architecture
			}
			o.flags = cmd.Flags()
			o.valSet = cmd.Flags().Changed("val-split")
			if err := checkValSplit(o.ValSplit); err != nil {
				return err
			}
			return runTrain(g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "resnet20", "architecture (see sgcnn info --list; a model file given with --weights names its own)")
	f.StringVar(&o.Init, "weights", "", "start from these weights (sgcnn or PyTorch file) instead of random ones")
	f.StringVar(&o.Dataset, "dataset", "", "cifar10, cifar100, mnist or fashion-mnist (default: the model's)")
	f.StringVar(&o.DataDir, "data", "", "folder with the data set's files (default: found automatically)")
	f.IntVar(&o.Epochs, "epochs", 30, "epochs")
	f.IntVar(&o.Batch, "batch", 128, fmt.Sprintf("images per batch (at most %d)", maxBatch))
	f.Float64Var(&o.LR, "lr", 0.1, "initial learning rate")
	f.StringVar(&o.Schedule, "schedule", "cosine", "learning-rate schedule")
	f.StringVar(&o.LRStep, "lr-step", "epoch", "when the schedule's rate changes: epoch (once per epoch) or iter (before every batch, as PyTorch's schedulers stepped per iteration; cosine only differs)")
	f.Float64Var(&o.Momentum, "momentum", 0.9, "SGD momentum")
	f.Float64Var(&o.WeightDecay, "wd", 1e-4, "weight decay")
	f.BoolVar(&o.Nesterov, "nesterov", false, "Nesterov momentum")
	f.BoolVar(&o.Augment, "augment", true, "random crop (4-pixel padding) and horizontal flip (CIFAR)")
	f.IntVar(&o.Shift, "shift", 0, fmt.Sprintf("random shift of up to N pixels (pad and crop, no flip; at most %d) on any data set, e.g. 2 for MNIST; overrides CIFAR's 4", maxShift))
	f.Uint64Var(&o.Seed, "seed", 1, "random seed (initial weights, shuffling, augmentation)")
	f.StringArrayVar(&o.Teachers, "teacher", nil, "distil from this model (sgcnn file, or PyTorch file of --model's architecture, or ARCH=FILE): train on its soft targets as well as the labels; repeat for an ensemble (the mean of the teachers' logits)")
	f.Float64Var(&o.Temp, "distill-temp", defaultDistillTemp, "distillation temperature T (with --teacher)")
	f.Float64Var(&o.Alpha, "distill-alpha", defaultDistillAlpha, "weight of the teacher's soft targets in the loss, in [0, 1] (with --teacher)")
	f.StringVar(&o.Snapshots, "snapshots", "", "also keep every epoch's checkpoint in this folder as epoch-NNN.safetensors")
	f.StringVarP(&o.out, "out", "o", "", "model file written after every epoch (default runs/<model>.safetensors)")
	f.BoolVar(&o.resume, "resume", false, "continue the run saved in --out with its stored settings (see --help)")
	f.BoolVar(&o.force, "force", false, "replace an existing --out (a finished or another run) with a new run")
	f.BoolVar(&o.json, "json", false, "print the run's history as JSON at the end")
	f.IntVar(&o.TrainLimit, "train-limit", 0, "use only the first N training images (0: all)")
	f.IntVar(&o.TestLimit, "test-limit", 0, "use only the first N test images (0: all)")
	f.StringVar(&o.plot, "plot", "", "write the training curve (train and test top-1 per epoch) to this PNG")
	f.IntVar(&o.EpochSize, "epoch-size", 0, "images per epoch, a fresh random subset of the training set each epoch (0: all)")
	registerEngine(f, &o.Engine)
	addValSplitFlag(cmd, &o.ValSplit)
	return cmd
}

func runTrain(g *globals, o *trainOptions) (err error) {
	if o.out == "" {
		o.out = filepath.Join("runs", runName(o.Model, o.Init)+".safetensors")
	}
	if !o.resume {
		o.Threads = g.threads
		if err := validateTrain(&o.trainConfig); err != nil {
			return err
		}
	}
	og, err := guardOutput(filepath.Dir(o.out), lockPath(o.out, false), g.stderr, filepath.Base(o.out))
	if err != nil {
		return err
	}
	written := false
	defer func() { og.close(written || fileExists(o.out)) }()
	var m *models.Model
	var st trainState
	var extra map[string]*tensor.Tensor
	var info modelfile.Info // the normalisation a model file records
	if o.resume {
		if m, st, extra, info, err = loadTrainRun(g, o); err != nil {
			return err
		}
	} else {
		if err := checkFreshOut(o.out, o.force, g.stderr); err != nil {
			return err
		}
		if len(o.Teachers) == 0 {
			o.distillFlags = distillFlags{} // not recorded without a teacher
		}
		if o.Init != "" {
			m, info, err = openModel(o.Model, o.Init)
		} else if m, err = models.New(o.Model, 0, o.Seed); err != nil {
			err = usageError{err}
		}
		if err != nil {
			return err
		}
		st.Config = o.trainConfig
	}
	if o.Dataset == "" {
		o.Dataset = defaultDataset(m.Arch)
		st.Config.Dataset = o.Dataset
	}
	sched, err := optim.Parse(o.Schedule, o.LR, o.Epochs)
	if err != nil {
		return usageError{err}
	}
	if err := stopped(g, "before loading the data; nothing was written"); err != nil {
		return err
	}
	trainSet, testSet, err := openSplits(o.Dataset, o.DataDir, [2]int{o.TrainLimit, o.TestLimit})
	if err != nil {
		return err
	}
	if err := checkFits(m, trainSet, o.Dataset); err != nil {
		return err
	}
	valSet, err := trainHoldout(o, &st, &trainSet)
	if err != nil {
		return err
	}
	ctx, cancel := interruptible(g, "") // the error says what is kept
	defer cancel()
	pad, flip := augmentation(trainSet.H, o.Augment, o.Shift)
	// A model file's recorded normalisation (an imported network's
	// --mean/--std) wins over the data set's default.
	norm := normFor(info, testSet)
	trainLoader, err := data.NewLoader(trainSet, data.Config{BatchSize: o.Batch, Shuffle: true, Seed: o.Seed,
		Pad: pad, Flip: flip, Norm: norm})
	if err != nil {
		return err
	}
	// The training batch size lets the layers keep their buffers.
	testSrc, finalSrc, err := evalSources(valSet, testSet, norm, o.Batch)
	if err != nil {
		return err
	}
	var valSrc train.Source
	if finalSrc != nil {
		valSrc, testSrc = testSrc, nil
	}
	opt := optim.NewSGD(nn.AllParams(m.Net), o.LR, o.Momentum, o.WeightDecay, o.Nesterov)
	if err := restoreMomentum(opt, extra); err != nil {
		return fmt.Errorf("--resume: %s: %w", o.out, err)
	}
	torchSet := torchtrain.Settings{Batch: o.Batch, Momentum: o.Momentum, WeightDecay: o.WeightDecay, Nesterov: o.Nesterov,
		Pad: pad, Flip: flip, EpochSize: o.EpochSize, Seed: o.Seed}
	launcher, err := torchLauncher(ctx, g, o.Engine, o.out+".torch", m.Arch, torchSet, len(o.Teachers) > 0)
	if err != nil {
		return err
	}
	nctx := nn.NewCtx(true)
	stepper := train.NewStepper(m.Net, opt, nctx)
	if len(o.Teachers) > 0 {
		if stepper.Distill, err = openTeachers(o.Teachers, m, norm, o.distillFlags); err != nil {
			return err
		}
		fmt.Fprintln(g.stderr, o.distillFlags.describe(o.Teachers...))
	}
	if o.Snapshots != "" {
		if err := og.mkdir(o.Snapshots); err != nil {
			return fmt.Errorf("--snapshots: %w", err)
		}
		removeStaleTemps(o.Snapshots, g.stderr, snapshotGlob)
	}
	if err := stopped(g, "before the first epoch; nothing was written"); err != nil {
		return err
	}
	_, err = train.Fit(stepper, train.Plan{
		Epochs: o.Epochs, StartEpoch: st.Done, Schedule: sched, PerIteration: o.LRStep == "iter", TrainLen: epochLen(trainSet.Len(), o.EpochSize),
		Train: train.Limit(train.FromLoader(ctx, trainLoader), o.EpochSize), Test: testSrc, Val: valSrc, Log: g.stderr, Label: m.Arch,
		BeforeEpoch: func(e int) { nctx.Rand = rand.New(rand.NewPCG(o.Seed, uint64(e)+1)) },
		RunEpoch:    launcher.EpochFunc(ctx, m, opt, trainSet, torchSet),
		AfterEpoch: func(es train.EpochStats) error {
			st.Done, st.Test = es.Epoch, nil // a test result belongs to the last epoch only
			st.History = append(st.History, es)
			if err := saveRun(o.out, m, st, norm, opt); err != nil {
				return err
			}
			written = true
			if o.Snapshots == "" {
				return nil
			}
			return saveRun(snapshotPath(o.Snapshots, es.Epoch), m, st, norm, opt)
		},
	})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			if !written && !fileExists(o.out) {
				return interruptedError{"before the first checkpoint; nothing was written"}
			}
			return interruptedError{fmt.Sprintf("%s; continue with: %s", lastOnDisk(o.out), resumeCommand("train", o.out, o.DataDir))}
		}
		return fmt.Errorf("training stopped: %w (%s)", err, lastOnDisk(o.out))
	}
	if g.ctx.Err() != nil { // the signal came during the last evaluation
		return interruptedError{lastOnDisk(o.out) + ": the run had finished its last epoch"}
	}
	if err := finalTrainTest(g, o, m, &st, finalSrc, norm, opt); err != nil {
		return err
	}
	if o.plot != "" && len(st.History) > 0 {
		if err := plotHistory(o.plot, m.Arch, st.History); err != nil {
			return err
		}
		fmt.Fprintf(g.stderr, "wrote %s\n", o.plot)
	}
	if o.json {
		return writeJSON(g.stdout, st)
	}
	if n := len(st.History); n > 0 && st.Test != nil {
		fmt.Fprintf(g.stdout, "%s trained %d epochs on %s: val top-1 %.2f%% (last epoch; %d held-out training images), test top-1 %.2f%% (evaluated once, at the end), saved to %s\n",
			m.Arch, st.Done, o.Dataset, st.History[n-1].ValTop1, st.Validation.Images, st.Test.Top1, o.out)
	} else if n > 0 {
		last := st.History[n-1]
		fmt.Fprintf(g.stdout, "%s trained %d epochs on %s: test top-1 %.2f%% (last epoch), saved to %s\n",
			m.Arch, st.Done, o.Dataset, last.TestTop1, o.out)
	}
	return nil
}

// trainNotStored are the train flags a run does not store.
var trainNotStored = []string{"out", "resume", "json", "plot", "force", "allow-nonfinite", "threads"}

// loadTrainRun reads the run to resume from o.out and puts its stored
// settings into o, checking the flags given against them.
func loadTrainRun(g *globals, o *trainOptions) (*models.Model, trainState, map[string]*tensor.Tensor, modelfile.Info, error) {
	var st trainState
	var given map[string]string
	if o.flags != nil {
		given = flagsGiven(o.flags, trainNotStored...)
	}
	f, err := modelfile.Load(o.out, "")
	if err != nil {
		return nil, st, nil, modelfile.Info{}, fmt.Errorf("--resume: %w", err)
	}
	if err := json.Unmarshal(f.Info.Training, &st); err != nil || st.Config.Model == "" {
		return nil, st, nil, modelfile.Info{}, fmt.Errorf("--resume: %s holds no training run to continue", o.out)
	}
	if inDir(o.out, st.Config.Snapshots) {
		return nil, st, nil, modelfile.Info{}, usagef("--resume: %s is one of the run's snapshots: copy it out of %s and resume the copy (its later epochs then rewrite the snapshots after it)", o.out, st.Config.Snapshots)
	}
	if st.Config.LRStep == "" { // saved before --lr-step: stepped per epoch
		st.Config.LRStep = "epoch"
	}
	if st.Config.LegacyTeacher != "" {
		st.Config.Teachers, st.Config.LegacyTeacher = []string{st.Config.LegacyTeacher}, ""
	}
	if st.Config.Dataset == "" {
		st.Config.Dataset = f.Info.Dataset
	}
	if err := checkLoadedModel(g, f.Model, o.out); err != nil {
		return nil, st, nil, modelfile.Info{}, err
	}
	// Runs saved before the limits were stored: the limits given now apply.
	legacy := !strings.Contains(string(f.Info.Training), `"train_limit"`)
	o.trainConfig = st.Config
	if o.flags != nil {
		rule := func(name, given, stored string) bool {
			switch name {
			case "schedule":
				_, err := optim.Parse(stored, o.LR, o.Epochs)
				return err != nil
			case "train-limit", "test-limit", "epoch-size":
				return legacy
			}
			return longerEpochs(name, given, stored)
		}
		if err := applyResumeFlags(o.flags, given, rule, g.stderr); err != nil {
			return nil, st, nil, modelfile.Info{}, err
		}
		resumeThreads(g, o.flags, st.Config.Threads)
	}
	if err := validateTrain(&o.trainConfig); err != nil {
		return nil, st, nil, modelfile.Info{}, fmt.Errorf("--resume: the run's settings: %w", err)
	}
	if o.Epochs > st.Config.Epochs {
		fmt.Fprintf(g.stderr, "extending the run from %d to %d epochs\n", st.Config.Epochs, o.Epochs)
	}
	st.Config = o.trainConfig
	fmt.Fprintf(g.stderr, "resuming %s after epoch %d of %d\n", o.out, st.Done, st.Config.Epochs)
	return f.Model, st, f.Extra, f.Info, nil
}

// resumeCommand is the command that continues a run.
func resumeCommand(cmd, out, dataDir string) string {
	s := "sgcnn " + cmd + " --out " + out + " --resume"
	if dataDir != "" {
		s += " --data " + dataDir
	}
	return s
}

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}

// validateTrain checks a training run's settings before any work.
func validateTrain(c *trainConfig) error {
	switch {
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return usagef("--lr %g: want a finite rate > 0", c.LR)
	case c.Epochs < 1:
		return usagef("--epochs %d: want at least 1", c.Epochs)
	case c.Batch < 1 || c.Batch > maxBatch:
		return usagef("--batch %d: want 1 to %d", c.Batch, maxBatch)
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return usagef("--momentum %g: want [0, 1)", c.Momentum)
	case !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0):
		return usagef("--wd %g: want a finite value >= 0", c.WeightDecay)
	case c.Shift < 0 || c.Shift > maxShift:
		return usagef("--shift %d: want 0 to %d pixels", c.Shift, maxShift)
	case c.TrainLimit < 0 || c.TestLimit < 0 || c.EpochSize < 0:
		return usagef("--train-limit %d, --test-limit %d, --epoch-size %d: want 0 (all) or more", c.TrainLimit, c.TestLimit, c.EpochSize)
	case c.Dataset != "" && !slices.Contains(datasets, c.Dataset):
		return usagef("--dataset %q: want one of %s", c.Dataset, strings.Join(datasets, ", "))
	}
	if _, err := optim.Parse(c.Schedule, c.LR, c.Epochs); err != nil {
		return usagef("--schedule: %v", err)
	}
	if err := validateLRStep(c.LRStep, c.Trainer); err != nil {
		return err
	}
	for _, spec := range c.Teachers {
		if _, path := teacherSpec(spec); !fileExists(path) {
			return usagef("--teacher %s: no such file", spec)
		}
	}
	if len(c.Teachers) > 0 {
		return c.distillFlags.validate()
	}
	return nil
}

// validateLRStep checks --lr-step: epoch or iter, and iter only on sgcnn's
// own engine (an epoch run by torchtrain takes one rate).
func validateLRStep(step, trainer string) error {
	switch {
	case step != "epoch" && step != "iter":
		return usagef("--lr-step %q: want epoch or iter", step)
	case step == "iter" && trainer == "torch":
		return usagef("--lr-step iter with --trainer torch: the torch trainer takes one rate per epoch; use --lr-step epoch or --trainer go")
	}
	return nil
}

// inDir reports whether the file path lies directly in the folder dir
// (false when dir is empty).
func inDir(path, dir string) bool {
	if dir == "" {
		return false
	}
	a, err1 := filepath.Abs(filepath.Dir(path))
	b, err2 := filepath.Abs(dir)
	return err1 == nil && err2 == nil && a == b
}

// snapshotPath names the copy of epoch e's checkpoint (1-based) in dir.
func snapshotPath(dir string, e int) string {
	return filepath.Join(dir, fmt.Sprintf("epoch-%03d.safetensors", e))
}

// saveRun writes the model, its run record and the optimiser's momentum.
func saveRun(path string, m *models.Model, st trainState, norm data.Norm, opt *optim.SGD) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return modelfile.Save(path, m, false, modelfile.Info{Dataset: st.Config.Dataset, Mean: norm.Mean, Std: norm.Std, Training: raw}, momentumOf(opt))
}

// restoreMomentum puts saved momentum buffers back into opt.
func restoreMomentum(opt *optim.SGD, extra map[string]*tensor.Tensor) error {
	for i, p := range opt.Params {
		if t, ok := extra[modelfile.OptimPrefix+p.Name+".momentum_buffer"]; ok {
			if err := opt.SetVelocity(i, append([]float32(nil), t.Data...)); err != nil {
				return err
			}
		}
	}
	return nil
}

// plotHistory draws train and test top-1 per epoch.
func plotHistory(path, arch string, h []train.EpochStats) error {
	xs, tr, te := make([]float64, len(h)), make([]float64, len(h)), make([]float64, len(h))
	for i, e := range h {
		xs[i], tr[i], te[i] = float64(e.Epoch), e.TrainTop1, e.TestTop1
		if e.ValTop1 > 0 {
			te[i] = e.ValTop1
		}
	}
	name := "test top-1"
	if len(h) > 0 && h[0].ValTop1 > 0 {
		name = "validation top-1"
	}
	return report.PlotCurve(path, [][]float64{xs, xs}, [][]float64{tr, te}, []string{"train top-1 (augmented)", name},
		arch+" training", "epoch", "top-1 (%)")
}
