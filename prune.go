package sgcnn

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/pipeline"
	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/tensor"
)

// ValSeed is the fixed seed that draws every validation split, the same as
// the sgcnn command's: runs on the same training set hold out the same
// images.
const ValSeed = 20261206

// CheckpointFile is the name of a run's checkpoint in PruneConfig.Dir.
const CheckpointFile = "checkpoint.safetensors"

// TeacherFile is the name of a distilled run's teacher in PruneConfig.Dir:
// the dense model as it was before pruning.
const TeacherFile = "teacher.safetensors"

// PruneConfig configures Prune: the schedule, the data, and the run folder.
type PruneConfig struct {
	// Config is the schedule (see pipeline.DefaultConfig): method, rates,
	// fine-tuning, seed; ValSplit, the training images held out as a
	// validation split (0: none, every accuracy on the test set);
	// Distill, distillation from the dense model; Cycles and Average, the
	// global phase as cosine cycles and the average of their ends; and
	// Engine, the PyTorch DDP trainer. Distill, Average and the torch
	// trainer need Dir.
	pipeline.Config
	// RunSettings are the data set, limits, epoch size, threads and the
	// final measurement; a checkpoint stores them.
	RunSettings
	// ValSplitCapped makes ValSplit a default rather than a demand: at
	// most a tenth of the training set is held out (the sgcnn command's
	// --val-split when not given).
	ValSplitCapped bool
	// Train and Test are the data. When nil, both are read by Dataset
	// from DataDir, the first TrainLimit and TestLimit images.
	Train, Test *data.Dataset
	// Budget prunes each layer toward its own target rate (see
	// PlanBudget) instead of one rate for all.
	Budget *BudgetRun
	// Dir is the run folder: a checkpoint (CheckpointFile) after every
	// step and epoch. "" runs without checkpoints. A new run refuses a
	// folder that holds a checkpoint unless Overwrite is set. Prune takes
	// no lock on the folder.
	Dir string
	// Overwrite lets a new run replace the run in Dir.
	Overwrite bool
	// Resume continues the run in Dir with the settings it stored: Prune
	// then ignores Config and m's weights, and replaces m's network and
	// record by the checkpoint's. DataDir, when set, replaces the stored
	// one.
	Resume bool
	// From is the checkpoint Resume continues (as ReadCheckpoint returned
	// it, its changeable settings adjusted); nil reads Dir's.
	From *Checkpoint
	// Log receives the progress lines (nil: none).
	Log io.Writer
	// DryRun checks the settings, opens the data and the trainer (the
	// torch trainer's interpreter probed) and returns before the first
	// evaluation, without a checkpoint; Result.Report is then the run's
	// empty report.
	DryRun bool
}

// Result is what a pruning run returns.
type Result struct {
	// Report holds the accuracy, parameter and FLOP counts per step, and
	// the final test accuracy when there was a validation split.
	Report *report.Run
	// Checkpoint is the path of the run's last checkpoint ("" without Dir).
	Checkpoint string
}

// Prune prunes m by cfg's schedule (package pipeline, package baseline's
// methods) and fine-tunes it, in place. A checkpoint goes to cfg.Dir after
// every step and epoch; cfg.Resume continues from the last one, the same
// run bit for bit (at the same thread count). Cancelling ctx stops the run
// at the next step or epoch, the last checkpoint kept; the error then
// wraps context.Canceled. Settings that cannot work are *ConfigError.
func Prune(ctx context.Context, m *Model, cfg PruneConfig) (*Result, error) {
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	ckpt, err := runFolder(&cfg)
	if err != nil {
		return nil, err
	}
	prev := parallel.Threads()
	defer parallel.SetThreads(prev)
	parallel.SetThreads(cfg.Threads) // a budget's plan measures on them
	st, extra, err := startState(m, &cfg, ckpt, log)
	if err != nil {
		return nil, err
	}
	parallel.SetThreads(cfg.Threads) // a resumed run's stored count
	run := cfg.RunSettings
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("before loading the data: %w", err)
	}
	sets, err := loadData(m, &cfg, st)
	if err != nil {
		return nil, err
	}
	run.Dataset = cfg.Dataset
	r, err := newRun(ctx, m, &cfg, st, sets, log)
	if err != nil {
		return nil, err
	}
	if cfg.DryRun {
		fmt.Fprintf(log, "dry run: the settings, the data (%s) and the trainer are ready; stopping before the baseline's evaluation\n", cfg.Dataset)
		return &Result{Report: &st.Report}, nil
	}
	r.Save = func(*pipeline.State, *optim.SGD) error { return nil }
	if ckpt != "" {
		r.Save = func(st *pipeline.State, opt *optim.SGD) error { return saveCheckpoint(ckpt, m, st, &run, opt) }
		r.Restore = func(opt *optim.SGD) error { return RestoreMomentum(opt, extra) }
	}
	if st.Config.Average {
		r.Save = keepCycles(r.Save, cfg.Dir, m)
		r.Finish = averageCycles(cfg.Dir, m.Model, r.Train, r.Test, r.Final != nil, r.Save, log)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("before the baseline's evaluation: %w", err)
	}
	rep, err := r.Run(st)
	if err != nil {
		return nil, err
	}
	res := &Result{Report: rep, Checkpoint: ckpt}
	if err := ctx.Err(); err != nil { // during the last evaluation or the measurement
		return res, fmt.Errorf("the run is complete in its checkpoint, but was stopped before its end: %w", err)
	}
	if err := finishBudget(cfg.Budget, r.Pruner, cfg.Dir, m.Model, log); err != nil {
		return res, err
	}
	return res, nil
}

