// Command layerprof prints, for a CIFAR ResNet pruned to Conv-70 as
// bench/issue22 prunes it, the time per image of every step of the
// compiled network (compile.Net.StepTimes, one goroutine), dense and
// pruned side by side, against each conv's FLOPs ratio: where the pruned
// network's speedup falls short of its FLOPs reduction (issue 22). The
// two networks take turns, -rounds times, and each step's median counts.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/count"
	"github.com/sgcnn/sgcnn/internal/cpuinfo"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/prune"
	"github.com/sgcnn/sgcnn/pytorch"
	"github.com/sgcnn/sgcnn/tensor"
)

func main() {
	arch := flag.String("model", "resnet56", "architecture")
	batch := flag.Int("batch", 64, "images per forward")
	rounds := flag.Int("rounds", 5, "alternations of dense and pruned (medians)")
	reps := flag.Int("reps", 2, "forwards per timing")
	weights := flag.String("weights", "../shared/models/cifar10", "directory of the pretrained <arch>-*.th checkpoints")
	all := flag.Bool("all", false, "one row per step (default: convs grouped by stage and role)")
	flag.StringVar(&only, "only", "", "dense or pruned: only run that network's forward -rounds times (for perf record), no table")
	flag.Parse()
	if *batch < 1 || *rounds < 1 || *reps < 1 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "layerprof: -batch, -rounds and -reps want at least 1, and no arguments")
		os.Exit(2)
	}
	if err := run(*arch, *weights, *batch, *rounds, *reps, *all); err != nil {
		fmt.Fprintln(os.Stderr, "layerprof:", err)
		os.Exit(1)
	}
}

// only is the -only flag.
var only string

func run(arch, dir string, batch, rounds, reps int, all bool) error {
	m, err := models.New(arch, 0, 1)
	if err != nil {
		return err
	}
	files, _ := filepath.Glob(filepath.Join(dir, arch+"-*.th"))
	if len(files) == 0 {
		return fmt.Errorf("-weights: no pretrained checkpoint %s", filepath.Join(dir, arch+"-*.th"))
	}
	sd, err := pytorch.Load(files[0])
	if err != nil {
		return err
	}
	if err := models.LoadStateDict(m, sd.Tensors); err != nil {
		return fmt.Errorf("%s: %w", files[0], err)
	}
	base, err := count.Count(m.Net, m.InputShape, m.Prunable...)
	if err != nil {
		return err
	}
	sg, err := prune.New(prune.MethodSelfGrouping, prune.Options{Seed: 1})
	if err != nil {
		return err
	}
	if _, err := prune.Once(m, 70, 60, sg); err != nil {
		return err
	}
	pc, err := count.Count(m.Net, m.InputShape)
	if err != nil {
		return err
	}
	parallel.SetThreads(1)
	pnet, err := compile.Compile(m.Net, m.InputShape[:], compile.Options{Threads: 1})
	if err != nil {
		return err
	}
	dnet, err := compile.Compile(m.Net, m.InputShape[:], compile.Options{IgnoreMasks: true, Threads: 1})
	if err != nil {
		return err
	}
	x := tensor.New(append([]int{batch}, m.InputShape[:]...)...)
	r := rand.New(rand.NewPCG(22, 2))
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	switch only {
	case "dense", "pruned":
		net := map[string]*compile.Net{"dense": dnet, "pruned": pnet}[only]
		t0 := time.Now()
		for range rounds {
			if _, err := net.Forward(x); err != nil {
				return err
			}
		}
		fmt.Printf("%s %s batch %d: %.3f ms per forward\n", arch, only, batch, float64(time.Since(t0))/1e6/float64(rounds))
		return nil
	case "":
	default:
		return fmt.Errorf("-only %q: want dense or pruned", only)
	}
	var ds, ps [][]compile.StepTime
	for range rounds {
		d, err := dnet.StepTimes(x, reps)
		if err != nil {
			return err
		}
		p, err := pnet.StepTimes(x, reps)
		if err != nil {
			return err
		}
		ds, ps = append(ds, d), append(ps, p)
	}
	dm, pm := medians(ds), medians(ps)
	if len(dm) != len(pm) {
		return fmt.Errorf("dense has %d steps, pruned %d: not comparable step by step", len(dm), len(pm))
	}
	fmt.Printf("CPU %s\n", cpuinfo.Describe())
	fmt.Printf("%s Conv-70, batch %d, 1 goroutine, medians of %d rounds of %d forwards; FLOPs reduction %.2fx\n\n",
		arch, batch, rounds, reps, count.FLOPsReduction(base.Totals, pc.Totals))
	printTable(dm, pm, all, count.FLOPsReduction(base.Totals, pc.Totals))
	return nil
}

