package sgcnn

import (
	"encoding/json"
	"fmt"

	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/pipeline"
	"github.com/sgcnn/sgcnn/tensor"
)

// RunSettings are the settings of a pruning run that its schedule
// (pipeline.Config) does not hold. A checkpoint stores them with the
// schedule, so that a resumed run is the same experiment; the JSON is the
// sgcnn command's run record, so that either resumes the other's runs.
type RunSettings struct {
	// Weights names the file the dense model came from (a record only).
	Weights string `json:"weights,omitempty"`
	// Dataset names the data (see Datasets; default: the model's, else
	// its architecture's) and DataDir where its files are ("": found
	// automatically), read when PruneConfig.Train is nil.
	Dataset string `json:"dataset"`
	DataDir string `json:"data_dir,omitempty"`
	// TrainLimit and TestLimit keep only the first images of each split
	// when the data is read here (0: all).
	TrainLimit int `json:"train_limit"`
	TestLimit  int `json:"test_limit"`
	// EpochSize is the number of images per fine-tuning epoch, a fresh
	// random subset each epoch (0: the whole training set).
	EpochSize int `json:"epoch_size"`
	// PretrainEpochs, PretrainLR and Recipe record how the caller made
	// the dense model and chose the schedule (records only).
	PretrainEpochs int     `json:"pretrain_epochs"`
	PretrainLR     float64 `json:"pretrain_lr,omitempty"`
	Recipe         string  `json:"recipe,omitempty"`
	// Threads is the number of worker threads of the run's training and
	// measurements (0: one per CPU). It is process-wide for the run's
	// duration until package internal/parallel counts per network.
	Threads int `json:"threads"`
	// Measure times the compiled pruned network against the dense one
	// (batch 64) at the end: Report's speedup.
	Measure bool `json:"measure"`
}

// runRecord is what a pruning checkpoint stores in its model file's
// pruning record: the pipeline's state and the run's settings.
type runRecord struct {
	*pipeline.State
	Run *RunSettings `json:"run,omitempty"`
}

// Checkpoint is a pruning run as its checkpoint holds it: what Resume
// continues from.
type Checkpoint struct {
	// Path is the checkpoint's file.
	Path string
	// Model is the network as of the checkpoint, with its record.
	Model *Model
	// State is the run's progress, report and schedule. A caller may
	// change the schedule's settings that do not change the result (the
	// torch trainer's placement, a stored global schedule that no longer
	// parses) before passing the checkpoint to Prune.
	State *pipeline.State
	// Settings are the run's stored settings; nil for a run saved before
	// they were stored (the caller then supplies them).
	Settings *RunSettings
	// extra holds the optimiser's tensors.
	extra map[string]*tensor.Tensor
}

// ReadCheckpoint reads the pruning checkpoint at path. Its model is not
// checked for NaN or Inf (Prune checks it when it reads the checkpoint
// itself; see CheckFinite).
func ReadCheckpoint(path string) (*Checkpoint, error) {
	f, err := models.LoadFile(path, "")
	if err != nil {
		return nil, err
	}
	rec := runRecord{State: &pipeline.State{}}
	if err := json.Unmarshal(f.Info.Pruning, &rec); err != nil || rec.Phase == "" {
		return nil, fmt.Errorf("%s holds no pruning run", path)
	}
	return &Checkpoint{Path: path, Model: &Model{Model: f.Model, Info: f.Info}, State: rec.State, Settings: rec.Run, extra: f.Extra}, nil
}

// saveCheckpoint writes m with the run's state and settings, and the
// optimiser's momentum, to path atomically.
func saveCheckpoint(path string, m *Model, st *pipeline.State, run *RunSettings, opt *optim.SGD) error {
	raw, err := json.Marshal(runRecord{State: st, Run: run})
	if err != nil {
		return err
	}
	m.Info.Pruning = raw
	return models.SaveFile(path, m.Model, m.Info, MomentumOf(opt))
}

// MomentumOf returns the optimiser's momentum buffers as the extra
// tensors of a checkpoint (modelfile.OptimPrefix + parameter name +
// ".momentum_buffer", PyTorch's names); nil for a nil optimiser.
func MomentumOf(opt *optim.SGD) map[string]*tensor.Tensor {
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

// RestoreMomentum puts a checkpoint's momentum buffers (see MomentumOf)
// back into opt.
func RestoreMomentum(opt *optim.SGD, extra map[string]*tensor.Tensor) error {
	for i, p := range opt.Params {
		if t, ok := extra[modelfile.OptimPrefix+p.Name+".momentum_buffer"]; ok {
			if err := opt.SetVelocity(i, append([]float32(nil), t.Data...)); err != nil {
				return err
			}
		}
	}
	return nil
}
