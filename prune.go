package sgcnn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/pipeline"
	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/tensor"
	"github.com/sgcnn/sgcnn/train"
)

// ValSeed is the fixed seed that draws every validation split, the same as
// the sgcnn command's: runs on the same training set hold out the same
// images.
const ValSeed = 20261206

// CheckpointFile is the name of a run's checkpoint in PruneConfig.Dir.
const CheckpointFile = "checkpoint.safetensors"

// PruneConfig configures Prune: the schedule, the data, and the run folder.
type PruneConfig struct {
	// Config is the schedule (see pipeline.DefaultConfig): method, rates,
	// fine-tuning, seed, and ValSplit, the training images held out as a
	// validation split (0: none, every accuracy on the test set).
	// Distill, Average and a torch Engine are the command's (not yet here).
	pipeline.Config
	// Train and Test are the data. When nil, both are loaded by Dataset
	// (default: the model's, else its architecture's) from DataDir.
	Train, Test *data.Dataset
	// Dataset and DataDir name the data to load when Train is nil.
	Dataset, DataDir string
	// EpochSize is the number of images per fine-tuning epoch, a fresh
	// random subset each epoch (0: the whole training set).
	EpochSize int
	// Dir is the run folder: a checkpoint (CheckpointFile) after every
	// step and epoch. "" runs without checkpoints. A new run refuses a
	// folder that holds a checkpoint; unlike the sgcnn command, Prune
	// takes no lock on it.
	Dir string
	// Resume continues the run in Dir with the settings it stored: Prune
	// then ignores Config and m's weights, and replaces m's network and
	// record by the checkpoint's.
	Resume bool
	// Log receives the progress lines (nil: none).
	Log io.Writer
}

// Result is what a pruning run returns.
type Result struct {
	// Report holds the accuracy, parameter and FLOP counts per step, and
	// the final test accuracy when there was a validation split.
	Report *report.Run
	// Checkpoint is the path of the run's last checkpoint ("" without Dir).
	Checkpoint string
}

// runRecord is stored with every checkpoint next to the pipeline's state;
// its fields are those of the sgcnn command's record, so that either can
// resume a run of the other.
type runRecord struct {
	*pipeline.State
	Run *runSettings `json:"run,omitempty"`
}

type runSettings struct {
	Dataset   string `json:"dataset"`
	DataDir   string `json:"data_dir,omitempty"`
	EpochSize int    `json:"epoch_size"`
}

// Prune prunes m by cfg's schedule (package pipeline, package prune's
// methods) and fine-tunes it, in place. A checkpoint goes to cfg.Dir after
// every step and epoch; cfg.Resume continues from the last one. Cancelling
// ctx stops the run at the next step or epoch, the last checkpoint kept;
// the error then wraps context.Canceled.
func Prune(ctx context.Context, m *Model, cfg PruneConfig) (*Result, error) {
	ckpt := ""
	if cfg.Dir != "" {
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return nil, err
		}
		ckpt = filepath.Join(cfg.Dir, CheckpointFile)
		if _, err := os.Stat(ckpt); err == nil && !cfg.Resume {
			return nil, fmt.Errorf("%s holds a run: set Resume to continue it, or give another Dir", cfg.Dir)
		}
	}
	st, extra, err := startState(m, &cfg, ckpt)
	if err != nil {
		return nil, err
	}
	if c := st.Config; c.Distill || c.Average || (c.Trainer != "" && c.Trainer != "go") {
		return nil, errors.New("sgcnn.Prune: Distill, Average and the torch trainer are the sgcnn command's only for now")
	}
	trainSet, testSet := cfg.Train, cfg.Test
	if trainSet == nil || testSet == nil {
		if trainSet, testSet, err = OpenData(cfg.Dataset, cfg.DataDir); err != nil {
			return nil, err
		}
	}
	if err := checkFits(m, trainSet); err != nil {
		return nil, err
	}
	trainSet, valSet, err := holdout(st, trainSet)
	if err != nil {
		return nil, err
	}
	norm := m.Norm()
	m.Info.Mean, m.Info.Std, m.Info.Dataset = norm.Mean, norm.Std, cfg.Dataset
	st.Report.Dataset = cfg.Dataset
	r, err := runner(ctx, m, &cfg, st, trainSet, valSet, testSet, norm)
	if err != nil {
		return nil, err
	}
	run := &runSettings{Dataset: cfg.Dataset, DataDir: cfg.DataDir, EpochSize: cfg.EpochSize}
	if ckpt != "" {
		r.Save = func(st *pipeline.State, opt *optim.SGD) error {
			raw, err := json.Marshal(runRecord{State: st, Run: run})
			if err != nil {
				return err
			}
			m.Info.Pruning = raw
			return modelfile.Save(ckpt, m.Model, false, m.Info, momentumOf(opt))
		}
		r.Restore = func(opt *optim.SGD) error { return restoreMomentum(opt, extra) }
	} else {
		r.Save = func(*pipeline.State, *optim.SGD) error { return nil }
	}
	rep, err := r.Run(st)
	if err != nil {
		return nil, err
	}
	return &Result{Report: rep, Checkpoint: ckpt}, nil
}

