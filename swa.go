package sgcnn

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/internal/progress"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/swa"
	"github.com/sgcnn/sgcnn/train"
)

// AverageConfig is what Average averages and how it re-estimates the
// batch-norm statistics. Bad settings are *ConfigError, naming the field.
type AverageConfig struct {
	// Files are sgcnn model files of one network, e.g. a run's snapshots;
	// pruned ones must share their masks.
	Files []string
	// Out is the file the average is written to (atomically); it must not
	// be one of Files.
	Out string
	// Dataset names the data (see Datasets; "": the first file's, else its
	// architecture's) and DataDir its folder ("": found automatically).
	Dataset, DataDir string
	// BNImages is the number of training images the statistics are
	// re-estimated from (0: all), in batches of Batch (at least 2).
	BNImages, Batch int
	// Augment and Shift augment those images as in training (see
	// Augmentation); Seed draws their order and augmentation.
	Augment bool
	Shift   int
	Seed    uint64
	// ValSplit training images are held out of the statistics and the
	// average is evaluated on them (see ValSplitOf: capped at a tenth of
	// the set when ValSplitDefault).
	ValSplit        int
	ValSplitDefault bool
	// SkipTest skips the test-set evaluation; TestLimit evaluates on the
	// first images only (0: all).
	SkipTest  bool
	TestLimit int
	// Loaded, when set, checks each file's model after it is read (nil:
	// CheckFinite refuses NaN and Inf).
	Loaded func(path string, m *models.Model) error
	// Log receives notes, warnings and a progress bar (nil: none).
	Log io.Writer
}

// averageRecord is the "training" record of an averaged model file.
type averageRecord struct {
	AverageOf []string `json:"average_of"`
	BNImages  int      `json:"bn_images"`
	Dataset   string   `json:"dataset"`
	Pad       int      `json:"bn_pad,omitempty"`
	Flip      bool     `json:"bn_flip,omitempty"`
	// Validation is the split held out of the statistics' images (the one
	// the snapshots' runs held out, when they used the same ValSplit).
	Validation *report.Validation `json:"validation,omitempty"`
}

// AverageResult is what Average made and measured.
type AverageResult struct {
	// Model is the average, as written to Out.
	Model *Model
	// N is the number of models averaged, BNImages the number of images
	// the statistics were re-estimated from (0: the network has no
	// batch-norm layer), Dataset the data set.
	N, BNImages int
	Dataset     string
	// Val is the accuracy on the held-out split (nil without one), Test
	// on the test set (nil with SkipTest).
	Val, Test *train.EvalResult
}

// Validate checks the settings that need no file or data (Average checks
// them first): each bad one is a *ConfigError naming its field.
func (c *AverageConfig) Validate() error {
	switch {
	case len(c.Files) == 0:
		return configErr("Files", nil, "no model files given: name the snapshots to average")
	case c.Out == "":
		return configErr("Out", nil, "required")
	case slices.Contains(c.Files, c.Out):
		return configErr("Out", c.Out, "is also an input: write the average to a new file")
	case c.Batch < 2:
		return configErr("Batch", c.Batch, "want at least 2 (batch statistics)")
	case c.BNImages < 0:
		return configErr("BNImages", c.BNImages, "want 0 (all) or more")
	case c.Shift < 0:
		return configErr("Shift", c.Shift, "want 0 or more")
	case c.TestLimit < 0:
		return configErr("TestLimit", c.TestLimit, "want 0 (all) or more")
	case c.ValSplit < 0:
		return configErr("ValSplit", c.ValSplit, "want 0 (none) or a number of training images")
	}
	return nil
}

