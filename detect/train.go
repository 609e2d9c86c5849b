package detect

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/internal/progress"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/tensor"
)

// TrainConfig is a detector training recipe.
type TrainConfig struct {
	Epochs      int     `json:"epochs"`
	Batch       int     `json:"batch"`
	LR          float64 `json:"lr"`
	Milestones  []int   `json:"milestones"` // 0-based epochs from which the rate is divided by 10 once more
	Momentum    float64 `json:"momentum"`
	WeightDecay float64 `json:"weight_decay"`
	Weights     Weights `json:"loss_weights"`
	Seed        uint64  `json:"seed"` // shuffling
	// Threads is the number of goroutines training runs on (< 1: the
	// program's default); not part of the recipe.
	Threads int `json:"-"`
}

// Validate reports a recipe that cannot run.
func (c TrainConfig) Validate() error {
	switch {
	case c.Epochs < 1:
		return fmt.Errorf("detect: epochs %d: want at least 1", c.Epochs)
	case c.Batch < 1:
		return fmt.Errorf("detect: batch %d: want at least 1", c.Batch)
	}
	for i, m := range c.Milestones {
		if m < 0 || (i > 0 && m <= c.Milestones[i-1]) {
			return fmt.Errorf("detect: milestones %v: want increasing epochs >= 0", c.Milestones)
		}
	}
	if err := optim.Validate(c.LR, c.Momentum, c.WeightDecay); err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	return nil
}

// EpochStats records one training epoch.
type EpochStats struct {
	Epoch   int       `json:"epoch"` // 1-based
	LR      float64   `json:"lr"`
	Loss    LossParts `json:"loss"` // means over the epoch's batches
	Seconds float64   `json:"seconds"`
}

// Train fits d on set with SGD; the backbone's masks stay applied (the
// optimiser re-applies them after each step). log receives progress and a
// line per epoch (nil: silent). Cancelling ctx stops it between batches.
func Train(ctx context.Context, d *Detector, set *Set, cfg TrainConfig, log io.Writer) ([]EpochStats, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := d.CheckInput(set.Size); err != nil {
		return nil, err
	}
	sched := optim.MultiStep{Base: cfg.LR, Milestones: cfg.Milestones, Gamma: 0.1}
	opt := optim.NewSGD(nn.AllParams(d.Net), cfg.LR, cfg.Momentum, cfg.WeightDecay, false)
	nctx := &nn.Ctx{Train: true, Threads: cfg.Threads}
	var hist []EpochStats
	for e := range cfg.Epochs {
		opt.LR = sched.LR(e)
		start := time.Now()
		order := rand.New(rand.NewPCG(cfg.Seed, uint64(e))).Perm(set.Len())
		var bar *progress.Bar
		if log != nil {
			bar = progress.New(log, int64(set.Len()), fmt.Sprintf("detect %s epoch %d/%d", d.Arch, e+1, cfg.Epochs), "img")
		}
		var sum LossParts
		nb := 0
		for i := 0; i < len(order); i += cfg.Batch {
			if err := ctx.Err(); err != nil {
				return hist, err
			}
			idx := order[i:min(i+cfg.Batch, len(order))]
			lp, err := d.step(nctx, opt, set, idx, cfg.Weights)
			if err != nil {
				return hist, fmt.Errorf("epoch %d, batch %d: %w", e+1, nb+1, err)
			}
			sum.Total += lp.Total
			sum.Focal += lp.Focal
			sum.Size += lp.Size
			sum.Offset += lp.Offset
			nb++
			if bar != nil {
				bar.Add(len(idx), fmt.Sprintf("loss %.3f", sum.Total/float64(nb)))
			}
		}
		if bar != nil {
			bar.Finish()
		}
		f := 1 / float64(nb)
		st := EpochStats{Epoch: e + 1, LR: opt.LR, Seconds: time.Since(start).Seconds(),
			Loss: LossParts{Total: sum.Total * f, Focal: sum.Focal * f, Size: sum.Size * f, Offset: sum.Offset * f}}
		if log != nil {
			fmt.Fprintf(log, "detect %s epoch %d/%d  lr %.4g  loss %.4f (focal %.4f size %.3f offset %.3f)  %.0f img/s\n",
				d.Arch, st.Epoch, cfg.Epochs, st.LR, st.Loss.Total, st.Loss.Focal, st.Loss.Size, st.Loss.Offset,
				float64(set.Len())/st.Seconds)
		}
		hist = append(hist, st)
	}
	return hist, nil
}

