package sgcnn

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

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

// Limits of a training run's settings.
const (
	// MaxBatch bounds a batch (images).
	MaxBatch = 1 << 16
	// MaxShift bounds the random shift of training images (pixels: half
	// a CIFAR image).
	MaxShift = 16
)

// DistillSettings are a knowledge distillation's temperature and the
// weight of the teacher's soft targets in the loss (Hinton et al. 2015).
type DistillSettings struct {
	Temp  float64 `json:"distill_temp,omitempty"`
	Alpha float64 `json:"distill_alpha,omitempty"`
}

// Validate checks a distillation's settings: *ConfigError of Temp or Alpha.
func (d DistillSettings) Validate() error {
	switch {
	case !(d.Temp > 0):
		return configErr("Temp", d.Temp, "want a temperature > 0")
	case !(d.Alpha >= 0 && d.Alpha <= 1):
		return configErr("Alpha", d.Alpha, "want a weight in [0, 1]")
	}
	return nil
}

// TrainSettings are what a training run was asked to do. The run's file
// stores them (as the sgcnn train command's run record), so that a
// resumed run continues the same one.
type TrainSettings struct {
	Model    string  `json:"model"`
	Dataset  string  `json:"dataset"`
	Epochs   int     `json:"epochs"`
	Batch    int     `json:"batch"`
	LR       float64 `json:"lr"`
	Schedule string  `json:"schedule"`
	// LRStep is when the schedule's rate changes: "epoch" or "iter" (before
	// every batch, as PyTorch's schedulers stepped per iteration); "" in
	// runs saved before it: epoch.
	LRStep      string  `json:"lr_step,omitempty"`
	Momentum    float64 `json:"momentum"`
	WeightDecay float64 `json:"weight_decay"`
	Nesterov    bool    `json:"nesterov"`
	Augment     bool    `json:"augment"`
	Shift       int     `json:"shift,omitempty"`
	Seed        uint64  `json:"seed"`
	// Init names the file the weights started from (a record only).
	// Classes is a new model's outputs (0: the architecture's).
	Classes int    `json:"classes,omitempty"`
	Init    string `json:"init,omitempty"`
	// Teachers, when set, are the models distilled from (several: the
	// mean of their logits), each FILE or ARCH=FILE.
	Teachers []string `json:"teachers,omitempty"`
	// LegacyTeacher is the one teacher of runs saved before ensembles;
	// ReadTrainCheckpoint moves it to Teachers.
	LegacyTeacher string `json:"teacher,omitempty"`
	// Snapshots, when set, is a folder that keeps every epoch's checkpoint
	// as epoch-NNN.safetensors (for Average).
	Snapshots string `json:"snapshots,omitempty"`
	// TrainLimit and TestLimit keep the first images of each split (0:
	// all); EpochSize draws a fresh random subset per epoch (0: all).
	TrainLimit int `json:"train_limit"`
	TestLimit  int `json:"test_limit"`
	EpochSize  int `json:"epoch_size"`
	// Threads is the worker thread count (0: one per core), a record of
	// the caller's; DataDir the data set's folder ("": found
	// automatically).
	Threads int    `json:"threads"`
	DataDir string `json:"data_dir,omitempty"`
	// ValSplit is the number of training images held out as a validation
	// split (0: none, every epoch evaluated on the test set).
	ValSplit int `json:"val_split,omitempty"`
	// Precision is the arithmetic of the convolutions' products: "" or
	// "fp32", or "bf16" (nn.BF16: operands rounded to bf16, fp32 sums and
	// master weights; on AMX where the machine has it, else emulated).
	Precision string `json:"precision,omitempty"`
	DistillSettings
	torchtrain.Engine
}

// TrainRecord is the record of a training run that its model file keeps.
type TrainRecord struct {
	Config  TrainSettings      `json:"config"`
	Done    int                `json:"epochs_done"`
	History []train.EpochStats `json:"history"`
	// Validation is the run's validation split, Test its one test-set
	// evaluation, after the last epoch (both absent without a split).
	Validation *report.Validation `json:"validation,omitempty"`
	Test       *train.EvalResult  `json:"test,omitempty"`
}

