// Command engine measures sgcnn's training and inference speed on CIFAR ResNets (bench/engine.sh).
//
// It is sgcnn's side of the engine benchmark (bench/engine.sh
// runs it beside bench/torch_resnet.py). It times CIFAR ResNets the way the
// PyTorch script does: training steps (forward, loss, backward, SGD with
// momentum 0.9 and weight decay 1e-4) at the training batch size, and
// evaluation-mode forward passes at the inference batch size, on random
// inputs, for each thread count: through package nn ("infer") and through
// sgcnn's inference engine, package compile, with BatchNorm folded into
// the convolutions ("infer-compiled"); and training steps of the same
// network pruned by one self-grouping step to -prune-rate percent of each
// conv's connections ("train-pruned": what fine-tuning a pruned network
// costs; PyTorch, which trains a pruned network as dense weights times
// masks, pays its dense "train" cost for it).
//
// It prints one JSON object per measurement, with the PyTorch script's
// fields:
//
//	{"peer": "sgcnn", "model": "resnet56", "mode": "train"|"infer"|"infer-compiled"|"train-pruned",
//	 "batch": 128, "threads": 2, "img_per_sec": [..per repeat..]}
//
// and, last, {"peer": "sgcnn", "peak_rss_mib": ...}: the process's peak
// resident memory (VmHWM), which covers everything the run did, so measure
// it in a run of one model and mode.
//
// Usage:
//
//	go run ./bench/engine [-models 20,56] [-threads 1,2] [-modes train,infer,infer-compiled,train-pruned]
//	    [-prune-rate 70] [-precision fp32|bf16]
//	    [-repeats 3] [-iters 5] [-train-batch 128] [-infer-batch 64]
//	    [-cpuprofile file]
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/internal/cpuinfo"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/prune"
	"github.com/sgcnn/sgcnn/tensor"
	"github.com/sgcnn/sgcnn/train"
)

// result is one JSON line, as bench/torch_resnet.py prints it.
type result struct {
	Peer      string    `json:"peer"`
	Model     string    `json:"model"`
	Mode      string    `json:"mode"`
	Batch     int       `json:"batch"`
	Threads   int       `json:"threads"`
	ImgPerSec []float64 `json:"img_per_sec"`
}

func main() {
	modelsF := flag.String("models", "20,56", "ResNet depths, comma separated")
	threadsF := flag.String("threads", "1,2", "thread counts, comma separated")
	modesF := flag.String("modes", "train,infer,infer-compiled,train-pruned", "modes to time: train, infer, infer-compiled, train-pruned")
	pruneRate := flag.Float64("prune-rate", 70, "train-pruned: percent of each conv's connections pruned (FC at min(rate, 60))")
	repeats := flag.Int("repeats", 3, "timed repeats per measurement")
	iters := flag.Int("iters", 5, "steps per repeat")
	warmup := flag.Int("warmup", 2, "untimed steps before the repeats")
	trainBatch := flag.Int("train-batch", 128, "training batch size")
	inferBatch := flag.Int("infer-batch", 64, "inference batch size")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the timed steps to this file")
	prec := flag.String("precision", "fp32", "training modes' precision: fp32 or bf16 (nn.BF16: AMX or VDPBF16PS where nn.BF16Route says so, else emulated; modes print as train-bf16, train-pruned-bf16)")
	flag.Parse()
	var err error
	if precision, err = nn.ParsePrecision(*prec); err != nil {
		fmt.Fprintln(os.Stderr, "engine: -precision:", err)
		os.Exit(2)
	}
	fmt.Fprintln(os.Stderr, "CPU:", cpuinfo.Describe())
	if precision == nn.BF16 {
		fmt.Fprintln(os.Stderr, "bf16 convolutions:", nn.BF16Route())
	}
	if err := run(*modelsF, *threadsF, *modesF, *repeats, *iters, *warmup, *trainBatch, *inferBatch, *pruneRate, *cpuprofile); err != nil {
		fmt.Fprintln(os.Stderr, "engine:", err)
		os.Exit(1)
	}
}

