package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/count"
	"github.com/sgcnn/sgcnn/internal/cpuload"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/prune"
	"github.com/sgcnn/sgcnn/pytorch"
)

type benchOptions struct {
	models      []string
	rates       []string // per model, "30,50,70,90"; empty: defaults
	weights     string   // directory of pretrained <arch>-*.th files
	batches     []int
	threads     []int
	repeats     int
	idle        float64
	idleTimeout time.Duration
	fcCap       float64
	seed        uint64
	splitOne    string
}

// benchDefaultRates are the conv rates benchmarked per architecture.
var benchDefaultRates = map[string][]float64{
	"lenet5": {95, 99},
}

func newBenchCmd(g *globals) *cobra.Command {
	o := &benchOptions{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the compiled pruned networks' speed against dense",
		Long: `Prune each model to each rate (one self-grouping step on its pretrained
weights, or on random weights where none are found; a model file given in
--models, such as an imported network, on its own weights), compile it, and time
batches of random images on three engines:

  nn        package nn's eval forward of the masked network (dense weights
            times masks: it costs what the unpruned network costs)
  dense     the compiled network with its masks ignored (the unpruned
            network on the compiled engine)
  compiled  the compiled pruned network

Each engine runs --repeats times after a warm-up, interleaved, and the
medians are printed with the speedup dense/compiled beside the paper's
FLOPs reduction (package count), the same ratio of the fastest runs
(steadier on a shared machine), and the median speedup over nn. "fallback"
counts the pruned convs that run dense because that measured faster.

Before each model and rate the command waits (at most --idle-timeout) for
the CPU load, sampled from /proc/stat, to fall below --idle, and prints
the load it saw: numbers taken on a busy machine are noisy.

FC layers are pruned to min(rate, --fc-cap), except LeNet-5, whose paper
models are Conv-95/FC-95 and Conv-99/FC-99. The output is a Markdown table.`,
		Example: `  sgcnn bench
  sgcnn bench --models resnet56 --rates 70 --batches 64 --threads 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBench(g, o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.models, "models", []string{"resnet20", "resnet56", "lenet5"}, "architectures or sgcnn model files (e.g. imported networks) to benchmark")
	f.StringArrayVar(&o.rates, "rates", nil, "conv rates, comma-separated, one flag per model in --models order (default 30,50,70,90; LeNet-5 95,99)")
	f.StringVar(&o.weights, "weights", "/work/shared/models/cifar10", "directory holding pretrained <arch>-*.th checkpoints")
	f.IntSliceVar(&o.batches, "batches", []int{1, 64}, fmt.Sprintf("batch sizes (each at most %d)", maxBatch))
	f.IntSliceVar(&o.threads, "thread-counts", []int{1, 2}, "thread counts to run (overrides --threads)")
	f.IntVar(&o.repeats, "repeats", 7, "timed runs per engine (medians are reported)")
	f.Float64Var(&o.idle, "idle", 0.10, "CPU busy fraction to wait for before timing")
	f.DurationVar(&o.idleTimeout, "idle-timeout", 30*time.Second, "longest wait for an idle CPU")
	f.Float64Var(&o.fcCap, "fc-cap", 60, "highest rate for FC layers")
	f.Uint64Var(&o.seed, "seed", 1, "k-means seed")
	f.StringVar(&o.splitOne, "split-one", "auto", "at batch 1 on two or more threads: on splits each conv over the threads (by output rows where the planes are wide enough, by groups elsewhere), off runs the image on one, auto measures both as the network runs and keeps the faster (compile.Options.SplitOne)")
	return cmd
}

// benchRow is one line of the bench table.
type benchRow struct {
	arch            string
	rate            float64
	flops           float64 // FLOPs reduction (paper's count)
	threads, batch  int
	t               compile.Timing
	fallback, convs int
	load            float64
	weights         string
}

func runBench(g *globals, o *benchOptions) error {
	if _, err := compile.ParseSplitMode(o.splitOne); err != nil {
		return usagef("--split-one: %v", err)
	}
	if o.repeats < 1 {
		return usagef("--repeats %d: want at least 1", o.repeats)
	}
	if len(o.rates) > 0 && len(o.rates) != len(o.models) {
		return usagef("--rates given %d times for %d models: give it once per model", len(o.rates), len(o.models))
	}
	// Check every argument before the first (slow) measurement.
	rates := make([][]float64, len(o.models))
	for mi, arch := range o.models {
		if fileArch(arch) != "" {
			// a model file, e.g. an imported network
		} else if _, err := models.New(arch, 0, 0); err != nil {
			return usagef("--models: %s is neither an architecture nor an sgcnn model file: %v", arch, err)
		}
		rates[mi] = []float64{30, 50, 70, 90}
		if r, ok := benchDefaultRates[arch]; ok {
			rates[mi] = r
		}
		if len(o.rates) > 0 {
			var err error
			if rates[mi], err = parseRates(o.rates[mi]); err != nil {
				return err
			}
		}
	}
	for _, b := range o.batches {
		if b < 1 {
			return usagef("--batches: %d is not a batch size", b)
		}
	}
	for _, t := range o.threads {
		if t < 1 {
			return usagef("--thread-counts: %d is not a thread count", t)
		}
	}
	w := g.stdout
	fmt.Fprintf(w, "sgcnn bench, %s, %s/%s, %d CPUs, Go %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"),
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	fmt.Fprintln(w, "| model | rate | weights | FLOPs red. | threads | batch | nn ms | dense ms | compiled ms | speedup | / FLOPs red. | best-run speedup | vs nn | img/s | fallback | load |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for mi, arch := range o.models {
		for _, rate := range rates[mi] {
			rows, err := benchOne(o, arch, rate)
			if err != nil {
				return err
			}
			for _, r := range rows {
				writeBenchRow(w, r)
			}
		}
	}
	return nil
}

// parseRates reads "30,50,70".
func parseRates(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v <= 0 || v >= 100 {
			return nil, usagef("--rates %q: want percentages in (0, 100) separated by commas", s)
		}
		out = append(out, v)
	}
	return out, nil
}

// benchModel builds arch with pretrained weights from dir when a
// checkpoint <arch>-*.th is there, else with random weights.
func benchModel(arch, dir string) (*models.Model, string, error) {
	if fileArch(arch) != "" { // a model file: its own weights
		m, _, err := openModel("", arch)
		return m, "file", err
	}
	m, err := models.New(arch, 0, 1)
	if err != nil {
		return nil, "", usageError{err}
	}
	if dir == "" {
		return m, "random", nil
	}
	path, err := pytorch.FindPretrained(dir, arch)
	if errors.Is(err, fs.ErrNotExist) {
		return m, "random", nil
	} else if err != nil {
		return nil, "", err
	}
	pm, err := sgcnn.Open(path, sgcnn.WithArch(arch), sgcnn.AllowNonFinite())
	if err != nil {
		return nil, "", err
	}
	return pm.Model, "pretrained", nil
}

// benchOne prunes a fresh arch to rate and times it at every thread count
// and batch size.
func benchOne(o *benchOptions, arch string, rate float64) ([]benchRow, error) {
	m, weights, err := benchModel(arch, o.weights)
	if err != nil {
		return nil, err
	}
	base, err := count.Count(m.Net, m.InputShape, m.Prunable...)
	if err != nil {
		return nil, err
	}
	fcCap := o.fcCap
	if arch == "lenet5" {
		fcCap = 100 // LeNet-5's FC layers take the conv rate
	}
	if _, err := prune.Once(m, rate, fcCap, &prune.SelfGrouping{Seed: o.seed}); err != nil {
		return nil, err
	}
	pruned, err := count.Count(m.Net, m.InputShape)
	if err != nil {
		return nil, err
	}
	load, _, err := cpuload.WaitIdle(o.idle, o.idleTimeout)
	if err != nil {
		return nil, err
	}
	split, _ := compile.ParseSplitMode(o.splitOne) // checked by runBench
	var rows []benchRow
	for _, th := range o.threads {
		for _, b := range o.batches {
			t, err := compile.Measure(m.Net, m.InputShape[:], b, o.repeats, compile.Options{SplitOne: split, Threads: th})
			if err != nil {
				return nil, err
			}
			r := benchRow{arch: runName(m.Arch, arch), rate: rate, flops: count.FLOPsReduction(base.Totals, pruned.Totals),
				threads: th, batch: b, t: t, load: load, weights: weights}
			for _, l := range t.Layers {
				if l.Patterns > 1 {
					r.convs++
					if l.Route == compile.Dense {
						r.fallback++
					}
				}
			}
			rows = append(rows, r)
		}
	}
	return rows, nil
}

func writeBenchRow(w io.Writer, r benchRow) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/1e6) }
	sp := r.t.Speedup()
	fmt.Fprintf(w, "| %s | %g | %s | %.2fx | %d | %d | %s | %s | %s | %.2fx | %.2f | %.2fx | %.2fx | %.0f | %d/%d | %.0f%% |\n",
		r.arch, r.rate, r.weights, r.flops, r.threads, r.batch, ms(r.t.NN), ms(r.t.Dense), ms(r.t.Compiled),
		sp, sp/r.flops, r.t.SpeedupBest(), r.t.SpeedupNN(), float64(r.batch)/r.t.Compiled.Seconds(), r.fallback, r.convs, 100*r.load)
}