// step runs one training step on images idx of set.
func (d *Detector) step(ctx *nn.Ctx, opt *optim.SGD, set *Set, idx []int, w Weights) (LossParts, error) {
	x, objs := set.Batch(idx)
	nn.ZeroGrad(d.Net)
	out, err := d.Net.Forward(ctx, x)
	if err != nil {
		return LossParts{}, err
	}
	t := MakeTargets(objs, d.Classes, out.Shape[2], out.Shape[3], d.Stride)
	lp, grad, err := Loss(out, t, w, nil)
	if err != nil {
		return lp, err
	}
	if _, err := d.Net.Backward(ctx, grad); err != nil {
		return lp, err
	}
	return lp, opt.Step()
}

// Detect runs d in evaluation mode over set in batches and decodes at most
// topK detections per image.
func Detect(d *Detector, set *Set, batch, topK int) ([][]Detection, error) {
	if err := d.CheckInput(set.Size); err != nil {
		return nil, err
	}
	ctx := nn.NewCtx(false)
	var all [][]Detection
	for i := 0; i < set.Len(); i += batch {
		idx := make([]int, 0, batch)
		for j := i; j < min(i+batch, set.Len()); j++ {
			idx = append(idx, j)
		}
		x, _ := set.Batch(idx)
		out, err := d.Net.Forward(ctx, x)
		if err != nil {
			return nil, err
		}
		all = append(all, Decode(out, d.Classes, d.Stride, topK, set.Size)...)
	}
	return all, nil
}

// EvaluateSet detects on set and scores the result (at most 100
// detections per image, as COCO).
func EvaluateSet(d *Detector, set *Set) (Metrics, error) {
	dets, err := Detect(d, set, 50, 100)
	if err != nil {
		return Metrics{}, err
	}
	return Evaluate(dets, set.Objects, d.Classes, 100), nil
}

// Speed measures d's forward pass through its layers in evaluation mode
// on batches of the given size from set and returns images per second of
// the median of runs timed passes, after one warm-up pass. Decoding is
// not timed.
func Speed(d *Detector, set *Set, batch, runs int) (float64, error) {
	ctx := nn.NewCtx(false)
	return timeForward(set, batch, runs, func(x *tensor.Tensor) error {
		_, err := d.Net.Forward(ctx, x)
		return err
	})
}

// CompiledSpeed is Speed for d compiled by package compile (BatchNorm
// folded, pruned connections skipped; with opt.IgnoreMasks, the same
// engine run dense), the executor a pruned backbone is deployed with.
func CompiledSpeed(d *Detector, set *Set, batch, runs int, opt compile.Options) (float64, error) {
	cn, err := compile.Compile(d.Net, []int{3, set.Size, set.Size}, opt)
	if err != nil {
		return 0, err
	}
	return timeForward(set, batch, runs, func(x *tensor.Tensor) error {
		_, err := cn.Forward(x)
		return err
	})
}

// timeForward times forward on a batch of set's first images.
func timeForward(set *Set, batch, runs int, forward func(x *tensor.Tensor) error) (float64, error) {
	idx := make([]int, batch)
	for i := range idx {
		idx[i] = i % set.Len()
	}
	x, _ := set.Batch(idx)
	if err := forward(x); err != nil {
		return 0, err
	}
	times := make([]float64, max(1, runs))
	for r := range times {
		start := time.Now()
		if err := forward(x); err != nil {
			return 0, err
		}
		times[r] = time.Since(start).Seconds()
	}
	sort.Float64s(times)
	return float64(batch) / times[len(times)/2], nil
}
