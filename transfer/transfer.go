// Package transfer reuses a trained, possibly pruned, classifier on a new
// data set: it swaps the model's classification head for a new dense one
// sized for the target classes and fine-tunes the whole network, with the
// connection masks of every other layer kept fixed (optim.SGD re-applies
// them after each update, so pruned weights stay zero).
//
// The recipe of the paper's transfer experiments (Guo et al. 2020, §4.4)
// is the default: 21 epochs of SGD, learning rate 0.001 divided by 10
// after epochs 7 and 14, momentum 0.9, weight decay 5e-4.
package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/train"
)

// Head returns m's classifier: the last nn.Linear of the network in
// forward order ("linear" in the CIFAR ResNets, "fc2" in LeNet-5,
// "classifier" or "fc" in the others).
func Head(m *models.Model) (*nn.Linear, error) {
	var head *nn.Linear
	nn.Walk(m.Net, func(l nn.Layer) {
		if lin, ok := l.(*nn.Linear); ok {
			head = lin
		}
	})
	if head == nil {
		return nil, fmt.Errorf("transfer: %s has no linear layer to replace", m.Arch)
	}
	return head, nil
}

// ReplaceHead swaps m's classifier (see Head) for a new dense nn.Linear of
// the same name and input width with the given number of outputs, with
// PyTorch's default initialisation drawn from seed, and sets m.Classes.
// The masks and weights of all other layers are left as they are. It
// returns the new head.
func ReplaceHead(m *models.Model, classes int, seed uint64) (*nn.Linear, error) {
	if classes < 1 {
		return nil, fmt.Errorf("transfer: %d classes: want at least 1", classes)
	}
	old, err := Head(m)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x7ea5f3e))
	head := nn.NewLinear(old.Name(), old.In, classes, old.B != nil, rng)
	if gn, ok := m.Net.(interface{ Graph() *graph.Graph }); ok {
		return head, replaceInGraph(m, gn.Graph(), old, head)
	}
	if !replace(m.Net, old, head) {
		return nil, fmt.Errorf("transfer: %s: cannot find the container holding %s", m.Arch, old.Name())
	}
	m.Classes = classes
	return head, nil
}

// replaceInGraph puts head in the place of the node whose layer is old in
// an imported network's graph, and rebuilds m around the changed graph.
func replaceInGraph(m *models.Model, g *graph.Graph, old, head *nn.Linear) error {
	for _, n := range g.Nodes {
		if n.Layer != nn.Layer(old) {
			continue
		}
		n.Layer, n.Attrs.Out = head, head.Out
		g.Shapes = nil // the logits' width changed: infer again
		nm, err := models.FromGraph(g, head.Out)
		if err != nil {
			return fmt.Errorf("transfer: replacing %s: %w", old.Name(), err)
		}
		*m = *nm
		return nil
	}
	return fmt.Errorf("transfer: %s: no graph node holds %s", m.Arch, old.Name())
}

// replace puts repl in the place of old inside root's containers.
func replace(root, old, repl nn.Layer) bool {
	switch c := root.(type) {
	case *nn.Sequential:
		for i, l := range c.Layers {
			if l == old {
				c.Layers[i] = repl
				return true
			}
			if replace(l, old, repl) {
				return true
			}
		}
	case *nn.Residual:
		for _, p := range []*nn.Layer{&c.Body, &c.Shortcut} {
			if *p == old {
				*p = repl
				return true
			}
			if *p != nil && replace(*p, old, repl) {
				return true
			}
		}
	case *nn.DenseConcat:
		if c.Body == old {
			c.Body = repl
			return true
		}
		return replace(c.Body, old, repl)
	}
	return false
}

// Fit converts ds into m's input format: unchanged when it matches,
// padded to 32x32 and copied to three channels (data.Dataset.ToRGB32)
// when ds is 1x28x28 and m takes 3x32x32.
func Fit(m *models.Model, ds *data.Dataset) (*data.Dataset, error) {
	c, h, w := ds.Dims()
	switch {
	case [3]int{c, h, w} == m.InputShape:
		return ds, nil
	case c == 1 && h == 28 && w == 28 && m.InputShape == [3]int{3, 32, 32}:
		return ds.ToRGB32()
	}
	return nil, fmt.Errorf("transfer: %s has %dx%dx%d images but %s takes %dx%dx%d", ds.Name, c, h, w,
		m.Arch, m.InputShape[0], m.InputShape[1], m.InputShape[2])
}

// Config is a fine-tuning recipe.
type Config struct {
	Epochs      int     `json:"epochs"`
	Batch       int     `json:"batch"`
	LR          float64 `json:"lr"`
	Milestones  []int   `json:"milestones"` // epochs (0-based) from which the rate is multiplied by Gamma once more
	Gamma       float64 `json:"gamma"`
	Momentum    float64 `json:"momentum"`
	WeightDecay float64 `json:"weight_decay"`
	Seed        uint64  `json:"seed"` // new head, shuffling
}

