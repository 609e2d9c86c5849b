// Command b1 times the compiled CIFAR ResNets at batch 1 on -threads
// threads, with and without compile.Options.SplitOne (each conv of the
// image split over the threads, parallel.Team), dense (masks ignored) and
// pruned to Conv-70 as bench/issue22 prunes them (one self-grouping step
// on the pretrained weights, seed 1, FC at 60%).
//
// The four networks run interleaved, one timing each per round, and each
// figure is the median over the rounds. With -block n each timing is the
// last of n back-to-back forwards (a stream of images: the split's helper
// goroutine stays awake); with -gap d the rounds are d apart (sporadic
// images: the helper has parked, and waking an idle thread costs 0.1-1
// ms on a small virtual machine). The split outputs must equal the
// unsplit ones bit for bit, or b1 fails.
//
//	go run ./bench/b1 -block 3
//	go run ./bench/b1 -block 1 -gap 20ms -rounds 60
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/internal/cpuinfo"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/prune"
	"github.com/sgcnn/sgcnn/pytorch"
	"github.com/sgcnn/sgcnn/tensor"
)

// config holds the flags.
type config struct {
	rounds, threads, block int
	gap                    time.Duration
	weights                string
}

func main() {
	var c config
	archs := flag.String("models", "resnet56,resnet20", "architectures, comma-separated")
	flag.IntVar(&c.rounds, "rounds", 100, "interleaved rounds (medians are reported)")
	flag.IntVar(&c.threads, "threads", 2, "threads of every network")
	flag.IntVar(&c.block, "block", 3, "forwards per network per round, back to back; the last is timed")
	flag.DurationVar(&c.gap, "gap", 0, "pause before each network's forwards")
	flag.StringVar(&c.weights, "weights", "../shared/models/cifar10", "directory of the pretrained <arch>-*.th checkpoints")
	flag.Parse()
	if c.rounds < 1 || c.threads < 1 || c.block < 1 || c.gap < 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "b1: -rounds, -threads and -block want at least 1, -gap at least 0, and no arguments")
		os.Exit(2)
	}
	fmt.Printf("CPU %s, %d threads, %d rounds, block %d, gap %v, load average %s\n\n", cpuinfo.Describe(), c.threads, c.rounds, c.block, c.gap, loadAvg())
	fmt.Println("| model | rate | unsplit ms | split ms | split / unsplit speed |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, arch := range strings.Split(*archs, ",") {
		if err := run(arch, c); err != nil {
			fmt.Fprintln(os.Stderr, "b1:", err)
			os.Exit(1)
		}
	}
	fmt.Printf("\nLoad average after: %s.\n", loadAvg())
}

// run times arch's four networks and prints their rows.
func run(arch string, c config) error {
	m, err := models.New(arch, 0, 1)
	if err != nil {
		return err
	}
	files, _ := filepath.Glob(filepath.Join(c.weights, arch+"-*.th"))
	if len(files) == 0 {
		return fmt.Errorf("-weights: no pretrained checkpoint %s", filepath.Join(c.weights, arch+"-*.th"))
	}
	sd, err := pytorch.Load(files[0])
	if err != nil {
		return err
	}
	if err := models.LoadStateDict(m, sd.Tensors); err != nil {
		return fmt.Errorf("%s: %w", files[0], err)
	}
	sg, err := prune.New(prune.MethodSelfGrouping, prune.Options{Seed: 1})
	if err != nil {
		return err
	}
	if _, err := prune.Once(m, 70, 60, sg); err != nil {
		return err
	}
	parallel.SetThreads(c.threads) // compile measures routes as it will run
	pnet, err := compile.Compile(m.Net, m.InputShape[:], compile.Options{Threads: c.threads})
	if err != nil {
		return err
	}
	opts := []compile.Options{ // dense, dense split, pruned, pruned split
		{IgnoreMasks: true, Threads: c.threads, SplitOne: compile.SplitOff}, {IgnoreMasks: true, Threads: c.threads, SplitOne: compile.SplitOn},
		{Threads: c.threads, Plan: pnet.Plan(), SplitOne: compile.SplitOff}, {Threads: c.threads, Plan: pnet.Plan(), SplitOne: compile.SplitOn}}
	nets := make([]*compile.Net, len(opts))
	for i, o := range opts {
		if nets[i], err = compile.Compile(m.Net, m.InputShape[:], o); err != nil {
			return err
		}
	}
	r := rand.New(rand.NewPCG(22, 2))
	x := tensor.New(append([]int{1}, m.InputShape[:]...)...)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	outs := make([][]float32, len(nets))
	ts := make([][]time.Duration, len(nets))
	for rd := -2; rd < c.rounds; rd++ { // two warm-up rounds
		for i, n := range nets {
			time.Sleep(c.gap)
			var d time.Duration
			for range c.block {
				t0 := time.Now()
				y, err := n.Forward(x)
				if err != nil {
					return err
				}
				d = time.Since(t0)
				if outs[i] == nil {
					outs[i] = slices.Clone(y.Data)
				} else if !slices.Equal(outs[i], y.Data) {
					return fmt.Errorf("%s network %d: the output changed between forwards", arch, i)
				}
			}
			if rd >= 0 {
				ts[i] = append(ts[i], d)
			}
		}
	}
	med := make([]float64, len(nets))
	for i := range nets {
		slices.Sort(ts[i])
		med[i] = ts[i][len(ts[i])/2].Seconds() * 1e3
	}
	for k, rate := range []int{0, 70} {
		if !slices.Equal(outs[2*k], outs[2*k+1]) {
			return fmt.Errorf("%s rate %d: the split network's logits differ from the unsplit one's", arch, rate)
		}
		fmt.Printf("| %s | %d | %.3f | %.3f | %.2fx |\n", arch, rate, med[2*k], med[2*k+1], med[2*k]/med[2*k+1])
	}
	return nil
}

// loadAvg returns the 1, 5 and 15 minute load averages ("?" if unknown).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
