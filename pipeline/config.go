// Package pipeline runs a pruning schedule on a model: at each cumulative
// rate it prunes every prunable layer with a prune.Pruner (self-grouping
// or another method), measures the accuracy right after pruning, fine-tunes locally
// (scheme LG or L), and after the last step fine-tunes globally (LG or G),
// recording a report row per step. Every step and epoch ends with an
// atomic checkpoint, so an interrupted run resumes where it stopped.
package pipeline

import (
	"fmt"
	"math"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"

	"github.com/sgcnn/sgcnn/selfgroup"
	"github.com/sgcnn/sgcnn/torchtrain"
)

// Config is a pruning run's settings. Zero values are not defaults: use
// DefaultConfig and change what you need.
type Config struct {
	Method string  `json:"method"` // a prune method: "self-grouping" (prune.Names lists them)
	Rate   float64 `json:"rate"`   // target conv rate, percent
	Step   float64 `json:"step"`   // rate increment per step, percent
	// Rates, when set, lists the cumulative rates explicitly (increasing,
	// ending at Rate), e.g. 10,20,...,90,95,97 for fine steps near a high
	// target; Step is then ignored.
	Rates  []float64 `json:"rates,omitempty"`
	FCCap  float64   `json:"fc_cap"` // FC layers get min(rate, FCCap)
	Groups int       `json:"groups"` // g
	// Rule is the group keep rule, "first-member" or "own-mask".
	Rule string `json:"rule"`
	// Importance is "l1" (the paper) or "taylor" (|w*dL/dw| over
	// TaylorBatches training batches).
	Importance    string `json:"importance"`
	TaylorBatches int    `json:"taylor_batches"`
	Seed          uint64 `json:"seed"`

	Scheme      string  `json:"scheme"` // LG, G or L
	LocalEpochs int     `json:"local_epochs"`
	LocalLR     float64 `json:"local_lr"`
	// LocalImages > 0 shortens every local epoch to that many images (a
	// fresh random subset of the training set each time): short local
	// phases after each of many fine steps.
	LocalImages  int     `json:"local_images,omitempty"`
	GlobalEpochs int     `json:"global_epochs"`
	GlobalLR     float64 `json:"global_lr"`
	// GlobalSchedule is an optim.Parse spec for the global phase, e.g.
	// "multistep:30,60" (the paper's) or "cosine".
	GlobalSchedule string  `json:"global_schedule"`
	Batch          int     `json:"batch"`
	Momentum       float64 `json:"momentum"`
	WeightDecay    float64 `json:"weight_decay"`
	Augment        bool    `json:"augment"`
	// Shift > 0 is a random shift of up to Shift pixels (pad and crop, no
	// flip) on any data set; it overrides CIFAR's 4-pixel padding.
	Shift int `json:"shift,omitempty"`
	// Distill, an extension beyond the paper, fine-tunes with knowledge
	// distillation from the dense model as it was before pruning, at
	// temperature DistillTemp with weight DistillAlpha on the soft term
	// (nn.DistillCrossEntropy).
	Distill      bool    `json:"distill,omitempty"`
	DistillTemp  float64 `json:"distill_temp,omitempty"`
	DistillAlpha float64 `json:"distill_alpha,omitempty"`
	// Layers names the layers to prune; empty means the model's defaults.
	Layers []string `json:"layers,omitempty"`
	// ValSplit is the number of training images held out of every
	// fine-tuning epoch as a validation split (0: none; the caller draws
	// it, with a fixed seed). Every accuracy during the run is then on
	// it, and the test set is evaluated once, at the end.
	ValSplit int `json:"val_split,omitempty"`
	// Cycles > 1 runs the global phase as that many cosine cycles from
	// GlobalLR to zero (GlobalSchedule is then unused); Average, an
	// extension, averages the models at the cycles' ends (batch-norm
	// statistics re-estimated) and keeps the average or the last model,
	// whichever the validation split scores higher (the average when
	// there is no split: the test set chooses nothing).
	Cycles  int  `json:"cycles,omitempty"`
	Average bool `json:"average,omitempty"`
	// LRStep is when the fine-tuning rate changes: "epoch" (once per
	// epoch; "" means it, as runs saved before the field did) or "iter"
	// (before every batch, at the fractional epoch reached, as PyTorch's
	// schedulers stepped per iteration: the global phase's cosine and
	// cycles anneal within an epoch; the local phases' constant rate and
	// step schedules do not change).
	LRStep string `json:"lr_step,omitempty"`
	// Precision is the fine-tuning convolutions' arithmetic: "" or "fp32",
	// or "bf16" (nn.BF16: on AMX where the machine has it, else emulated).
	Precision string `json:"precision,omitempty"`
	// Engine runs the fine-tuning epochs: sgcnn's (the zero value) or
	// PyTorch DDP (Runner.Epoch then trains them).
	torchtrain.Engine
}