// runFolder creates cfg.Dir and returns its checkpoint's path ("" without
// a folder), refusing a new run over an old one unless cfg.Overwrite.
func runFolder(cfg *PruneConfig) (string, error) {
	if cfg.Dir == "" {
		if cfg.Resume {
			return "", configErr("Resume", true, "needs the run folder Dir")
		}
		return "", nil
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return "", err
	}
	ckpt := filepath.Join(cfg.Dir, CheckpointFile)
	if _, err := os.Stat(ckpt); err == nil && !cfg.Resume && !cfg.Overwrite {
		return "", configErr("Dir", cfg.Dir, "holds a run: set Resume to continue it, Overwrite to replace it, or give another Dir")
	}
	return ckpt, nil
}

// startState returns the state a run starts from: a fresh one from cfg
// (its budget plan and schedule made), or for cfg.Resume the checkpoint's
// (its model put into m, its settings into cfg) with its optimiser
// tensors.
func startState(m *Model, cfg *PruneConfig, ckpt string, log io.Writer) (*pipeline.State, map[string]*tensor.Tensor, error) {
	if cfg.Resume {
		return resumeState(m, cfg, ckpt)
	}
	if err := checkStart(m, cfg); err != nil {
		return nil, nil, err
	}
	if !cfg.Distill {
		cfg.DistillTemp, cfg.DistillAlpha = 0, 0 // not recorded without Distill
	}
	if err := cfg.Budget.schedule(m, cfg, log); err != nil {
		return nil, nil, err
	}
	st, err := pipeline.NewState(cfg.Config, m.Model)
	return st, nil, badConfig(err)
}

// checkStart checks a new run's settings before any work.
func checkStart(m *Model, cfg *PruneConfig) error {
	if b := cfg.Budget; b != nil && b.Plan == nil && b.Ask != nil && cfg.Step > 0 && cfg.Step < 100 {
		cfg.Rate = cfg.Step // the plan sets the schedule; until then the step alone passes its checks
	}
	if err := cfg.Config.CheckMethod(); err != nil {
		return badConfig(err)
	}
	if cfg.ValSplit < 0 {
		return configErr("ValSplit", cfg.ValSplit, "want 0 (none) or a number of training images")
	}
	if cfg.Dir == "" {
		switch {
		case cfg.Distill:
			return configErr("Distill", true, "needs the run folder Dir, which keeps the teacher")
		case cfg.Average:
			return configErr("Average", true, "needs the run folder Dir, which keeps the cycles' models")
		case cfg.Trainer == "torch":
			return configErr("Trainer", cfg.Trainer, "needs the run folder Dir, the trainer's work folder")
		}
	}
	cfg.Dataset = DatasetOf(cfg.Dataset, m)
	if b := cfg.Budget; cfg.Dataset == ImageFolderDataset && b != nil && b.Plan == nil && b.Ask != nil && b.Ask.SensitivityFile == "" {
		return configErr("Budget", b.Ask.Budget, "measuring the layers' sensitivity needs training images held in memory, "+
			"not dataset %s: give a sensitivity table measured elsewhere (SensitivityFile)", ImageFolderDataset)
	}
	return nil
}

// DatasetOf is the data set to run m on: the one given, else the one its
// model file records, else its architecture's default (DefaultDataset).
func DatasetOf(given string, m *Model) string {
	switch {
	case given != "":
		return given
	case m.Info.Dataset != "":
		return m.Info.Dataset
	}
	return DefaultDataset(m.Model.Arch)
}

