package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/pipeline"
)

// pruneRecord is what a pruning checkpoint stores: the pipeline's state
// and the run's settings (sgcnn.RunSettings, which --resume uses).
type pruneRecord struct {
	*pipeline.State
	Run *sgcnn.RunSettings `json:"run,omitempty"`
}

// record returns the run's settings as o holds them.
func (o *pruneOptions) record(threads int) *sgcnn.RunSettings {
	return &sgcnn.RunSettings{Weights: o.weights, Dataset: o.dataset, DataDir: o.dataDir, TrainLimit: o.limits[0],
		TestLimit: o.limits[1], EpochSize: o.epochSize, PretrainEpochs: o.pretrainEpochs, PretrainLR: o.pretrainLR, Recipe: o.recipe,
		Threads: threads, Measure: o.measure}
}

// pruneNotStored are the prune flags a run does not store.
var pruneNotStored = []string{"out", "resume", "json", "force", "allow-nonfinite", "threads"}

// readPruneState reads the pipeline state of a pruning checkpoint.
func readPruneState(path string) (*pipeline.State, error) {
	ck, err := sgcnn.ReadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	return ck.State, nil
}

// loadPruneRun reads the run to resume from ckpt and puts its stored
// settings into o, checking the flags given against them; the checkpoint
// returned carries the settings as the flags leave them.
func loadPruneRun(g *globals, o *pruneOptions, ckpt string) (*sgcnn.Checkpoint, error) {
	var given map[string]string
	if o.flags != nil {
		given = flagsGiven(o.flags, pruneNotStored...)
	}
	if _, err := os.Stat(ckpt); err != nil {
		return nil, fmt.Errorf("--resume: %s: no checkpoint to continue (%v)", o.out, err)
	}
	ck, err := sgcnn.ReadCheckpoint(ckpt)
	if err != nil {
		return nil, fmt.Errorf("--resume: %w", err)
	}
	if err := checkLoadedModel(g, ck.Model.Model, ckpt); err != nil {
		return nil, err
	}
	st := ck.State
	legacy := ck.Settings == nil // saved before the settings were stored
	r := ck.Settings
	if legacy {
		r = o.record(g.threads)
		r.Dataset = ck.Model.Info.Dataset
	}
	o.model, o.weights, o.dataset, o.dataDir = ck.Model.Model.Arch, r.Weights, r.Dataset, r.DataDir
	o.limits, o.epochSize, o.pretrainEpochs, o.measure = [2]int{r.TrainLimit, r.TestLimit}, r.EpochSize, r.PretrainEpochs, r.Measure
	o.recipe = r.Recipe
	if r.PretrainLR > 0 { // runs saved before --pretrain-lr keep the value given now
		o.pretrainLR = r.PretrainLR
	}
	o.cfg = st.Config
	if o.cfg.LRStep == "" { // saved before --lr-step: stepped per epoch
		o.cfg.LRStep = "epoch"
	}
	if o.flags != nil {
		rule := func(name, given, stored string) bool {
			switch name {
			case "global-schedule":
				_, err := optim.Parse(stored, max(st.Config.GlobalLR, 1e-9), max(st.Config.GlobalEpochs, 1))
				return err != nil
			case "train-limit", "test-limit", "epoch-size", "pretrain-epochs", "weights", "dataset":
				return legacy
			case "pretrain-lr":
				return r.PretrainLR == 0
			case "recipe":
				return r.Recipe == "" && legacy
			}
			return false
		}
		if err := applyResumeFlags(o.flags, given, rule, g.stderr); err != nil {
			return nil, err
		}
		resumeThreads(g, o.flags, r.Threads)
	}
	if err := o.cfg.Validate(); err != nil {
		return nil, usagef("--resume: the run's settings: %v", err)
	}
	st.Config = o.cfg
	ck.Settings = o.record(g.threads)
	fmt.Fprintf(g.stderr, "resuming %s: %d steps done, phase %s, epoch %d\n", o.out, st.Step, st.Phase, st.Epoch)
	return ck, nil
}

// validatePruneStart checks the settings of a new pruning run that its
// pipeline.Config does not hold, before any work.
func validatePruneStart(o *pruneOptions) error {
	if o.dataset != "" && o.dataset != folderDataset && !sgcnn.KnownDataset(o.dataset) {
		return usagef("--dataset %q: want one of %s or %s", o.dataset, strings.Join(sgcnn.Datasets, ", "), folderDataset)
	}
	if o.dataset == folderDataset {
		if err := validatePruneFolder(o); err != nil {
			return err
		}
	}
	if o.weights != "" {
		if _, err := os.Stat(o.weights); err != nil {
			return usagef("--weights: %v", err)
		}
	}
	if len(o.cfg.Layers) > 0 && o.model != models.GraphArch { // an imported graph's layers are checked once it is loaded
		m, err := models.New(o.model, 0, 0)
		if err != nil {
			return usageError{err}
		}
		for _, name := range o.cfg.Layers {
			if l, ok := m.Layer(name).(nn.Prunable); !ok || l == nil {
				return usagef("--layers: %q is not a prunable layer of %s (see sgcnn info %s)", name, o.model, o.model)
			}
		}
	}
	if o.weights == "" && o.model == "lenet5" && o.pretrainEpochs < 1 {
		return usagef("--pretrain-epochs %d: lenet5 without --weights is trained first, for at least 1 epoch", o.pretrainEpochs)
	}
	return nil
}

// validatePruneFolder checks the flags of a run on an image folder before
// any work: the folder given, no --train-limit or --shift (the split of
// --val-split is checked against the folder once it is listed).
func validatePruneFolder(o *pruneOptions) error {
	switch {
	case o.dataDir == "":
		return usagef("--dataset %s needs --data PATH, the folder of class sub-folders (or of train/ and val/)", folderDataset)
	case o.limits[0] > 0:
		return usagef("--train-limit %d: not with --dataset %s; --epoch-size draws a random subset per epoch", o.limits[0], folderDataset)
	case o.cfg.Shift > 0:
		return usagef("--shift %d: not with --dataset %s, whose training crops are random resized crops", o.cfg.Shift, folderDataset)
	}
	if _, err := os.Stat(o.dataDir); err != nil {
		return usagef("--data: %v", err)
	}
	return nil
}
