// Command onnx measures sgcnn's inference against ONNX Runtime's on the same dense and pruned CIFAR ResNets.
//
// It times sgcnn against ONNX Runtime running the same
// model exported by export/onnx, in one process, on pretrained CIFAR-10
// ResNet-20 and ResNet-56 at batch 1 and 64, on 1 and 2 threads (sgcnn's
// worker count and ORT's intra-op thread count). Two comparisons:
//
//   - rate 0, dense: sgcnn's fastest dense path, the compiled engine with
//     the masks ignored (compile.Options{IgnoreMasks: true}), against ORT
//     running the unpruned model; package nn's eval forward is timed too,
//     as an extra column.
//   - rate r > 0, pruned: one self-grouping step (g = 16, seed 1) prunes
//     the convs to r% and the FC layer to min(r, 60)%; sgcnn's compiled
//     pruned network (compile.Options{}) runs against ORT running the same
//     pruned model in its best form: exported with FoldBN and ConvFastest
//     (each masked conv written dense or grouped, whichever ORT runs
//     faster at the row's batch and threads), or all convs dense with
//     zeros if that whole model runs faster.
//
// The engines alternate, one run each per round, so that drift in the
// machine's speed hits them alike; each number is the median over the
// rounds, after two warm-up rounds.
//
//	go run ./bench/onnx                   # print the table
//	go run ./bench/onnx -write docs/BENCHMARKS.md
//
// With -write the table replaces this benchmark's section of the file
// (between its start and end markers), or is appended to it. The library
// is found as export/onnx/ort.FindLibrary does. Before timing it waits (at
// most -idle-wait) for the machine to be idle: other jobs share it.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/count"
	"github.com/sgcnn/sgcnn/export/onnx"
	"github.com/sgcnn/sgcnn/export/onnx/ort"
	"github.com/sgcnn/sgcnn/internal/atomicfile"
	"github.com/sgcnn/sgcnn/internal/cpuinfo"
	"github.com/sgcnn/sgcnn/internal/cpuload"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/prune"
	"github.com/sgcnn/sgcnn/pytorch"
	"github.com/sgcnn/sgcnn/tensor"
	"google.golang.org/protobuf/proto"
)

const (
	startMark = "<!-- bench_onnx: start -->"
	endMark   = "<!-- bench_onnx: end -->"

	ortVersion = "1.30 (npm onnxruntime-node 1.30.0)"
	groups     = 16 // self-grouping's g
	seed       = 1  // k-means seed
	fcCap      = 60 // highest FC rate
	goal       = 2  // pruned-row target for sgcnn speed / ORT speed
)

type config struct {
	write    string
	rounds   int
	archs    []string
	rates    []float64
	batches  []int
	threads  []int
	idleWait time.Duration
	weights  string
}

func main() {
	var c config
	flag.StringVar(&c.write, "write", "", "replace this benchmark's section of this Markdown file")
	flag.IntVar(&c.rounds, "rounds", 9, "timed rounds per configuration (the median counts)")
	archs := flag.String("models", "resnet20,resnet56", "architectures, comma-separated")
	rates := flag.String("rates", "0,70", "conv pruning rates in percent, comma-separated (0: the dense network)")
	batches := flag.String("batches", "1,64", "batch sizes, comma-separated")
	threads := flag.String("threads", "1,2", "thread counts, comma-separated")
	flag.DurationVar(&c.idleWait, "idle-wait", time.Minute, "longest wait for an idle machine before timing")
	flag.StringVar(&c.weights, "weights", "../shared/models/cifar10", "directory of the pretrained <arch>-*.th checkpoints")
	flag.Parse()
	if flag.NArg() > 0 || c.rounds < 1 {
		flag.Usage()
		os.Exit(2)
	}
	c.archs, c.rates, c.batches, c.threads = split(*archs), floats(*rates), ints(*batches), ints(*threads)
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "bench_onnx:", err)
		os.Exit(1)
	}
}

func split(s string) []string { return strings.Split(s, ",") }

func ints(s string) []int {
	var v []int
	for _, f := range split(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bench_onnx: %q is not a positive number\n", f)
			os.Exit(2)
		}
		v = append(v, n)
	}
	return v
}

func floats(s string) []float64 {
	var v []float64
	for _, f := range split(s) {
		r, err := strconv.ParseFloat(f, 64)
		if err != nil || r < 0 || r >= 100 {
			fmt.Fprintf(os.Stderr, "bench_onnx: rate %q: want a percentage in [0, 100)\n", f)
			os.Exit(2)
		}
		v = append(v, r)
	}
	return v
}

