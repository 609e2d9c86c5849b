package sgcnn

import (
	"context"
	"fmt"

	"github.com/sgcnn/sgcnn/train"
)

// EvalConfig is an evaluation of a model on a test set.
type EvalConfig struct {
	// Dataset names the data: one of Datasets or ImageFolderDataset ("":
	// the model file's, else its architecture's, see DefaultDataset).
	Dataset string
	// DataDir is where its files are ("": found automatically; required
	// for ImageFolderDataset, whose val folder, or DataDir itself, is
	// evaluated).
	DataDir string
	// TestLimit evaluates that many images only: the first of a named
	// data set, every k-th of an image folder, every class kept (0: all).
	TestLimit int
	// Batch is the number of images per batch (0: 200).
	Batch int
	// Net, when set, is the compiled form of the model that is evaluated
	// instead of its own layers, e.g. Quantize's int8 network (its
	// Compiled); the data set and the normalisation are still the model's.
	Net *Compiled
}

// EvalResult is a model's accuracy on a test set.
type EvalResult struct {
	// Dataset is the data set evaluated (EvalConfig.Dataset resolved).
	Dataset string
	// EvalResult holds the top-1 and top-5 accuracy in percent, the mean
	// loss and the number of images.
	train.EvalResult
}

// Evaluate measures m's top-1 and top-5 accuracy on the test split of a
// named data set, or the evaluation folder of an image folder, in order
// and unaugmented, normalised as m's file records (the data set's default
// without a record). Bad settings are *ConfigError, found before any
// image is read; cancelling ctx stops at the next batch.
func Evaluate(ctx context.Context, m *Model, cfg EvalConfig) (*EvalResult, error) {
	switch {
	case cfg.Batch < 0:
		return nil, configErr("Batch", cfg.Batch, "want at least 1 (0: 200)")
	case cfg.TestLimit < 0:
		return nil, configErr("TestLimit", cfg.TestLimit, "want 0 (all) or more")
	case cfg.Batch == 0:
		cfg.Batch = 200
	}
	if cfg.Dataset == "" {
		cfg.Dataset = m.Info.Dataset
	}
	if cfg.Dataset == "" {
		cfg.Dataset = DefaultDataset(m.Model.Arch)
	}
	src, err := evalData(m, &cfg)
	if err != nil {
		return nil, err
	}
	batches := func(yield func(train.Batch) bool) error {
		return src(0, func(b train.Batch) bool { return ctx.Err() == nil && yield(b) })
	}
	var r train.EvalResult
	if cfg.Net != nil {
		r, err = train.EvaluateFunc(cfg.Net.Net.Forward, batches)
	} else {
		r, err = train.Evaluate(m.Model.Net, batches)
	}
	if cerr := ctx.Err(); cerr != nil { // a short count is not a result
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("evaluating %s on %s: %w", m.Model.Arch, cfg.Dataset, err)
	}
	return &EvalResult{Dataset: cfg.Dataset, EvalResult: r}, nil
}

// evalData opens the test batches of cfg's data set for m.
func evalData(m *Model, cfg *EvalConfig) (train.Source, error) {
	if cfg.Dataset == ImageFolderDataset {
		return ImageFolderEval(m, cfg.DataDir, cfg.TestLimit, cfg.Batch)
	}
	ds, err := OpenSplit(cfg.Dataset, cfg.DataDir, false, cfg.TestLimit)
	if err != nil {
		return nil, err
	}
	if err := CheckFits(m, ds); err != nil {
		return nil, err
	}
	return EvalSource(ds, RecordedNorm(m.Info, ds), cfg.Batch)
}