func run(modelsF, threadsF, modesF string, repeats, iters, warmup, trainBatch, inferBatch int, pruneRate float64, cpuprofile string) error {
	depths, err := ints(modelsF)
	if err != nil {
		return fmt.Errorf("-models: %w", err)
	}
	threads, err := ints(threadsF)
	if err != nil {
		return fmt.Errorf("-threads: %w", err)
	}
	if repeats < 1 || iters < 1 || warmup < 0 {
		return fmt.Errorf("need -repeats >= 1, -iters >= 1, -warmup >= 0")
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	out := json.NewEncoder(os.Stdout)
	for _, th := range threads {
		for _, d := range depths {
			arch := fmt.Sprintf("resnet%d", d)
			m, err := models.New(arch, 10, 1)
			if err != nil {
				return err
			}
			for _, mode := range strings.Split(modesF, ",") {
				b := trainBatch
				if mode == "infer" || mode == "infer-compiled" {
					b = inferBatch
				} else if mode != "train" && mode != "train-pruned" {
					return fmt.Errorf("-modes: unknown mode %q", mode)
				}
				mm := m
				if mode == "train-pruned" {
					if mm, err = pruned(arch, pruneRate); err != nil {
						return err
					}
				}
				step, err := stepper(mm, mode, b, th)
				if err != nil {
					return err
				}
				for range warmup {
					if err := step(); err != nil {
						return err
					}
				}
				r := result{Peer: "sgcnn", Model: arch, Mode: mode, Batch: b, Threads: th}
				if precision != nn.FP32 && strings.HasPrefix(mode, "train") {
					r.Mode += "-" + precision.String()
				}
				for range repeats {
					t := time.Now()
					for range iters {
						if err := step(); err != nil {
							return err
						}
					}
					r.ImgPerSec = append(r.ImgPerSec, float64(b*iters)/time.Since(t).Seconds())
				}
				if err := out.Encode(r); err != nil {
					return err
				}
			}
		}
	}
	hwm, err := peakRSS()
	if err != nil {
		return err
	}
	return out.Encode(map[string]any{"peer": "sgcnn", "peak_rss_mib": hwm})
}

// pruned returns a fresh arch with every conv pruned to rate percent by one
// self-grouping step (g = 16, seed 1) on its random initial weights, the
// linear layer to min(rate, 60).
func pruned(arch string, rate float64) (*models.Model, error) {
	m, err := models.New(arch, 10, 1)
	if err != nil {
		return nil, err
	}
	_, err = prune.Once(m, rate, 60, &prune.SelfGrouping{Groups: 16, Seed: 1})
	return m, err
}

// precision is the training modes' nn.Precision (-precision).
var precision nn.Precision

// stepper returns one training step or one inference pass of m on a fixed
// random batch of b images, on th threads.
func stepper(m *models.Model, mode string, b, th int) (func() error, error) {
	rng := rand.New(rand.NewPCG(7, uint64(b)))
	x := tensor.New(b, m.InputShape[0], m.InputShape[1], m.InputShape[2])
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	if mode == "infer-compiled" {
		net, err := compile.Compile(m.Net, m.InputShape[:], compile.Options{Threads: th})
		if err != nil {
			return nil, err
		}
		return func() error {
			_, err := net.Forward(x)
			return err
		}, nil
	}
	if mode == "infer" {
		ctx := &nn.Ctx{Threads: th}
		return func() error {
			_, err := m.Net.Forward(ctx, x)
			return err
		}, nil
	}
	y := make([]int, b)
	for i := range y {
		y[i] = rng.IntN(m.Classes)
	}
	opt := optim.NewSGD(nn.AllParams(m.Net), 0.01, 0.9, 1e-4, false)
	s := train.NewStepper(m.Net, opt, &nn.Ctx{Train: true, Threads: th, Precision: precision})
	batch := train.Batch{X: x, Y: y}
	return func() error {
		_, _, err := s.Step(batch)
		return err
	}, nil
}

// ints parses a comma-separated list of positive integers.
func ints(s string) ([]int, error) {
	var v []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		v = append(v, n)
	}
	return v, nil
}

// peakRSS returns the process's peak resident set size (VmHWM) in MiB.
func peakRSS() (float64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				return 0, fmt.Errorf("VmHWM: %w", err)
			}
			return kb / 1024, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}