// startState returns the state a run starts from: a fresh one from cfg,
// or for cfg.Resume the checkpoint's (its model put into m, its settings
// into cfg) with its optimiser tensors.
func startState(m *Model, cfg *PruneConfig, ckpt string) (*pipeline.State, map[string]*tensor.Tensor, error) {
	if !cfg.Resume {
		if cfg.Dataset == "" {
			cfg.Dataset = m.Info.Dataset
		}
		if cfg.Dataset == "" {
			cfg.Dataset = DefaultDataset(m.Model.Arch)
		}
		if err := cfg.Config.CheckMethod(); err != nil {
			return nil, nil, err
		}
		st, err := pipeline.NewState(cfg.Config, m.Model)
		return st, nil, err
	}
	if ckpt == "" {
		return nil, nil, errors.New("sgcnn.Prune: Resume needs the run folder Dir")
	}
	f, err := modelfile.Load(ckpt, "")
	if err != nil {
		return nil, nil, fmt.Errorf("resume: %w", err)
	}
	rec := runRecord{State: &pipeline.State{}}
	if err := json.Unmarshal(f.Info.Pruning, &rec); err != nil || rec.Phase == "" {
		return nil, nil, fmt.Errorf("resume: %s holds no pruning run", ckpt)
	}
	if err := CheckFinite(f.Model); err != nil {
		return nil, nil, fmt.Errorf("resume: %s: %w", ckpt, err)
	}
	if err := rec.Config.Validate(); err != nil {
		return nil, nil, fmt.Errorf("resume: %s: the run's settings: %w", ckpt, err)
	}
	m.Model, m.Info = f.Model, f.Info
	cfg.Config = rec.Config
	cfg.Dataset = f.Info.Dataset
	if rec.Run != nil {
		cfg.Dataset, cfg.EpochSize = rec.Run.Dataset, rec.Run.EpochSize
		if cfg.DataDir == "" {
			cfg.DataDir = rec.Run.DataDir
		}
	}
	return rec.State, f.Extra, nil
}

// holdout draws the validation split that st's config asks for off
// trainSet, with ValSeed, and records it in the report.
func holdout(st *pipeline.State, trainSet *data.Dataset) (rest, val *data.Dataset, err error) {
	n := st.Config.ValSplit
	switch {
	case n < 0:
		return nil, nil, fmt.Errorf("ValSplit %d: want 0 (none) or a number of training images", n)
	case n == 0:
		return trainSet, nil, nil
	case n >= trainSet.N:
		return nil, nil, fmt.Errorf("ValSplit %d: the training set has only %d images (at least one must be left to train on)", n, trainSet.N)
	}
	if rest, val, err = trainSet.Holdout(n, ValSeed); err != nil {
		return nil, nil, fmt.Errorf("ValSplit %d: %w", n, err)
	}
	st.Report.Validation = &report.Validation{Images: n, Of: trainSet.N, Seed: ValSeed}
	return rest, val, nil
}

// runner builds the pipeline runner of a run, without its Save.
func runner(ctx context.Context, m *Model, cfg *PruneConfig, st *pipeline.State, trainSet, valSet, testSet *data.Dataset, norm data.Norm) (*pipeline.Runner, error) {
	c := &st.Config
	var pad int
	var flip bool
	if c.Augment && trainSet.H == 32 {
		pad, flip = data.CIFARPad, true
	}
	if c.Shift > 0 {
		pad = c.Shift
	}
	l, err := data.NewLoader(trainSet, data.Config{BatchSize: c.Batch, Shuffle: true, Seed: c.Seed, Pad: pad, Flip: flip, Norm: norm})
	if err != nil {
		return nil, err
	}
	trainSrc := train.Limit(train.FromLoader(ctx, l), cfg.EpochSize)
	during, err := evalSource(ctx, testSet, norm, c.Batch)
	if err != nil {
		return nil, err
	}
	var final train.Source
	if valSet != nil {
		final = during
		if during, err = evalSource(ctx, valSet, norm, c.Batch); err != nil {
			return nil, err
		}
	}
	pruner, err := pipeline.NewPruner(*c, m.Model.Net, trainSrc)
	if err != nil {
		return nil, err
	}
	n := trainSet.Len()
	if cfg.EpochSize > 0 && cfg.EpochSize < n {
		n = cfg.EpochSize
	}
	return &pipeline.Runner{Model: m.Model, Pruner: pruner, Train: trainSrc, TrainLen: n, Test: during, Final: final,
		Log: cfg.Log, Stop: ctx.Err}, nil
}

// evalSource streams a data set in order, unaugmented.
func evalSource(ctx context.Context, ds *data.Dataset, norm data.Norm, batch int) (train.Source, error) {
	l, err := data.NewLoader(ds, data.Config{BatchSize: batch, Norm: norm})
	if err != nil {
		return nil, err
	}
	return train.FromLoader(ctx, l), nil
}

// momentumOf returns the optimiser's momentum buffers as extra tensors of
// a checkpoint.
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

// restoreMomentum puts a checkpoint's momentum buffers back into opt.
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
