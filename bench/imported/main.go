// Command imported measures an ONNX-imported ResNet against the same built-in one, side by side.
//
// It times a network imported from ONNX against the same
// built-in network in one run (issue 18's speed goal: training and compiled
// inference of an imported ResNet-56 within 5% of the built-in model).
//
// Both networks get the same masks: one self-grouping step of the built-in
// model at -rate percent (0: dense), copied to the imported one by layer
// name. Each round times one training step (forward, loss, backward, SGD)
// and one compiled forward of each network, alternating built-in and
// imported, so that load on the machine falls on both alike; it prints the
// median of each and the imported/built-in ratio of the medians, as JSON
// and as a Markdown table.
//
// Usage (the ONNX file comes from `scripts/gen_torchvision_onnx.py
// --cifar-resnets`, which the e2e tests run):
//
//	go run ./bench/imported [-onnx runs/.cache/onnx/resnet56_cifar.onnx] [-arch resnet56]
//	    [-rate 70] [-train-batch 128] [-infer-batch 64] [-rounds 15] [-threads 2]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/internal/cpuinfo"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/onnximport"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/prune"
	"github.com/sgcnn/sgcnn/tensor"
	"github.com/sgcnn/sgcnn/train"
)

func main() {
	onnx := flag.String("onnx", "runs/.cache/onnx/resnet56_cifar.onnx", "the network as ONNX")
	arch := flag.String("arch", "resnet56", "the same network built in")
	rate := flag.Float64("rate", 70, "self-grouping rate of both networks' convs, percent (0: dense)")
	trainBatch := flag.Int("train-batch", 128, "training batch")
	inferBatch := flag.Int("infer-batch", 64, "compiled inference batch")
	rounds := flag.Int("rounds", 15, "rounds (each times every network and mode once)")
	threads := flag.Int("threads", 2, "worker threads")
	flag.Parse()
	parallel.SetThreads(*threads)
	if err := run(*onnx, *arch, *rate, *trainBatch, *inferBatch, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "imported:", err)
		os.Exit(1)
	}
}

func run(path, arch string, rate float64, trainBatch, inferBatch, rounds int) error {
	built, err := models.New(arch, 10, 1)
	if err != nil {
		return err
	}
	g, err := onnximport.ReadFile(path, onnximport.Options{})
	if err != nil {
		return err
	}
	imported, err := models.FromGraph(g, 10)
	if err != nil {
		return err
	}
	if rate > 0 {
		if err := pruneBoth(built, imported, rate); err != nil {
			return err
		}
	}
	type mode struct {
		name string
		step [2]func() error // built-in, imported
		ns   [2][]float64
	}
	modes := []*mode{{name: "train"}, {name: "infer-compiled"}}
	for i, m := range []*models.Model{built, imported} {
		if modes[0].step[i], err = trainStep(m, trainBatch); err != nil {
			return err
		}
		if modes[1].step[i], err = inferStep(m, inferBatch); err != nil {
			return err
		}
	}
	for r := -1; r < rounds; r++ { // round -1 warms up
		for _, md := range modes {
			for i := range 2 {
				start := time.Now()
				if err := md.step[i](); err != nil {
					return fmt.Errorf("%s: %w", md.name, err)
				}
				if r >= 0 {
					md.ns[i] = append(md.ns[i], float64(time.Since(start).Nanoseconds()))
				}
			}
		}
	}
	fmt.Printf("CPU %s\n\n", cpuinfo.Describe())
	fmt.Printf("| mode | batch | built-in ms | imported ms | imported / built-in |\n|---|---|---|---|---|\n")
	for _, md := range modes {
		b, im := median(md.ns[0])/1e6, median(md.ns[1])/1e6
		batch := trainBatch
		if md.name != "train" {
			batch = inferBatch
		}
		fmt.Printf("| %s | %d | %.1f | %.1f | %.3f |\n", md.name, batch, b, im, im/b)
		js, _ := json.Marshal(map[string]any{"mode": md.name, "batch": batch, "threads": parallel.Threads(), "rate": rate,
			"builtin_ms": md.ns[0], "imported_ms": md.ns[1]})
		fmt.Fprintln(os.Stderr, string(js))
	}
	return nil
}

// pruneBoth self-groups the built-in model once and gives the imported one
// the same masks, layer by layer.
func pruneBoth(built, imported *models.Model, rate float64) error {
	if _, err := prune.Once(built, rate, 60, &prune.SelfGrouping{Groups: 16, Seed: 1}); err != nil {
		return err
	}
	layers := built.PrunableLayers()
	byName := map[string]nn.Prunable{}
	for _, p := range nn.Prunables(imported.Net) {
		byName[p.Name()] = p
	}
	for _, l := range layers {
		p, ok := byName[l.Name()]
		if !ok {
			return fmt.Errorf("the imported network has no layer %s", l.Name())
		}
		if err := p.SetMask(slices.Clone(l.Mask())); err != nil {
			return err
		}
	}
	return nil
}

func input(m *models.Model, b int) *tensor.Tensor {
	rng := rand.New(rand.NewPCG(7, uint64(b)))
	x := tensor.New(b, m.InputShape[0], m.InputShape[1], m.InputShape[2])
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	return x
}

func trainStep(m *models.Model, b int) (func() error, error) {
	x := input(m, b)
	y := make([]int, b)
	for i := range y {
		y[i] = i % m.Classes
	}
	s := train.NewStepper(m.Net, optim.NewSGD(nn.AllParams(m.Net), 0.01, 0.9, 1e-4, false), nn.NewCtx(true))
	return func() error {
		_, _, err := s.Step(train.Batch{X: x, Y: y})
		return err
	}, nil
}

func inferStep(m *models.Model, b int) (func() error, error) {
	net, err := compile.Compile(m.Net, m.InputShape[:], compile.Options{})
	if err != nil {
		return nil, err
	}
	x := input(m, b)
	return func() error {
		_, err := net.Forward(x)
		return err
	}, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
