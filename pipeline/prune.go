package pipeline

import (
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/prune"
	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/tensor"
	"github.com/sgcnn/sgcnn/train"
)

// method returns the name of c's method; an empty one (checkpoints from
// before methods had names) is self-grouping.
func (c *Config) method() string {
	if c.Method == "" {
		return prune.MethodSelfGrouping
	}
	return c.Method
}

// pruneOptions returns the options c gives its method.
func (c *Config) pruneOptions() prune.Options {
	return prune.Options{Groups: c.Groups, Rule: c.Rule, Importance: c.Importance, Seed: c.Seed}
}

// usesTaylor says whether c's method ranks by the taylor importance.
func (c *Config) usesTaylor() bool {
	m, err := prune.Lookup(c.method())
	return c.Importance == prune.ImportanceTaylor || (err == nil && m.Taylor)
}

// CheckMethod returns an error when c's method does not exist or cannot
// take c's groups, keep rule and importance (prune.Check). It needs no
// model; Validate calls it.
func (c *Config) CheckMethod() error {
	return prune.Check(c.method(), c.pruneOptions())
}

// NewPruner returns the pruner of cfg's method (prune.New). Where the
// method ranks by the taylor importance, it is measured on net over the
// first cfg.TaylorBatches batches of epoch 0 of src
// (prune.TaylorImportance).
func NewPruner(cfg Config, net nn.Layer, src train.Source) (prune.Pruner, error) {
	opts := cfg.pruneOptions()
	if cfg.usesTaylor() {
		opts.Scores = prune.TaylorImportance(net, batchesOf(src), cfg.TaylorBatches)
	}
	return prune.New(cfg.method(), opts)
}

// batchesOf reads epoch 0 of src as prune.Batches.
func batchesOf(src train.Source) prune.Batches {
	return func(yield func(x *tensor.Tensor, y []int) bool) error {
		return src(0, func(b train.Batch) bool { return yield(b.X, b.Y) })
	}
}

// reportLayers maps a pruning step's records to report rows.
func reportLayers(recs []prune.Layer) []report.Layer {
	out := make([]report.Layer, len(recs))
	for i, l := range recs {
		out[i] = report.Layer{Name: l.Name, Rate: l.Rate, Pruned: l.Pruned, Groups: l.Groups,
			Patterns: l.Patterns, Dead: l.Dead, Labels: l.Labels, Mask: l.Mask, N: l.N, C: l.C}
	}
	return out
}