// medians returns, per step, the median time over the runs.
func medians(runs [][]compile.StepTime) []compile.StepTime {
	out := slices.Clone(runs[0])
	for i := range out {
		var ts []time.Duration
		for _, r := range runs {
			ts = append(ts, r[i].Time)
		}
		slices.Sort(ts)
		out[i].Time = ts[len(ts)/2]
	}
	return out
}

// row is one line of the table: a step or a class of steps.
type row struct {
	name            string
	n               int
	dense, pruned   time.Duration
	macs, denseMACs int64
}

// class names the group a step falls in: convs by input width, padded
// input or not, and whether they add a residual.
func class(d, p compile.StepTime) string {
	if d.Kind != "conv" {
		return d.Kind
	}
	s := "conv"
	if p.Residual {
		s += " +res"
	}
	if !p.Padded {
		s += " +pad"
	}
	if p.Next {
		s += " ->next"
	}
	return s
}

// printTable prints the rows; a row's lost time is its pruned time less
// its dense time over the network's FLOPs reduction red, so that the rows
// add up to what the network loses against red.
func printTable(dm, pm []compile.StepTime, all bool, red float64) {
	var rows []*row
	idx := map[string]*row{}
	var td, tp time.Duration
	for i := range dm {
		d, p := dm[i], pm[i]
		td += d.Time
		tp += p.Time
		key := d.Name
		if !all {
			key = fmt.Sprintf("%dx%dx%d->%d s%d %s", d.C, d.H, d.W, d.N, d.Stride, class(d, p))
			if d.Kind != "conv" {
				key = d.Kind
			}
		}
		rw := idx[key]
		if rw == nil {
			rw = &row{name: key}
			idx[key] = rw
			rows = append(rows, rw)
		}
		rw.n++
		rw.dense += d.Time
		rw.pruned += p.Time
		rw.macs += p.MACs
		rw.denseMACs += d.DenseMACs
	}
	fmt.Println("| step | n | dense us | pruned us | speedup | FLOPs ratio | speedup / FLOPs ratio | dense share | pruned share | lost us | lost share |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	lostTotal := float64(tp) - float64(td)/red
	for _, rw := range rows {
		sp := float64(rw.dense) / float64(rw.pruned)
		fr := 1.0
		if rw.macs > 0 {
			fr = float64(rw.denseMACs) / float64(rw.macs)
		}
		lost := float64(rw.pruned) - float64(rw.dense)/red
		fmt.Printf("| %s | %d | %.1f | %.1f | %.2fx | %.2fx | %.2f | %.1f%% | %.1f%% | %.1f | %.1f%% |\n", rw.name, rw.n,
			us(rw.dense), us(rw.pruned), sp, fr, sp/fr, 100*float64(rw.dense)/float64(td),
			100*float64(rw.pruned)/float64(tp), lost/1e3, 100*lost/lostTotal)
	}
	sp := float64(td) / float64(tp)
	fmt.Printf("| total | | %.1f | %.1f | %.2fx | %.2fx | %.2f | | | %.1f | |\n", us(td), us(tp), sp, red, sp/red, lostTotal/1e3)
}

func us(d time.Duration) float64 { return float64(d) / 1e3 }