// DefaultConfig returns the paper's settings for a scheme at a target
// rate: step 10, g = 16, FC cap 60, first-member rule, L1 importance, SGD
// momentum 0.9 and weight decay 1e-4, local 20 epochs at 0.01, global 90
// epochs at 0.01 divided by 10 after epochs 30 and 60.
func DefaultConfig(scheme selfgroup.Scheme, rate float64) Config {
	p := scheme.Preset()
	return Config{Method: "self-grouping", Rate: rate, Step: 10, FCCap: 60, Groups: selfgroup.DefaultGroups,
		Rule: "first-member", Importance: "l1", TaylorBatches: 10, Seed: 1,
		Scheme: scheme.String(), LocalEpochs: p.LocalEpochs, LocalLR: p.LocalLR,
		GlobalEpochs: p.GlobalEpochs, GlobalLR: p.GlobalLR, GlobalSchedule: "multistep:30,60",
		Batch: 128, Momentum: 0.9, WeightDecay: 1e-4, Augment: true}
}

// Validate checks c before any work starts.
func (c *Config) Validate() error {
	if _, err := c.Schedule(); err != nil {
		return err
	}
	if _, err := c.Engine.Torch(); err != nil {
		return err
	}
	if _, err := selfgroup.ParseScheme(c.Scheme); err != nil {
		return err
	}
	if err := c.CheckMethod(); err != nil {
		return err
	}
	if err := c.validateCycles(); err != nil {
		return err
	}
	if err := c.validateLRStep(); err != nil {
		return err
	}
	if _, err := nn.ParsePrecision(c.Precision); err != nil {
		return err
	}
	if c.Precision != "" && c.Precision != "fp32" && c.Trainer == "torch" {
		return fmt.Errorf("precision %s: not with the torch trainer", c.Precision)
	}
	local, global := c.epochs()
	if global > 0 && c.GlobalLR > 0 {
		if _, err := optim.Parse(c.GlobalSchedule, c.GlobalLR, global); err != nil {
			return fmt.Errorf("global schedule: %w", err)
		}
	}
	switch {
	case c.Groups == 0: // a Config's zero values are not defaults (prune.Options' are)
		return fmt.Errorf("groups 0: want at least 1")
	case !(c.FCCap > 0 && c.FCCap < 100):
		return fmt.Errorf("fc cap %g: want a rate in (0, 100)", c.FCCap)
	case c.usesTaylor() && c.TaylorBatches < 1:
		return fmt.Errorf("taylor batches %d: want at least 1", c.TaylorBatches)
	case c.LocalEpochs < 0 || c.GlobalEpochs < 0:
		return fmt.Errorf("epochs must not be negative (local %d, global %d)", c.LocalEpochs, c.GlobalEpochs)
	case c.Batch < 1:
		return fmt.Errorf("batch %d: want at least 1", c.Batch)
	case c.Shift < 0:
		return fmt.Errorf("shift %d: want 0 or more pixels", c.Shift)
	case c.LocalImages < 0:
		return fmt.Errorf("local images %d: want 0 (whole epochs) or more", c.LocalImages)
	case c.ValSplit < 0:
		return fmt.Errorf("val split %d: want 0 (none) or a number of training images", c.ValSplit)
	case local > 0 && !(c.LocalLR > 0 && c.LocalLR < math.Inf(1)):
		return fmt.Errorf("local learning rate %g: want a positive rate", c.LocalLR)
	case global > 0 && !(c.GlobalLR > 0 && c.GlobalLR < math.Inf(1)):
		return fmt.Errorf("global learning rate %g: want a positive rate", c.GlobalLR)
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return fmt.Errorf("momentum %g: want [0, 1)", c.Momentum)
	case !(c.WeightDecay >= 0 && c.WeightDecay < math.Inf(1)):
		return fmt.Errorf("weight decay %g: want a finite value >= 0", c.WeightDecay)
	case c.Distill && !(c.DistillTemp > 0 && c.DistillTemp < math.Inf(1)):
		return fmt.Errorf("distillation temperature %g: want a temperature > 0", c.DistillTemp)
	case c.Distill && !(c.DistillAlpha >= 0 && c.DistillAlpha <= 1):
		return fmt.Errorf("distillation alpha %g: want a weight in [0, 1]", c.DistillAlpha)
	}
	return nil
}

// Schedule returns the cumulative rates of the pruning steps.
func (c *Config) Schedule() ([]float64, error) {
	if len(c.Rates) == 0 {
		return selfgroup.Rates(c.Step, c.Rate)
	}
	for i, r := range c.Rates {
		if !(r > 0 && r < 100) || (i > 0 && r <= c.Rates[i-1]) {
			return nil, fmt.Errorf("rates %v: want increasing rates in (0, 100)", c.Rates)
		}
	}
	if last := c.Rates[len(c.Rates)-1]; last != c.Rate {
		return nil, fmt.Errorf("rates %v end at %g, not at the target rate %g", c.Rates, last, c.Rate)
	}
	return c.Rates, nil
}

// validateLRStep checks LRStep: epoch or iter, and iter only on sgcnn's
// own engine (the torch trainer takes one rate per epoch).
func (c *Config) validateLRStep() error {
	switch c.LRStep {
	case "", "epoch":
		return nil
	case "iter":
		if c.Trainer == "torch" {
			return fmt.Errorf("--lr-step iter: not with --trainer torch (the torch trainer takes one rate per epoch); use --lr-step epoch or --trainer go")
		}
		return nil
	}
	return fmt.Errorf("--lr-step %q: want epoch or iter", c.LRStep)
}
