package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/train"
)

// trainConfig is what a training run was asked to do, as its checkpoint
// stores it (sgcnn.TrainSettings); trainState is the run's record.
type (
	trainConfig = sgcnn.TrainSettings
	trainState  = sgcnn.TrainRecord
)

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
stopped before its first checkpoint leaves nothing behind.` + folderHelp + "\n" + torchHelp,
		Example: `  sgcnn train --model lenet5 --epochs 10 --lr 0.01 --schedule step:4
  sgcnn train --model resnet20 --epochs 30 --schedule cosine --out runs/resnet20.safetensors
  sgcnn train --out runs/resnet20.safetensors --resume
  sgcnn train --model resnet56 --weights runs/prune-resnet56-G-conv62/checkpoint.safetensors \
      --teacher resnet56.th --epochs 20 --lr 0.005
  sgcnn train --model resnet56 --weights pruned.safetensors --teacher resnet56.th \
      --teacher resnet44=resnet44.th --teacher resnet32=resnet32.th --epochs 15 --lr 0.003
  sgcnn train --model resnet20 --weights resnet20.th --trainer torch --nproc 2 --epochs 3
  sgcnn train --model resnet50 --classes 10 --dataset imagefolder --data imgs --trainer torch --nproc 2`,
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
	f.StringVar(&o.Dataset, "dataset", "", "cifar10, cifar100, mnist, fashion-mnist or imagefolder (default: the model's)")
	f.StringVar(&o.DataDir, "data", "", "folder with the data set's files (default: found automatically; required for imagefolder)")
	f.IntVar(&o.Classes, "classes", 0, "outputs of a new model (0: the architecture's), e.g. the class folders of --dataset imagefolder")
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
	f.StringVar(&o.Precision, "precision", "", "arithmetic of the convolutions: fp32 (the default), or bf16 (operands rounded to bf16, fp32 sums and master weights; on AMX where the CPU has it, else on AVX512_BF16 where VDPBF16PS measures faster than the FMA (AMD Zen 4), else emulated and slower)")
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
		if err := o.Validate(); err != nil {
			return flagError(err)
		}
	}
	og, err := guardOutput(filepath.Dir(o.out), lockPath(o.out, false), g.stderr, filepath.Base(o.out))
	if err != nil {
		return err
	}
	written := false
	defer func() { og.close(written || fileExists(o.out)) }()
	cfg := sgcnn.TrainConfig{Out: o.out, ValSplitDefault: !o.valSet, Log: g.stderr,
		Saved: func(string) { written = true },
		OpenTeacher: func(arch, path string) (*sgcnn.Model, error) {
			m, info, err := openModel(arch, path)
			return &sgcnn.Model{Model: m, Info: info}, err
		}}
	if o.LRStep == "" && o.flags != nil && o.flags.Changed("lr-step") {
		// The API's zero value means epoch (so does a run prune starts for
		// LeNet-5's pretraining); given on the command line it is a mistake.
		return usagef("--lr-step \"\": want epoch or iter")
	}
	var m *sgcnn.Model
	if o.resume {
		if cfg.From, err = loadTrainRun(g, o); err != nil {
			return err
		}
		m = cfg.From.Model
	} else {
		if err := checkFreshOut(o.out, o.force, g.stderr); err != nil {
			return err
		}
		m = &sgcnn.Model{}
		if o.Init != "" {
			m.Model, m.Info, err = openModel(o.Model, o.Init)
		} else if m.Model, err = models.New(o.Model, o.Classes, o.Seed); err != nil {
			err = usageError{err}
		}
		if err != nil {
			return err
		}
	}
	if err := stopped(g, "before loading the data; nothing was written"); err != nil {
		return err
	}
	if o.Snapshots != "" {
		if err := og.mkdir(o.Snapshots); err != nil {
			return fmt.Errorf("--snapshots: %w", err)
		}
		removeStaleTemps(o.Snapshots, g.stderr, snapshotGlob)
	}
	ctx, cancel := interruptible(g, "") // the error says what is kept
	defer cancel()
	cfg.TrainSettings = o.trainConfig
	st, err := sgcnn.Train(ctx, m, cfg)
	if err != nil {
		return trainError(o, written, err)
	}
	if o.plot != "" && len(st.History) > 0 {
		if err := plotHistory(o.plot, st.Config.Model, st.History); err != nil {
			return err
		}
		fmt.Fprintf(g.stderr, "wrote %s\n", o.plot)
	}
	if o.json {
		return writeJSON(g.stdout, st)
	}
	arch := m.Model.Arch
	if n := len(st.History); n > 0 && st.Test != nil {
		fmt.Fprintf(g.stdout, "%s trained %d epochs on %s: val top-1 %.2f%% (last epoch; %d held-out training images), test top-1 %.2f%% (evaluated once, at the end), saved to %s\n",
			arch, st.Done, st.Config.Dataset, st.History[n-1].ValTop1, st.Validation.Images, st.Test.Top1, o.out)
	} else if n > 0 {
		last := st.History[n-1]
		fmt.Fprintf(g.stdout, "%s trained %d epochs on %s: test top-1 %.2f%% (last epoch), saved to %s\n",
			arch, st.Done, st.Config.Dataset, last.TestTop1, o.out)
	}
	return nil
}

// trainError says what a failed sgcnn.Train kept and how to go on; a bad
// setting is a usage error naming its flag.
func trainError(o *trainOptions, written bool, err error) error {
	if errors.As(err, new(*sgcnn.ConfigError)) {
		return flagError(err)
	}
	if !errors.Is(err, context.Canceled) {
		if errors.As(err, new(*sgcnn.StoppedError)) {
			return fmt.Errorf("training stopped: %w (%s)", err, lastOnDisk(o.out))
		}
		return err
	}
	if !written && !fileExists(o.out) {
		return interruptedError{"before the first checkpoint; nothing was written"}
	}
	if c, rerr := sgcnn.ReadTrainCheckpoint(o.out); rerr == nil && c.Record.Done >= c.Record.Config.Epochs {
		return interruptedError{lastOnDisk(o.out) + ": the run had finished its last epoch"}
	}
	return interruptedError{fmt.Sprintf("%s; continue with: %s", lastOnDisk(o.out), resumeCommand("train", o.out, o.DataDir))}
}

// trainNotStored are the train flags a run does not store.
var trainNotStored = []string{"out", "resume", "json", "plot", "force", "allow-nonfinite", "threads"}

// loadTrainRun reads the run to resume from o.out and puts its stored
// settings into o, checking the flags given against them.
func loadTrainRun(g *globals, o *trainOptions) (*sgcnn.TrainCheckpoint, error) {
	var given map[string]string
	if o.flags != nil {
		given = flagsGiven(o.flags, trainNotStored...)
	}
	c, err := sgcnn.ReadTrainCheckpoint(o.out)
	if err != nil {
		return nil, fmt.Errorf("--resume: %w", err)
	}
	st := c.Record
	if inDir(o.out, st.Config.Snapshots) {
		return nil, usagef("--resume: %s is one of the run's snapshots: copy it out of %s and resume the copy (its later epochs then rewrite the snapshots after it)", o.out, st.Config.Snapshots)
	}
	if err := checkLoadedModel(g, c.Model.Model, o.out); err != nil {
		return nil, err
	}
	o.trainConfig = st.Config
	if o.flags != nil {
		rule := func(name, given, stored string) bool {
			switch name {
			case "schedule":
				_, err := optim.Parse(stored, o.LR, o.Epochs)
				return err != nil
			case "train-limit", "test-limit", "epoch-size":
				return c.LegacyLimits
			}
			return longerEpochs(name, given, stored)
		}
		if err := applyResumeFlags(o.flags, given, rule, g.stderr); err != nil {
			return nil, err
		}
		resumeThreads(g, o.flags, st.Config.Threads)
	}
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("--resume: the run's settings: %w", flagError(err))
	}
	if o.Epochs > st.Config.Epochs {
		fmt.Fprintf(g.stderr, "extending the run from %d to %d epochs\n", st.Config.Epochs, o.Epochs)
	}
	fmt.Fprintf(g.stderr, "resuming %s after epoch %d of %d\n", o.out, st.Done, o.Epochs)
	return c, nil
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