// Validate checks a run's settings before any work: each bad one is a
// *ConfigError naming its field.
func (c *TrainSettings) Validate() error {
	switch {
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return configErr("LR", c.LR, "want a finite rate > 0")
	case c.Epochs < 1:
		return configErr("Epochs", c.Epochs, "want at least 1")
	case c.Batch < 1 || c.Batch > MaxBatch:
		return configErr("Batch", c.Batch, "want 1 to %d", MaxBatch)
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return configErr("Momentum", c.Momentum, "want [0, 1)")
	case !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0):
		return configErr("WeightDecay", c.WeightDecay, "want a finite value >= 0")
	case c.Shift < 0 || c.Shift > MaxShift:
		return configErr("Shift", c.Shift, "want 0 to %d pixels", MaxShift)
	case c.TrainLimit < 0:
		return configErr("TrainLimit", c.TrainLimit, "want 0 (all) or more")
	case c.TestLimit < 0:
		return configErr("TestLimit", c.TestLimit, "want 0 (all) or more")
	case c.EpochSize < 0:
		return configErr("EpochSize", c.EpochSize, "want 0 (all) or more")
	case c.ValSplit < 0:
		return configErr("ValSplit", c.ValSplit, "want 0 (none) or a number of training images")
	case c.LRStep != "" && c.LRStep != "epoch" && c.LRStep != "iter":
		return configErr("LRStep", fmt.Sprintf("%q", c.LRStep), "want epoch or iter")
	case c.Precision != "" && c.Precision != "fp32" && c.Trainer == "torch":
		return configErr("Precision", c.Precision, "not with --trainer torch; use --trainer go")
	case c.LRStep == "iter" && c.Trainer == "torch":
		return configErr("LRStep", "iter", "not with --trainer torch (the torch trainer takes one rate per epoch); use --lr-step epoch or --trainer go")
	case c.Classes < 0 || c.Classes > modelfile.MaxClasses:
		return configErr("Classes", c.Classes, "want 0 (the architecture's) to %d", modelfile.MaxClasses)
	case c.Dataset != "" && c.Dataset != ImageFolderDataset && !KnownDataset(c.Dataset):
		return configErr("Dataset", fmt.Sprintf("%q", c.Dataset), "want one of %s", strings.Join(Datasets, ", "))
	}
	if _, err := optim.Parse(c.Schedule, c.LR, c.Epochs); err != nil {
		return configErr("Schedule", nil, "%v", err)
	}
	if _, err := nn.ParsePrecision(c.Precision); err != nil {
		return configErr("Precision", fmt.Sprintf("%q", c.Precision), "want fp32 or bf16")
	}
	for _, spec := range c.Teachers {
		if _, path := TeacherSpec(spec); !isFile(path) {
			return configErr("Teachers", spec, "no such file")
		}
	}
	if len(c.Teachers) > 0 {
		return c.DistillSettings.Validate()
	}
	return nil
}

// isFile reports whether path names an existing file.
func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}

// TeacherSpec splits a teacher ARCH=FILE, where ARCH is a known
// architecture; any other value is a file name alone.
func TeacherSpec(spec string) (arch, path string) {
	if a, p, ok := strings.Cut(spec, "="); ok && slices.Contains(models.Names(), a) {
		return a, p
	}
	return "", spec
}

// TrainCheckpoint is a training run as its model file holds it.
type TrainCheckpoint struct {
	// Path is the file.
	Path string
	// Model is the network as of the last finished epoch.
	Model *Model
	// Record is the run's settings and history.
	Record *TrainRecord
	// LegacyLimits is set for a run saved before its data limits were
	// stored: the limits given now apply.
	LegacyLimits bool
	extra        map[string]*tensor.Tensor
}

// ReadTrainCheckpoint reads the training run at path. A run of one
// teacher saved before ensembles gets it in Teachers; one saved without
// its data set gets the model file's.
func ReadTrainCheckpoint(path string) (*TrainCheckpoint, error) {
	f, err := models.LoadFile(path, "")
	if err != nil {
		return nil, err
	}
	rec := &TrainRecord{}
	if err := json.Unmarshal(f.Info.Training, rec); err != nil || rec.Config.Model == "" {
		return nil, fmt.Errorf("%s holds no training run to continue", path)
	}
	if rec.Config.LRStep == "" { // saved before LRStep: stepped per epoch
		rec.Config.LRStep = "epoch"
	}
	if rec.Config.LegacyTeacher != "" {
		rec.Config.Teachers, rec.Config.LegacyTeacher = []string{rec.Config.LegacyTeacher}, ""
	}
	if rec.Config.Dataset == "" {
		rec.Config.Dataset = f.Info.Dataset
	}
	return &TrainCheckpoint{Path: path, Model: &Model{Model: f.Model, Info: f.Info}, Record: rec,
		LegacyLimits: !strings.Contains(string(f.Info.Training), `"train_limit"`), extra: f.Extra}, nil
}

// TrainConfig is a training run: its settings, where it is kept, and how
// it reports.
type TrainConfig struct {
	TrainSettings
	// Out is the model file written after every epoch (atomically), with
	// the optimiser's momentum and the run's record.
	Out string
	// ValSplitDefault marks ValSplit as a default, not a demand: at most a
	// tenth of the training set (a fresh run only).
	ValSplitDefault bool
	// From, when set, is the run to continue (ReadTrainCheckpoint), with
	// TrainSettings as the caller settled them from its stored ones; Train's
	// model argument is then ignored.
	From *TrainCheckpoint
	// OpenTeacher opens a teacher's file, arch "" unless the teacher was
	// given as ARCH=FILE or is a PyTorch file (then the student's); nil:
	// Open, refusing NaN and Inf.
	OpenTeacher func(arch, path string) (*Model, error)
	// Log receives the epochs' progress and notes (nil: none).
	Log io.Writer
	// Saved, when set, is called after each checkpoint is written.
	Saved func(path string)
	// Data, when set, is the run's data as the caller opened it; nil:
	// Train reads the named data set and holds out ValSplit, or opens the
	// image folder at DataDir (Dataset ImageFolderDataset), whose val
	// folder is measured after every epoch.
	Data *TrainData
}