// row is one configuration's result. nn is zero on pruned rows.
type row struct {
	arch           string
	rate           float64
	flops          float64 // FLOPs reduction (paper's count), 1 when dense
	batch, threads int
	sg, nn, ort    time.Duration
	form           string // how ORT's model was written
}

func run(c config) error {
	lib, err := ort.FindLibrary()
	if err != nil {
		return err
	}
	if err := ort.Open(lib); err != nil {
		return err
	}
	// Check every model and checkpoint before the first (slow) step.
	for _, arch := range c.archs {
		if _, err := loadModel(arch, c.weights); err != nil {
			return err
		}
	}
	start := time.Now()
	busy := waitIdle(c.idleWait)
	fmt.Fprintf(os.Stderr, "load before the run: %s\n", busyString(busy))
	defer parallel.SetThreads(parallel.Threads())
	var rows []row
	for _, arch := range c.archs {
		for _, rate := range c.rates {
			rs, err := benchModel(c, arch, rate)
			if err != nil {
				return fmt.Errorf("%s at rate %g: %w", arch, rate, err)
			}
			rows = append(rows, rs...)
		}
	}
	fmt.Fprintf(os.Stderr, "total %v\n", time.Since(start).Round(time.Second))
	table := render(c, rows, start, busy)
	fmt.Print(table)
	if c.write != "" {
		return updateSection(c.write, table)
	}
	return nil
}