// Average averages the weights of cfg.Files (stochastic weight averaging,
// Izmailov et al. 2018, as PyTorch's swa_utils), re-estimates the
// batch-norm statistics from training images augmented as in training,
// evaluates the result and writes it to cfg.Out with the first file's
// normalisation and pruning record. Cancelling ctx stops the statistics'
// pass; nothing is written then.
func Average(ctx context.Context, cfg AverageConfig) (*AverageResult, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	loaded := cfg.Loaded
	if loaded == nil {
		loaded = func(path string, m *models.Model) error {
			if err := CheckFinite(m); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			return nil
		}
	}
	var avg swa.Averager
	var lead *models.File
	for _, path := range cfg.Files {
		f, err := models.LoadFile(path, "")
		if err != nil {
			return nil, err
		}
		if err := loaded(path, f.Model); err != nil {
			return nil, err
		}
		if err := avg.Add(f.Model); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if lead == nil {
			lead = f
		}
	}
	m := &Model{Model: lead.Model, Info: lead.Info}
	if err := avg.Mean(m.Model); err != nil {
		return nil, err
	}
	res := &AverageResult{Model: m, N: avg.N(), Dataset: cfg.Dataset}
	if res.Dataset == "" {
		res.Dataset = lead.Info.Dataset
	}
	if res.Dataset == "" {
		res.Dataset = DefaultDataset(m.Model.Arch)
	}
	trainSet, err := OpenSplit(res.Dataset, cfg.DataDir, true, 0)
	if err != nil {
		return nil, err
	}
	if err := CheckFits(m, trainSet); err != nil {
		return nil, err
	}
	norm := RecordedNorm(lead.Info, trainSet)
	n, err := ValSplitOf(cfg.ValSplit, cfg.ValSplitDefault, trainSet.N)
	if err != nil {
		return nil, err
	}
	WarnValSplit(log, cfg.Files[0], lead.Info, n)
	trainSet, valSet, valRec, err := HoldOut(trainSet, n)
	if err != nil {
		return nil, err
	}
	if trainSet, err = First(trainSet, cfg.BNImages); err != nil {
		return nil, err
	}
	pad, flip := Augmentation(trainSet.H, cfg.Augment, cfg.Shift)
	if len(swa.BatchNorms(m.Model.Net)) > 0 {
		dc := data.Config{BatchSize: cfg.Batch, Shuffle: true, Seed: cfg.Seed, Norm: norm, Pad: pad, Flip: flip}
		if res.BNImages, err = updateBN(ctx, m.Model, trainSet, dc, log); err != nil {
			return nil, fmt.Errorf("re-estimating batch-norm statistics: %w", err)
		}
	} else {
		fmt.Fprintf(log, "%s has no batch-norm layer: nothing to re-estimate\n", m.Model.Arch)
	}
	if valSet != nil {
		if res.Val, err = evaluate(m.Model, valSet, norm, 200); err != nil {
			return nil, err
		}
	}
	if !cfg.SkipTest {
		testSet, err := OpenSplit(res.Dataset, cfg.DataDir, false, cfg.TestLimit)
		if err != nil {
			return nil, err
		}
		if res.Test, err = evaluate(m.Model, testSet, norm, 200); err != nil {
			return nil, err
		}
	}
	rec := averageRecord{AverageOf: cfg.Files, BNImages: res.BNImages, Dataset: res.Dataset, Validation: valRec}
	if res.BNImages > 0 {
		rec.Pad, rec.Flip = pad, flip
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	m.Info = modelfile.Info{Dataset: res.Dataset, Mean: norm.Mean, Std: norm.Std, Training: raw, Pruning: lead.Info.Pruning}
	if err := models.SaveFile(cfg.Out, m.Model, m.Info, nil); err != nil {
		return nil, err
	}
	return res, nil
}

// RecordedNorm is the normalisation to feed a model on ds: the one its
// file records (info's mean and std, when they have ds.C channels), else
// the data set's. Unlike Model.Norm it falls back on ds, not on the
// data set the file names.
func RecordedNorm(info modelfile.Info, ds *data.Dataset) data.Norm {
	if len(info.Mean) == ds.C && len(info.Std) == ds.C {
		return data.Norm{Mean: info.Mean, Std: info.Std}
	}
	return ds.Norm()
}

// evaluate returns m's accuracy on ds, unaugmented, in batches of batch.
func evaluate(m *models.Model, ds *data.Dataset, norm data.Norm, batch int) (*train.EvalResult, error) {
	src, err := EvalSource(ds, norm, batch)
	if err != nil {
		return nil, err
	}
	r, err := train.Evaluate(m.Net, func(yield func(train.Batch) bool) error { return src(0, yield) })
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// updateBN re-estimates m's batch-norm statistics over ds loaded as cfg
// says, with a progress bar on log.
func updateBN(ctx context.Context, m *models.Model, ds *data.Dataset, cfg data.Config, log io.Writer) (int, error) {
	l, err := data.NewLoader(ds, cfg)
	if err != nil {
		return 0, err
	}
	bar := progress.New(log, int64(ds.N), m.Arch+" batch-norm statistics", "img")
	defer bar.Finish()
	src := train.FromLoader(ctx, l)
	return swa.UpdateBN(m.Net, func(yield func(train.Batch) bool) error {
		return src(0, func(b train.Batch) bool {
			if !yield(b) {
				return false
			}
			bar.Add(len(b.Y), "")
			return true
		})
	})
}

// WarnValSplit warns on log when the model file at path records a
// training or pruning run whose validation split differs from the n
// images held out now: its validation accuracy then counts images the run
// trained on.
func WarnValSplit(log io.Writer, path string, info modelfile.Info, n int) {
	var rec struct {
		Config struct {
			ValSplit int `json:"val_split"`
		} `json:"config"`
	}
	raw := info.Training
	if len(info.Pruning) > 0 {
		raw = info.Pruning
	}
	if len(raw) == 0 || json.Unmarshal(raw, &rec) != nil {
		return
	}
	if rec.Config.ValSplit != n {
		fmt.Fprintf(log, "warning: %s was trained with --val-split %d, not %d: the validation images differ from those it held out\n",
			path, rec.Config.ValSplit, n)
	}
}
