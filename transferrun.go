package sgcnn

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/train"
	"github.com/sgcnn/sgcnn/transfer"
)

// TransferDatasets are the data sets a model can be transferred to.
var TransferDatasets = []string{"fashion-mnist", "mnist"}

// TransferConfig is a transfer run (package transfer): the fine-tuning
// recipe, the target data and where the result goes.
type TransferConfig struct {
	// Config is the recipe (epochs, rate, milestones, SGD; see
	// transfer.DefaultConfig, the paper's).
	transfer.Config
	// Source names the model's file (a record only).
	Source string
	// Dataset is the target (one of TransferDatasets), DataDir its folder
	// ("": found automatically); TrainLimit and TestLimit keep the first
	// images of each split (0: all).
	Dataset, DataDir      string
	TrainLimit, TestLimit int
	// ValSplit training images are held out as a validation split (see
	// ValSplitOf: capped at a tenth of the set when ValSplitDefault).
	ValSplit        int
	ValSplitDefault bool
	// Out is the model file written after every epoch, with the record.
	Out string
	// Log receives the progress (nil: none).
	Log io.Writer
}

// TransferRecord is the record a transfer run keeps in its model file.
type TransferRecord struct {
	Source     string             `json:"source"`
	Arch       string             `json:"arch"`
	Dataset    string             `json:"dataset"`
	Head       string             `json:"head"`
	Classes    int                `json:"classes"`
	Pruned     float64            `json:"pruned_fraction"` // of the masked layers' connections, head excluded
	TrainN     int                `json:"train_images"`
	TestN      int                `json:"test_images"`
	Config     transfer.Config    `json:"config"`
	History    []train.EpochStats `json:"history"`
	FinalTop1  float64            `json:"final_test_top1"`
	OutputFile string             `json:"output_file"`
	// Validation is the split held out of the training images; with it,
	// FinalVal is the last epoch's validation top-1 and FinalTop1 the test
	// set's one evaluation, after the last epoch.
	Validation *report.Validation `json:"validation,omitempty"`
	FinalVal   *float64           `json:"final_val_top1,omitempty"`
}

// Validate checks the recipe and the target data set (Transfer also
// needs Out): *ConfigError.
func (c *TransferConfig) Validate() error {
	if err := c.Config.Validate(); err != nil {
		return badConfig(err)
	}
	if !slices.Contains(TransferDatasets, c.Dataset) {
		return configErr("Dataset", fmt.Sprintf("%q", c.Dataset), "want fashion-mnist or mnist")
	}
	return nil
}

// Transfer replaces m's classifier by a new dense one for the target data
// set and fine-tunes the whole network (package transfer), the masks of
// the other layers held; the model file goes to cfg.Out after every epoch.
// Cancelling ctx stops the run after an epoch; the error then wraps
// context.Canceled and the record says how many epochs the file holds.
// Errors during the epochs are *StoppedError.
func Transfer(ctx context.Context, m *Model, cfg TransferConfig) (*TransferRecord, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Out == "" {
		return nil, configErr("Out", nil, "required")
	}
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	trainSet, testSet, err := OpenDataFirst(cfg.Dataset, cfg.DataDir, max(cfg.TrainLimit, 0), max(cfg.TestLimit, 0))
	if err != nil {
		return nil, err
	}
	n, err := ValSplitOf(cfg.ValSplit, cfg.ValSplitDefault, trainSet.N)
	if err != nil {
		return nil, err
	}
	trainSet, valSet, valRec, err := HoldOut(trainSet, n)
	if err != nil {
		return nil, err
	}
	net := m.Model
	if valSet != nil {
		if valSet, err = transfer.Fit(net, valSet); err != nil {
			return nil, err
		}
	}
	if trainSet, err = transfer.Fit(net, trainSet); err != nil {
		return nil, err
	}
	if testSet, err = transfer.Fit(net, testSet); err != nil {
		return nil, err
	}
	head, err := transfer.ReplaceHead(net, len(trainSet.Classes), cfg.Seed)
	if err != nil {
		return nil, err
	}
	rec := &TransferRecord{Source: cfg.Source, Arch: net.Arch, Dataset: cfg.Dataset, Head: head.Name(), Classes: net.Classes,
		Pruned: PrunedFraction(net.Net, head), TrainN: trainSet.Len(), TestN: testSet.Len(), Config: cfg.Config, OutputFile: cfg.Out,
		Validation: valRec}
	fmt.Fprintf(log, "transfer %s (%.1f%% of masked connections pruned) to %s: new head %s %d -> %d, %d train / %d test images\n",
		net.Arch, 100*rec.Pruned, cfg.Dataset, head.Name(), head.In, head.Out, rec.TrainN, rec.TestN)
	norm := trainSet.Norm()
	m.Info = modelfile.Info{Dataset: cfg.Dataset, Mean: norm.Mean, Std: norm.Std}
	if err := os.MkdirAll(filepath.Dir(cfg.Out), 0o755); err != nil {
		return nil, err
	}
	write := func() error {
		raw, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		m.Info.Training = raw
		return models.SaveFile(cfg.Out, net, m.Info, nil)
	}
	save := func(es train.EpochStats) error {
		rec.History = append(rec.History, es)
		if valSet != nil {
			rec.FinalVal = &es.ValTop1
		} else {
			rec.FinalTop1 = es.TestTop1
		}
		return write()
	}
	res, err := transfer.Run(ctx, net, transfer.Data{Train: trainSet, Test: testSet, Val: valSet, Norm: norm}, cfg.Config, log, save)
	if err != nil {
		return rec, &StoppedError{Err: err}
	}
	if valSet != nil {
		rec.FinalTop1 = res.Final.Top1
		if err := write(); err != nil {
			return rec, err
		}
	}
	return rec, nil
}

// PrunedFraction is the fraction of connections masked off in the layers
// of net that carry a mask, leaving out except (nil: none), such as a new
// head: 0 when no layer carries a mask.
func PrunedFraction(net, except nn.Layer) float64 {
	var off, all int
	for _, p := range nn.Prunables(net) {
		mask := p.Mask()
		if p == except || mask == nil {
			continue
		}
		all += len(mask)
		for _, v := range mask {
			if v == 0 {
				off++
			}
		}
	}
	if all == 0 {
		return 0
	}
	return float64(off) / float64(all)
}
