package compile

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// This file measures forward-pass times of the nn network, the compiled
// dense baseline and the compiled pruned network.

// Timing holds the median forward time of one batch on three engines.
type Timing struct {
	Batch int
	// NN is package nn's eval-mode forward of the masked network (dense
	// weights times masks: the pruned network costs what the unpruned does).
	NN time.Duration
	// Dense is the compiled network with its masks ignored: the unpruned
	// network on the same engine.
	Dense time.Duration
	// Compiled is the compiled pruned network.
	Compiled time.Duration
	// NNBest, DenseBest and CompiledBest are the fastest runs: on a
	// machine shared with other work they estimate the uncontended time
	// better than the medians.
	NNBest, DenseBest, CompiledBest time.Duration
	// Layers is the compiled pruned network's per-layer report.
	Layers []LayerInfo
}

// Speedup is Dense / Compiled: the wall-clock gain from pruning on one
// engine, the number to set beside the FLOPs reduction.
func (t Timing) Speedup() float64 { return float64(t.Dense) / float64(t.Compiled) }

// SpeedupBest is DenseBest / CompiledBest.
func (t Timing) SpeedupBest() float64 { return float64(t.DenseBest) / float64(t.CompiledBest) }

// SpeedupNN is NN / Compiled: the gain over running the masked network as
// package nn does.
func (t Timing) SpeedupNN() float64 { return float64(t.NN) / float64(t.Compiled) }

// Measure times net (with its masks; one image of shape in) on a random
// batch of batch images: each engine runs repeats times after one warm-up
// run, interleaved so that load changes hit all three alike, and the
// medians are kept, on opt.Threads threads.
func Measure(net nn.Layer, in []int, batch, repeats int, opt Options) (Timing, error) {
	if batch < 1 || repeats < 1 {
		return Timing{}, fmt.Errorf("compile: Measure: batch %d, repeats %d: want >= 1", batch, repeats)
	}
	pruned, err := Compile(net, in, opt)
	if err != nil {
		return Timing{}, err
	}
	dopt := opt
	dopt.IgnoreMasks, dopt.Plan = true, nil
	dense, err := Compile(net, in, dopt)
	if err != nil {
		return Timing{}, err
	}
	r := rand.New(rand.NewPCG(uint64(batch), 1))
	x := tensor.New(append([]int{batch}, in...)...)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	ctx := &nn.Ctx{Threads: opt.Threads}
	runs := []func() error{
		func() error { _, err := net.Forward(ctx, x); return err },
		func() error { _, err := dense.Forward(x); return err },
		func() error { _, err := pruned.Forward(x); return err },
	}
	times := make([][]time.Duration, len(runs))
	for rep := range repeats + 1 {
		for i, run := range runs {
			t0 := time.Now()
			if err := run(); err != nil {
				return Timing{}, err
			}
			if rep > 0 {
				times[i] = append(times[i], time.Since(t0))
			}
		}
	}
	return Timing{Batch: batch, NN: median(times[0]), Dense: median(times[1]), Compiled: median(times[2]),
		NNBest: slices.Min(times[0]), DenseBest: slices.Min(times[1]), CompiledBest: slices.Min(times[2]),
		Layers: pruned.Layers()}, nil
}

// Speedup measures how much faster net's compiled pruned network (one
// image of shape in) runs a batch than the same engine running the
// unpruned network (Timing.Speedup), with 5 repeats on the default number of
// threads.
func Speedup(net nn.Layer, in []int, batch int) (float64, error) {
	t, err := Measure(net, in, batch, 5, Options{})
	if err != nil {
		return 0, err
	}
	return t.Speedup(), nil
}

// median returns the median of ds (the lower middle for an even count).
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}