// loadModel builds arch with the pretrained weights of dir/<arch>-*.th.
func loadModel(arch, dir string) (*models.Model, error) {
	m, err := models.New(arch, 0, 1)
	if err != nil {
		return nil, err
	}
	path, err := pytorch.FindPretrained(dir, arch)
	if err != nil {
		return nil, err
	}
	sd, err := pytorch.Load(path)
	if err != nil {
		return nil, err
	}
	if err := models.LoadStateDict(m, sd.Tensors); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// benchModel prunes a fresh pretrained arch to rate (none at 0), compiles
// and exports it, and times it at every thread count and batch size.
func benchModel(c config, arch string, rate float64) ([]row, error) {
	m, err := loadModel(arch, c.weights)
	if err != nil {
		return nil, err
	}
	flops := 1.0
	if rate > 0 {
		base, err := count.Count(m.Net, m.InputShape, m.Prunable...)
		if err != nil {
			return nil, err
		}
		if _, err := prune.Once(m, rate, fcCap, &prune.SelfGrouping{Groups: groups, Seed: seed}); err != nil {
			return nil, err
		}
		pruned, err := count.Count(m.Net, m.InputShape)
		if err != nil {
			return nil, err
		}
		flops = count.FLOPsReduction(base.Totals, pruned.Totals)
	}
	// Compile's route measurements time one image on one thread: the Net
	// serves every thread count and batch.
	net, err := compile.Compile(m.Net, m.InputShape[:], compile.Options{IgnoreMasks: rate == 0})
	if err != nil {
		return nil, err
	}
	// All convs dense (masked weights as zeros): ORT's model at rate 0,
	// and the whole-model alternative to ConvFastest's per-layer choice.
	var dense bytes.Buffer
	if err := onnx.Export(&dense, m, onnx.Options{FoldBN: true, Conv: onnx.ConvDense}); err != nil {
		return nil, err
	}
	var rows []row
	for _, th := range c.threads {
		parallel.SetThreads(th)
		for _, b := range c.batches {
			r := row{arch: arch, rate: rate, flops: flops, batch: b, threads: th, form: "dense"}
			model := dense.Bytes()
			if rate > 0 {
				if model, r.form, err = bestORT(m, dense.Bytes(), b, th); err != nil {
					return nil, err
				}
			}
			s, err := ort.NewSession(model, onnx.InputName, onnx.OutputName, th)
			if err != nil {
				return nil, err
			}
			err = timeRow(&r, m, net, s, c.rounds)
			s.Close()
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(os.Stderr, "%s rate %g b%d t%d: sgcnn %v, ORT %v (%s), sgcnn/ORT speed %.2fx\n",
				arch, rate, b, th, r.sg, r.ort, r.form, r.ort.Seconds()/r.sg.Seconds())
			rows = append(rows, r)
		}
	}
	return rows, nil
}

// bestORT exports the pruned m for ORT at this batch and thread count:
// FoldBN and ConvFastest, whose choice per masked conv is timed in ORT;
// if that chose any grouped conv, the whole model is timed against dense
// (all convs dense with zeros) and the faster is returned with its form.
func bestORT(m *models.Model, dense []byte, batch, threads int) ([]byte, string, error) {
	mp, choices, err := onnx.Build(m, onnx.Options{FoldBN: true, Conv: onnx.ConvFastest,
		Timer: ort.Timer{Threads: threads}, TimeBatch: batch})
	if err != nil {
		return nil, "", err
	}
	grouped := 0
	for _, ch := range choices {
		if ch.Form == onnx.ConvGrouped {
			grouped++
		}
	}
	if grouped == 0 {
		return dense, fmt.Sprintf("dense (fastest: 0/%d grouped)", len(choices)), nil
	}
	fastest, err := proto.Marshal(mp)
	if err != nil {
		return nil, "", err
	}
	shape := []int64{int64(batch), int64(m.InputShape[0]), int64(m.InputShape[1]), int64(m.InputShape[2])}
	var t [2]time.Duration
	for i, model := range [][]byte{fastest, dense} {
		s, err := ort.NewSession(model, onnx.InputName, onnx.OutputName, threads)
		if err != nil {
			return nil, "", err
		}
		t[i], err = s.Time(shape, 3, 9)
		s.Close()
		if err != nil {
			return nil, "", err
		}
	}
	if t[1] < t[0] {
		return dense, fmt.Sprintf("dense (beat fastest: %d/%d grouped)", grouped, len(choices)), nil
	}
	return fastest, fmt.Sprintf("fastest: %d/%d grouped", grouped, len(choices)), nil
}

// timeRow checks that sgcnn and ORT agree on one random batch, then
// alternates their runs (and, at rate 0, package nn's) and records the
// median time of each in r.
// settle is the pause after every timed run (see timeRow).
const settle = 50 * time.Millisecond

func timeRow(r *row, m *models.Model, net *compile.Net, s *ort.Session, rounds int) error {
	c, h, w := m.InputShape[0], m.InputShape[1], m.InputShape[2]
	x := tensor.New(r.batch, c, h, w)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	shape := []int64{int64(r.batch), int64(c), int64(h), int64(w)}
	want, _, err := s.Run(x.Data, shape)
	if err != nil {
		return err
	}
	got, err := net.Forward(x)
	if err != nil {
		return err
	}
	if d, scale := maxDiff(got.Data, want); d > 1e-3*scale {
		return fmt.Errorf("batch %d: sgcnn and ORT logits differ by %g (largest |logit| %g)", r.batch, d, scale)
	}
	in := tensor.New(x.Shape...)
	ctx := nn.NewCtx(false)
	runs := []func() error{
		func() error { _, err := net.Forward(x); return err },
		func() error { _, _, err := s.Run(x.Data, shape); return err },
	}
	if r.rate == 0 {
		runs = append(runs, func() error {
			copy(in.Data, x.Data) // ReLU works in place on its input
			_, err := m.Net.Forward(ctx, in)
			return err
		})
	}
	times := make([][]time.Duration, len(runs))
	for i := -2; i < rounds; i++ { // two warm-up rounds
		for j, run := range runs {
			t0 := time.Now()
			if err := run(); err != nil {
				return err
			}
			if i >= 0 {
				times[j] = append(times[j], time.Since(t0))
			}
			// ONNX Runtime's idle intra-op threads spin for a while after
			// a run; a pause lets them block before the next engine runs,
			// so that they do not take its second core.
			time.Sleep(settle)
		}
	}
	r.sg, r.ort = median(times[0]), median(times[1])
	if r.rate == 0 {
		r.nn = median(times[2])
	}
	return nil
}

// maxDiff returns the largest |a[i]-b[i]| and max(1, the largest |b[i]|).
func maxDiff(a, b []float32) (d, scale float64) {
	scale = 1
	if len(a) != len(b) {
		return math.Inf(1), scale
	}
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
		scale = max(scale, math.Abs(float64(b[i])))
	}
	return d, scale
}

func median(ts []time.Duration) time.Duration {
	slices.Sort(ts)
	return ts[len(ts)/2]
}

// waitIdle waits until the machine is under 10% busy or the time is up,
// and returns the last busy fraction seen (-1 if unknown).
func waitIdle(limit time.Duration) float64 {
	busy, _, err := cpuload.WaitIdle(0.1, limit)
	if err != nil {
		return -1
	}
	return busy
}

// command returns the command line as it would be typed in the checkout.
func command() string {
	args := []string{"go run ./bench/onnx"}
	for _, a := range os.Args[1:] {
		if a == "" || strings.ContainsAny(a, " \t'\"$`\\*?") {
			a = strconv.Quote(a)
		}
		args = append(args, a)
	}
	return strings.Join(args, " ")
}