// DefaultConfig is the paper's transfer recipe: 21 epochs, lr 0.001 divided
// by 10 after epochs 7 and 14, momentum 0.9, weight decay 5e-4, batch 128.
func DefaultConfig() Config {
	return Config{Epochs: 21, Batch: 128, LR: 0.001, Milestones: []int{7, 14}, Gamma: 0.1,
		Momentum: 0.9, WeightDecay: 5e-4, Seed: 1}
}

// Validate reports a recipe that cannot run.
func (c Config) Validate() error {
	switch {
	case c.Epochs < 1:
		return fmt.Errorf("epochs %d: want at least 1", c.Epochs)
	case c.Batch < 1:
		return fmt.Errorf("batch %d: want at least 1", c.Batch)
	case !(c.Gamma > 0):
		return fmt.Errorf("gamma %g: want > 0", c.Gamma)
	}
	if err := optim.Validate(c.LR, c.Momentum, c.WeightDecay); err != nil {
		return err
	}
	for i, e := range c.Milestones {
		if e < 1 || (i > 0 && e <= c.Milestones[i-1]) {
			return fmt.Errorf("milestones %v: want increasing epochs >= 1", c.Milestones)
		}
	}
	return nil
}

// Schedule returns the recipe's learning-rate schedule.
func (c Config) Schedule() optim.Schedule {
	return optim.MultiStep{Base: c.LR, Milestones: c.Milestones, Gamma: c.Gamma}
}

// Result is a finished transfer run.
type Result struct {
	History []train.EpochStats `json:"history"`
	Final   train.EvalResult   `json:"final"` // test accuracy after the last epoch
	// Val is the validation accuracy after the last epoch (Data.Val).
	Val *train.EvalResult `json:"val,omitempty"`
}

// Data is what a transfer run trains and tests on. Both sets must be in the
// model's input format (see Fit); Norm normalises them.
type Data struct {
	Train, Test *data.Dataset
	Norm        data.Norm
	// Val, when set, holds images held out of Train: every epoch is then
	// evaluated on it, and Test once, after the last epoch.
	Val *data.Dataset
}

// Run fine-tunes m (whose head has been replaced) on d.Train for
// cfg.Epochs, evaluating on d.Test after each epoch (on d.Val, when set,
// and on d.Test once, after the last). Masks stay applied
// throughout. log receives progress (nil: silent). afterEpoch, if not nil,
// runs after each epoch (e.g. to save); its error stops the run.
// Cancelling ctx stops the run between batches.
func Run(ctx context.Context, m *models.Model, d Data, cfg Config, log io.Writer,
	afterEpoch func(train.EpochStats) error) (*Result, error) {
	trainSet, testSet, norm := d.Train, d.Test, d.Norm
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("transfer: %w", err)
	}
	if n := len(trainSet.Classes); n > m.Classes {
		return nil, fmt.Errorf("transfer: %s has %d classes but the model has %d outputs", trainSet.Name, n, m.Classes)
	}
	trainLoader, err := data.NewLoader(trainSet, data.Config{BatchSize: cfg.Batch, Shuffle: true, Seed: cfg.Seed, Norm: norm})
	if err != nil {
		return nil, err
	}
	testLoader, err := data.NewLoader(testSet, data.Config{BatchSize: 200, Norm: norm})
	if err != nil {
		return nil, err
	}
	testSrc, valSrc := train.FromLoader(ctx, testLoader), train.Source(nil)
	if d.Val != nil {
		valLoader, err := data.NewLoader(d.Val, data.Config{BatchSize: 200, Norm: norm})
		if err != nil {
			return nil, err
		}
		valSrc = train.FromLoader(ctx, valLoader)
	}
	plan := train.Plan{Test: testSrc}
	if valSrc != nil {
		plan = train.Plan{Val: valSrc}
	}
	nctx := nn.NewCtx(true)
	opt := optim.NewSGD(nn.AllParams(m.Net), cfg.LR, cfg.Momentum, cfg.WeightDecay, false)
	s := train.NewStepper(m.Net, opt, nctx)
	hist, err := train.Fit(s, train.Plan{
		Epochs: cfg.Epochs, Schedule: cfg.Schedule(), TrainLen: trainSet.Len(),
		Train: train.FromLoader(ctx, trainLoader), Test: plan.Test, Val: plan.Val,
		Log: log, Label: "transfer " + m.Arch,
		BeforeEpoch: func(e int) { nctx.Rand = rand.New(rand.NewPCG(cfg.Seed, uint64(e)+1)) },
		AfterEpoch:  afterEpoch,
	})
	r := &Result{History: hist}
	if err != nil {
		return r, err
	}
	if len(hist) == 0 {
		return r, errors.New("transfer: no epoch ran")
	}
	last := hist[len(hist)-1]
	r.Final = train.EvalResult{Top1: last.TestTop1, Top5: last.TestTop5, Loss: last.TestLoss, N: testSet.Len()}
	if valSrc != nil {
		r.Val = &train.EvalResult{Top1: last.ValTop1, Top5: last.ValTop5, Loss: last.ValLoss, N: d.Val.Len()}
		if r.Final, err = train.Evaluate(m.Net, func(yield func(train.Batch) bool) error { return testSrc(0, yield) }); err != nil {
			return r, fmt.Errorf("transfer: the final test evaluation: %w", err)
		}
	}
	return r, nil
}
