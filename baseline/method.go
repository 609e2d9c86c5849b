package baseline

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/pipeline"
	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/selfgroup"
)

// Method names, as pipeline.Config.Method and report.Run.Method hold them.
const (
	MethodSelfGrouping = "self-grouping"
	MethodTaylor       = "taylor"
	MethodRegular      = "regular"
	MethodRandom       = "random"
	MethodL1Filter     = "l1filter"
)

// Methods lists the names New accepts, self-grouping first.
var Methods = []string{MethodSelfGrouping, MethodTaylor, MethodRegular, MethodRandom, MethodL1Filter}

// ImportanceFunc returns data-driven importance vectors per layer (n*c
// values each), as pipeline.TaylorImportance's result does.
type ImportanceFunc = func(layers []nn.Prunable) ([][]float32, error)

// Check returns an error naming the valid methods when method is not one.
func Check(method string) error {
	for _, m := range Methods {
		if m == method {
			return nil
		}
	}
	return fmt.Errorf("method %q: want one of %s", method, strings.Join(Methods, ", "))
}

// CheckConfig returns an error when cfg asks for a method New does not
// know, a keep rule it does not know, or l1filter with taylor importance.
// It needs no model, so a command can call it before any work.
func CheckConfig(cfg pipeline.Config) error {
	if cfg.Method == "" {
		cfg.Method = MethodSelfGrouping // checkpoints from before package baseline
	}
	if err := Check(cfg.Method); err != nil {
		return err
	}
	if _, err := selfgroup.ParseKeepRule(cfg.Rule); err != nil {
		return err
	}
	if cfg.Method == MethodL1Filter && cfg.Importance == "taylor" {
		return fmt.Errorf("method l1filter ranks filters by L1 norm: importance %q does not apply", cfg.Importance)
	}
	return nil
}

// New returns the pruner of cfg.Method with cfg's groups, keep rule and
// seed (an empty method is self-grouping). imp is the importance used where cfg.Importance is "taylor" (and
// always by method taylor, which needs it); nil means L1 of the weights.
// l1filter ranks filters by their L1 norms by definition and refuses a
// taylor importance.
func New(cfg pipeline.Config, imp ImportanceFunc) (pipeline.Pruner, error) {
	if err := CheckConfig(cfg); err != nil {
		return nil, err
	}
	if cfg.Method == "" {
		cfg.Method = MethodSelfGrouping
	}
	rule, _ := selfgroup.ParseKeepRule(cfg.Rule)
	taylor := cfg.Importance == "taylor" || cfg.Method == MethodTaylor
	if taylor && imp == nil {
		return nil, fmt.Errorf("method %s with taylor importance: no importance function given", cfg.Method)
	}
	if !taylor {
		imp = nil
	}
	switch cfg.Method {
	case MethodRegular:
		return &Regular{Groups: cfg.Groups, Importance: imp}, nil
	case MethodRandom:
		return &Random{Groups: cfg.Groups, Rule: rule, Seed: cfg.Seed, Importance: imp}, nil
	case MethodL1Filter:
		return &L1Filter{}, nil
	}
	return &pipeline.SelfGrouping{Groups: cfg.Groups, Rule: rule, Seed: cfg.Seed, Importance: imp}, nil
}

// layerStep prunes one layer: w has n*c*kk weights, mask is the current
// mask (nil: dense), imp the data-driven importance (nil: none).
type layerStep func(l nn.Prunable, w []float32, n, c, kk int, mask []float32, rate float64, imp []float32) (selfgroup.Result, error)

// pruneLayers runs step on every layer, installs the new masks and
// returns the report rows, as pipeline.SelfGrouping does.
func pruneLayers(layers []nn.Prunable, rates []float64, imp ImportanceFunc, step layerStep) ([]report.Layer, error) {
	if len(rates) != len(layers) {
		return nil, fmt.Errorf("baseline: %d rates for %d layers", len(rates), len(layers))
	}
	var imps [][]float32
	if imp != nil {
		var err error
		if imps, err = imp(layers); err != nil {
			return nil, err
		}
	}
	out := make([]report.Layer, len(layers))
	for li, l := range layers {
		n, c := l.MaskShape()
		w := l.Weight().Value.Data
		var li32 []float32
		if imps != nil {
			li32 = imps[li]
		}
		res, err := step(l, w, n, c, len(w)/(n*c), l.Mask(), rates[li], li32)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.Name(), err)
		}
		if out[li], err = pipeline.Install(l, res, rates[li]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// layerSeed derives a per-layer seed from the run seed (the same for
// every step of the schedule).
func layerSeed(seed uint64, name string) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", seed, name)
	return h.Sum64()
}

// checkRate returns an error for a rate outside (0, 100).
func checkRate(rate float64) error {
	if !(rate > 0 && rate < 100) {
		return fmt.Errorf("baseline: rate %g%% outside (0, 100)", rate)
	}
	return nil
}

// importance returns imp, or the L1 importance of the masked weights when
// imp is nil.
func importance(w []float32, n, c, kk int, mask, imp []float32) []float32 {
	if imp != nil {
		return imp
	}
	return selfgroup.Importance(w, n, c, kk, mask)
}