func render(c config, rows []row, start time.Time, busy float64) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("%s\n## ONNX Runtime peer: dense and pruned inference (bench/onnx)\n\n", startMark)
	p("Command: `%s`, run %s UTC, took %v.\n", command(), start.UTC().Format("2006-01-02 15:04"), time.Since(start).Round(time.Second))
	p("Machine: %s, nproc %d (%s/%s, %s); load before the run (from /proc/stat): %s busy.\n",
		cpuinfo.Describe(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), busyString(busy))
	p("Threads %s: sgcnn's workers and ONNX Runtime's intra-op threads alike.\n\n", strings.Trim(fmt.Sprint(c.threads), "[]"))
	if busy >= 0.1 || busy < 0 {
		p("**The machine was not idle (or its load unknown) before this run: the times are rough, the\n")
		p("2-thread ones especially. Rerun on an idle machine before quoting them.**\n\n")
	}
	p("sgcnn and ONNX Runtime %s run the same pretrained CIFAR-10\n", ortVersion)
	p("weights in one process; per row the engines alternate, one run each per round, and each time is the\n")
	p("median of %d rounds after 2 warm-up rounds, with a %v pause after every run so that ONNX Runtime's spinning idle threads do not take the next engine's second core, on one batch of random images (the logits of the two\n", c.rounds, settle)
	p("engines are checked to agree first).\n\n")
	p("- **Rate 0 (dense):** sgcnn's fastest dense path, the compiled engine with the masks ignored\n")
	p("  (`compile.Options{IgnoreMasks: true}`), against ORT on the unpruned model exported with BatchNorm\n")
	p("  folded. The nn column is package nn's eval-mode forward pass of the same network.\n")
	p("- **Rate r > 0 (pruned):** one self-grouping step (g = %d, seed %d) on the pretrained weights prunes\n", groups, seed)
	p("  every conv to r%% and the FC layer to min(r, %d)%%. sgcnn runs the compiled pruned network\n", fcCap)
	p("  (`compile.Options{}`); ORT runs the same pruned model in its best form: exported with FoldBN and\n")
	p("  ConvFastest (each masked conv written dense with zeros or grouped, whichever ORT ran faster at the\n")
	p("  row's batch and threads), unless the model with every conv dense ran faster as a whole. The ORT form\n")
	p("  column says which won (\"k/n grouped\": k of the n masked convs written grouped).\n")
	p("- **sgcnn / ORT** is sgcnn's speed over ORT's (ORT ms / sgcnn ms): above 1, sgcnn is faster. The goal\n")
	p("  for the pruned rows is %dx.\n", goal)
	p("- **FLOPs red.** is the paper's FLOPs reduction of the pruned network (package count). FLOPs ratios\n")
	p("  are not speedups: only the measured times are.\n\n")
	p("| model | rate | FLOPs red. | batch | threads | sgcnn ms | nn ms | ORT ms | ORT form | sgcnn img/s | ORT img/s | sgcnn / ORT |\n")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|\n")
	for _, r := range rows {
		nnMS, ratio := "—", r.ort.Seconds()/r.sg.Seconds()
		if r.nn > 0 {
			nnMS = fmt.Sprintf("%.2f", ms(r.nn))
		}
		mark := ""
		if r.rate > 0 {
			mark = " ✗"
			if ratio >= goal {
				mark = " ✓"
			}
		}
		p("| %s | %g | %.2fx | %d | %d | %.2f | %s | %.2f | %s | %.0f | %.0f | %.2fx%s |\n", r.arch, r.rate, r.flops,
			r.batch, r.threads, ms(r.sg), nnMS, ms(r.ort), r.form,
			float64(r.batch)/r.sg.Seconds(), float64(r.batch)/r.ort.Seconds(), ratio, mark)
	}
	if slices.ContainsFunc(rows, func(r row) bool { return r.rate > 0 }) {
		p("\n✓ / ✗: the pruned row meets / misses the %dx goal.\n", goal)
	}
	p("\n%s\n", endMark)
	return b.String()
}

func ms(d time.Duration) float64 { return d.Seconds() * 1e3 }

func busyString(b float64) string {
	if b < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.0f%%", 100*b)
}

// updateSection replaces the text between the markers in path, or appends
// the section (creating the file with a title if needed).
func updateSection(path, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	text := string(old)
	if text == "" {
		text = "# Benchmarks\n\nEach section below is written by the script it names.\n"
	}
	i, j := strings.Index(text, startMark), strings.Index(text, endMark)
	if i >= 0 && j > i {
		text = text[:i] + strings.TrimSuffix(section, "\n") + text[j+len(endMark):]
	} else {
		text = strings.TrimRight(text, "\n") + "\n\n" + section
	}
	return atomicfile.Write(path, func(w io.Writer) error { _, err := io.WriteString(w, text); return err })
}