// TrainData is a training run's data opened by the caller.
type TrainData struct {
	Train  *data.Dataset // the training set in memory, nil for one read as it goes
	N      int           // training images
	Loader *data.Loader  // the shuffled, augmented training batches
	// During is measured after every epoch; Final once at the end (nil:
	// none, During is the test split).
	During, Final train.Source
	Norm          data.Norm
	Pad           int
	Flip          bool
	Folder        *torchtrain.Folder // the torch trainer's folders (nil for a data set in memory)
}

// Train trains m with SGD on its data set's training split, measuring
// every epoch on a validation split held out of it (ValSplit; the test
// split without one) and the test split once, after the last epoch. After
// every epoch the model, the optimiser's momentum and the run's record go
// to cfg.Out; cfg.From continues a run from there, bit for bit at the same
// thread count. Cancelling ctx stops the run at the next batch; the last
// checkpoint stays and the error wraps context.Canceled. Bad settings are
// *ConfigError. The record returned is the one the file holds.
func Train(ctx context.Context, m *Model, cfg TrainConfig) (*TrainRecord, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	log := cfg.Log
	if err := cfg.TrainSettings.Validate(); err != nil {
		return nil, err
	}
	if cfg.Out == "" {
		return nil, configErr("Out", nil, "required")
	}
	rec := &TrainRecord{}
	var extra map[string]*tensor.Tensor
	if cfg.From != nil {
		m, extra = cfg.From.Model, cfg.From.extra
		*rec = *cfg.From.Record
		rec.History = slices.Clone(rec.History)
	} else if len(cfg.Teachers) == 0 {
		cfg.DistillSettings = DistillSettings{} // not recorded without a teacher
	}
	if cfg.Dataset == "" {
		cfg.Dataset = DefaultDataset(m.Model.Arch)
	}
	rec.Config = cfg.TrainSettings
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("before loading the data: %w", err)
	}
	s, err := trainData(m, &cfg, rec)
	if err != nil {
		return nil, err
	}
	t, err := newTrainer(ctx, m, &cfg, s, extra, log)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("before the first epoch: %w", err)
	}
	return t.run(ctx, m, &cfg, rec)
}

// trainSets are a training run's data: the training images, the split
// measured every epoch, the test split for the end (nil without a
// validation split) and the normalisation.
type trainSets struct {
	train         *data.Dataset
	n             int
	loader        *data.Loader // nil: one over train
	during, final train.Source
	norm          data.Norm
	pad           int
	flip          bool
	folder        *torchtrain.Folder
}

// trainData reads the data set, holds out the validation split (recorded
// in rec) and makes the evaluation sources.
func trainData(m *Model, cfg *TrainConfig, rec *TrainRecord) (*trainSets, error) {
	if d := cfg.Data; d != nil {
		cfg.ValSplit, rec.Config.ValSplit = 0, 0
		return &trainSets{train: d.Train, n: d.N, loader: d.Loader, during: d.During, final: d.Final, norm: d.Norm,
			pad: d.Pad, flip: d.Flip, folder: d.Folder}, nil
	}
	if cfg.Dataset == ImageFolderDataset {
		return folderTrainSets(m, cfg, rec)
	}
	trainSet, testSet, err := OpenDataFirst(cfg.Dataset, cfg.DataDir, cfg.TrainLimit, cfg.TestLimit)
	if err != nil {
		return nil, err
	}
	if err := CheckFits(m, trainSet); err != nil {
		return nil, err
	}
	n, err := ValSplitOf(cfg.ValSplit, cfg.ValSplitDefault && cfg.From == nil, trainSet.N)
	if err != nil {
		return nil, err
	}
	rest, val, vrec, err := HoldOut(trainSet, n)
	if err != nil {
		return nil, err
	}
	cfg.ValSplit, rec.Config.ValSplit, rec.Validation = n, n, vrec
	s := &trainSets{train: rest, n: rest.Len()}
	s.pad, s.flip = Augmentation(rest.H, cfg.Augment, cfg.Shift)
	// A model file's recorded normalisation (an imported network's) wins
	// over the data set's default.
	s.norm = RecordedNorm(m.Info, testSet)
	// The training batch size lets the layers keep their buffers.
	if s.during, s.final, err = evalSources(val, testSet, s.norm, cfg.Batch); err != nil {
		return nil, err
	}
	return s, nil
}