// resumeState reads the run to continue (cfg.From, else Dir's checkpoint)
// into m and cfg.
func resumeState(m *Model, cfg *PruneConfig, ckpt string) (*pipeline.State, map[string]*tensor.Tensor, error) {
	ck := cfg.From
	if ck == nil {
		var err error
		if ck, err = ReadCheckpoint(ckpt); err != nil {
			return nil, nil, fmt.Errorf("resume: %w", err)
		}
		if err := CheckFinite(ck.Model.Model); err != nil {
			return nil, nil, fmt.Errorf("resume: %s: %w", ckpt, err)
		}
	}
	if err := ck.State.Config.Validate(); err != nil {
		return nil, nil, &ConfigError{Err: fmt.Errorf("resume: the run's settings: %w", err)}
	}
	m.Model, m.Info = ck.Model.Model, ck.Model.Info
	cfg.Config = ck.State.Config
	dataDir := cfg.DataDir
	if ck.Settings != nil {
		cfg.RunSettings = *ck.Settings
	} else { // saved before the settings were stored: the caller's, on the model's data set
		cfg.Dataset = ck.Model.Info.Dataset
	}
	if dataDir != "" {
		cfg.DataDir = dataDir
	}
	cfg.Dataset = DatasetOf(cfg.Dataset, m)
	return ck.State, ck.extra, nil
}

// dataSets are a run's data: training (less the validation split), the
// split (nil without one) and test; or, for ImageFolderDataset, the
// folders (the others nil).
type dataSets struct {
	train, val, test *data.Dataset
	folder           *imageFolders
	norm             data.Norm
}

// loadData reads the run's data (unless cfg gives it), checks that it fits
// m, holds out the validation split (recording it in st) and settles the
// normalisation (recording it in m).
func loadData(m *Model, cfg *PruneConfig, st *pipeline.State) (*dataSets, error) {
	if !KnownDataset(cfg.Dataset) && cfg.Dataset != ImageFolderDataset {
		return nil, configErr("Dataset", fmt.Sprintf("%q", cfg.Dataset), "want one of %s or %s", strings.Join(Datasets, ", "), ImageFolderDataset)
	}
	m.Info.Dataset = cfg.Dataset
	st.Report.Dataset = cfg.Dataset
	if cfg.Dataset == ImageFolderDataset {
		return loadFolderData(m, cfg, st)
	}
	trainSet, testSet := cfg.Train, cfg.Test
	if trainSet == nil || testSet == nil {
		var err error
		if trainSet, testSet, err = OpenDataFirst(cfg.Dataset, cfg.DataDir, max(cfg.TrainLimit, 0), max(cfg.TestLimit, 0)); err != nil {
			return nil, err
		}
	}
	if err := CheckFits(m, trainSet); err != nil {
		return nil, err
	}
	rest, val, err := holdout(st, trainSet, cfg.ValSplitCapped && !cfg.Resume)
	if err != nil {
		return nil, err
	}
	norm := RecordedNorm(m.Info, testSet)
	m.Info.Mean, m.Info.Std = norm.Mean, norm.Std
	return &dataSets{train: rest, val: val, test: testSet, norm: norm}, nil
}

// ValSplitOf returns the number of images to hold out of a training set of
// n images: asked, or when capped (asked is a default, not a demand) at
// most a tenth of the set.
func ValSplitOf(asked int, capped bool, n int) (int, error) {
	switch {
	case asked < 0:
		return 0, configErr("ValSplit", asked, "want 0 (none) or a number of training images")
	case capped:
		return min(asked, n/10), nil
	case asked >= n:
		return 0, configErr("ValSplit", asked, "the training set has only %d images (at least one must be left to train on)", n)
	}
	return asked, nil
}

// HoldOut splits a validation set of n images off ds with ValSeed (none
// when n is 0) and returns the rest, the split and its record.
func HoldOut(ds *data.Dataset, n int) (rest, val *data.Dataset, rec *report.Validation, err error) {
	if n == 0 {
		return ds, nil, nil, nil
	}
	if rest, val, err = ds.Holdout(n, ValSeed); err != nil {
		return nil, nil, nil, configErr("ValSplit", n, "%v", err)
	}
	return rest, val, &report.Validation{Images: n, Of: ds.N, Seed: ValSeed}, nil
}

// holdout draws a run's validation split off trainSet: the split st's
// config asks for (at most a tenth of the set when capped), recorded in
// st's config and report.
func holdout(st *pipeline.State, trainSet *data.Dataset, capped bool) (rest, val *data.Dataset, err error) {
	n, err := ValSplitOf(st.Config.ValSplit, capped, trainSet.N)
	if err != nil {
		return nil, nil, err
	}
	rest, val, rec, err := HoldOut(trainSet, n)
	if err != nil {
		return nil, nil, err
	}
	if n != st.Config.ValSplit {
		st.Config.ValSplit = n
		if st.Report.Config, err = report.ConfigOf(st.Config); err != nil {
			return nil, nil, err
		}
	}
	st.Report.Validation = rec
	return rest, val, nil
}
