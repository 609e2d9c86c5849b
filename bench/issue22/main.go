// Command issue22 measures, in one process on the machine at hand, the
// figures issue 22 sets goals on that do not need ONNX Runtime:
//
//   - the FP32 FMA peak of one core and of the -threads cores
//     (kernel.FMAPeakLoop: 24 independent 512-bit FMA chains, about 4 ms,
//     every thread started and spinning before the clock starts);
//   - the dense 3x3 conv forward (kernel.GroupPlan, one group: the
//     compiled engine's dense route, bias and ReLU fused, weights packed
//     as compile packs them) on the three
//     CIFAR ResNet stage shapes, as a fraction of that peak: batch 64 with
//     micro-batches of 2 images handed to whichever thread is free (as the
//     compiled network runs them, so each conv's input is warm in cache)
//     against the threads' peak, and batch 1 on one thread against one
//     core's;
//   - the compiled Conv-70 speedup over the same engine dense for
//     ResNet-20 and ResNet-56 at batch 1 and 64 on -threads threads, set
//     against the FLOPs reduction (one self-grouping step on the
//     pretrained CIFAR-10 weights, seed 1, FC at 60%, as sgcnn bench).
//
// All variants run interleaved, one timing each per round, and each
// figure is the median over the rounds, so that load from other jobs hits
// them alike. With -onnx, the Markdown table bench/onnx printed is
// read and its sgcnn / ORT ratios join the goal table. The output is
// Markdown (bench/issue22.sh writes it to bench/results).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sgcnn/sgcnn/internal/cpuinfo"
	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"golang.org/x/sys/unix"
)

func main() {
	threads := flag.Int("threads", 2, "threads for the batch-64 rows and the models")
	rounds := flag.Int("rounds", 25, "interleaved rounds (medians are reported)")
	archs := flag.String("models", "resnet20,resnet56", "architectures, comma-separated (empty: none)")
	weights := flag.String("weights", "../shared/models/cifar10", "directory of the pretrained <arch>-*.th checkpoints")
	onnx := flag.String("onnx", "", "a file holding bench/onnx's Markdown table, for the ORT goals")
	flag.BoolVar(&warmNets, "warm", false, "time each network and conv after an untimed forward of its own (the jobs run interleaved, and each otherwise starts on caches the one before it filled, and a batch-64 job on a core left idle)")
	flag.Parse()
	if *threads < 1 || *rounds < 1 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "issue22: -threads and -rounds want at least 1, and no arguments")
		os.Exit(2)
	}
	if err := run(*threads, *rounds, *archs, *weights, *onnx); err != nil {
		fmt.Fprintln(os.Stderr, "issue22:", err)
		os.Exit(1)
	}
}

// job is one interleaved timing: each call returns one measurement, the
// wall and process CPU times of the same timed runs (untimed warm-up runs
// count in neither). ts are its wall times, cpu its CPU times.
type job struct {
	name    string
	time    func() (wall, cpu time.Duration)
	ts, cpu []time.Duration
}

// timed runs f and returns its wall time and the process's CPU time over
// it. With settle > 0 the CPU reading waits settle after f: a network
// that splits an image over a parallel.Team leaves its helpers spinning
// for parallel's spinLimit (200 us) after each forward, and that spin
// belongs to its job, not to the next.
func timed(f func(), settle time.Duration) (wall, cpu time.Duration) {
	c0 := processCPU()
	t0 := time.Now()
	f()
	wall = time.Since(t0)
	if settle > 0 {
		time.Sleep(settle)
	}
	return wall, processCPU() - c0
}

// teamSettle is timed's settle for jobs that run on a parallel.Pool or a
// Team (every network, the batch-64 convs): several times parallel's
// spinLimit, after which the helpers, spinning for the next loop, park;
// their spin is counted in the job that left it, not in the next job's
// CPU time (a one-thread peak job of 1 ms read 15% slow by CPU time).
const teamSettle = time.Millisecond

func run(threads, rounds int, archs, weights, onnxFile string) error {
	var ortRows []ortRow
	if onnxFile != "" { // read first: a bad file fails before the timing
		var err error
		if ortRows, err = readORT(onnxFile); err != nil {
			return err
		}
	}
	if kernel.FMAPeakLoop(1) == 0 {
		return fmt.Errorf("no AVX-512 FMA loop on this CPU or build (kernel %s): no peak to set rates against", kernel.Impl())
	}
	start := time.Now()
	const peakIters = 1000000 // about 4 ms per thread
	peak1 := &job{name: "peak 1 thread", time: func() (time.Duration, time.Duration) { return timePeak(1, peakIters) }}
	peakT := &job{name: "peak threads", time: func() (time.Duration, time.Duration) { return timePeak(threads, peakIters) }}
	jobs := []*job{peak1, peakT}
	convs := newConvJobs(threads)
	for _, c := range convs {
		jobs = append(jobs, c.b1, c.b64)
	}
	var nets []*netJobs
	for _, arch := range strings.Split(archs, ",") {
		if arch = strings.TrimSpace(arch); arch == "" {
			continue
		}
		n, err := newNetJobs(arch, weights, threads)
		if err != nil {
			return err
		}
		nets = append(nets, n)
		jobs = append(jobs, n.jobs()...)
	}
	busy := loadAvg()
	for r := range rounds + 1 {
		for _, j := range jobs {
			t, c := j.time()
			if r > 0 { // round 0 warms up
				j.ts, j.cpu = append(j.ts, t), append(j.cpu, c)
			}
		}
	}
	// Rates by wall time and by CPU time (flops per CPU-second of each
	// thread, times the threads): other jobs preempting ours stretch the
	// first but not the second.
	rate := func(j *job, flops float64, th int) (wall, cpu float64) {
		return flops / med(j.ts).Seconds() / 1e9, flops * float64(th) / med(j.cpu).Seconds() / 1e9
	}
	pk1, pk1c := rate(peak1, 768*peakIters, 1)
	pkT, pkTc := rate(peakT, float64(threads)*768*peakIters, threads)
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "CPU: %s; %d CPUs; %s, %s; Go %s; kernels %s\n\n", cpuinfo.Describe(), runtime.NumCPU(),
		start.UTC().Format("2006-01-02 15:04 UTC"), time.Since(start).Round(time.Second), runtime.Version(), kernel.Impl())
	fmt.Fprintf(w, "Load average before the run: %s. Medians of %d interleaved rounds.\n\n", busy, rounds)
	fmt.Fprintf(w, "FP32 FMA peak: %.0f GFLOP/s on 1 thread, %.0f on %d threads (per CPU-second: %.0f and %.0f).\n\n", pk1, pkT, threads, pk1c, pkTc)
	fmt.Fprintln(w, "\"wall\" is the goal's figure; \"CPU time\" is the same ratio from CPU time (rates per CPU-second of each thread), which preemption by other jobs does not inflate: on a loaded machine it is the steadier estimate, though it cannot show time lost to waiting between threads.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| goal | case | wall | CPU time | goal | met (wall) |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---|")
	for _, c := range convs {
		r1, r1c := rate(c.b1, c.flops, 1)
		r64, r64c := rate(c.b64, 64*c.flops, threads)
		goalRow(w, "3x3 conv fwd / FMA peak", fmt.Sprintf("%s batch 64, %d threads (%.0f GFLOP/s)", c.name, threads, r64), r64/pkT, r64c/pkTc, 0.8, "%.0f%%")
		goalRow(w, "3x3 conv fwd / FMA peak", fmt.Sprintf("%s batch 1, 1 thread (%.0f GFLOP/s)", c.name, r1), r1/pk1, r1c/pk1c, 0.8, "%.0f%%")
	}
	for _, n := range nets {
		for bi, b := range netBatches {
			sp := float64(med(n.dense[bi].ts)) / float64(med(n.pruned[bi].ts))
			spc := float64(med(n.dense[bi].cpu)) / float64(med(n.pruned[bi].cpu))
			g := 0.75
			if b == 1 {
				g = 0.6
			}
			goalRow(w, "compiled speedup / FLOPs red.", fmt.Sprintf("%s Conv-70 batch %d, %d threads (%.2fx / %.2fx; %.3f / %.3f ms)",
				n.arch, b, threads, sp, n.flopsRed, ms(med(n.dense[bi].ts)), ms(med(n.pruned[bi].ts))), sp/n.flopsRed, spc/n.flopsRed, g, "%.2f")
		}
	}
	for _, r := range ortRows {
		if r.rate == "0" {
			goalRow(w, "dense sgcnn / ORT", r.name, r.ratio, -1, 1, "%.2fx")
			continue
		}
		g := 2.0
		if r.batch == "1" {
			g = 1.5
		}
		goalRow(w, "pruned sgcnn / ORT", r.name, r.ratio, -1, g, "%.2fx")
	}
	if len(nets) > 0 && nets[0].splitDense != nil {
		fmt.Fprintf(w, "\nBatch 1 on %d threads with each conv split over the threads (by output rows, or by groups on small planes) (compile.Options.SplitOne SplitOn; the default, SplitAuto, measures both as the network runs and keeps the faster), against the same network unsplit (above 1: the split is faster):\n\n", threads)
		fmt.Fprintln(w, "| model | dense unsplit / split | pruned unsplit / split | split speedup / FLOPs red. | SplitAuto's (each the faster way) |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
		for _, n := range nets {
			d, p := med(n.splitDense.ts), med(n.splitPruned.ts)
			du, pu := med(n.dense[0].ts), med(n.pruned[0].ts)
			fmt.Fprintf(w, "| %s | %.2fx (%.3f / %.3f ms) | %.2fx (%.3f / %.3f ms) | %.2f | %.2f |\n", n.arch,
				float64(du)/float64(d), ms(du), ms(d), float64(pu)/float64(p), ms(pu), ms(p),
				float64(d)/float64(p)/n.flopsRed, float64(min(d, du))/float64(min(p, pu))/n.flopsRed)
		}
	}
	if len(nets) > 0 {
		fmt.Fprintf(w, "\nThe networks on this session's kernel layout (the epilogue fused into the kernels' store, plans in the compact padded pitch) against the same networks, routes and threads on the previous one (kernel.SetFusedEpilogue(false), kernel.SetCompactPitch(false)), %d threads, each timed after an untimed forward of its own; before / now above 1: now is faster:\n\n", threads)
		fmt.Fprintln(w, "| model | batch | dense before / now, wall | CPU | pruned before / now, wall | CPU | speedup / FLOPs red. before, wall | CPU | now, wall | CPU |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, n := range nets {
			for bi, b := range netBatches {
				wall := func(j *job) float64 { return float64(med(j.ts)) }
				cpu := func(j *job) float64 { return float64(med(j.cpu)) }
				cd, cp, pd, pp := n.cur[0][bi], n.cur[1][bi], n.prev[0][bi], n.prev[1][bi]
				fmt.Fprintf(w, "| %s | %d | %.3f | %.3f | %.3f | %.3f | %.2f | %.2f | %.2f | %.2f |\n", n.arch, b,
					wall(pd)/wall(cd), cpu(pd)/cpu(cd), wall(pp)/wall(cp), cpu(pp)/cpu(cp),
					wall(pd)/wall(pp)/n.flopsRed, cpu(pd)/cpu(pp)/n.flopsRed, wall(cd)/wall(cp)/n.flopsRed, cpu(cd)/cpu(cp)/n.flopsRed)
			}
		}
	}
	fmt.Fprintf(w, "\nKernel tuning measured at the start of this process: %s.\n", kernel.Tuning())
	return nil
}

// goalRow writes one line of the goal table: v from wall times, vc from
// CPU times (negative: not measured); format prints a ratio (a format
// with %% prints it as a percentage).
func goalRow(w *bufio.Writer, goal, what string, v, vc, target float64, format string) {
	mul := 1.0
	if strings.Contains(format, "%%") {
		mul = 100
	}
	met := "no"
	if v >= target {
		met = "yes"
	}
	cpu := "—"
	if vc >= 0 {
		cpu = fmt.Sprintf(format, vc*mul)
	}
	fmt.Fprintf(w, "| %s | %s | "+format+" | %s | "+format+" | %s |\n", goal, what, v*mul, cpu, target*mul, met)
}

// timePeak runs the FMA loop n times on each of threads goroutines
// locked to their threads and returns the wall and CPU times. The
// goroutines are started, and spin, before the clock starts: the peak is
// the machine's FMA rate, not that less the wake-up of an idle core (up to
// 13% of a 1 ms loop on a 2-vCPU VM, which made the peak, and every rate
// set against it, vary from run to run).
func timePeak(threads, n int) (wall, cpu time.Duration) {
	var ready, done sync.WaitGroup
	var start atomic.Bool
	ends := make([]time.Time, threads)
	cpus := make([]time.Duration, threads)
	loop := func(w int) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if w > 0 {
			ready.Done()
			for !start.Load() {
			}
		}
		c0 := threadCPU()
		kernel.FMAPeakLoop(n)
		ends[w], cpus[w] = time.Now(), threadCPU()-c0
	}
	for w := 1; w < threads; w++ {
		ready.Add(1)
		done.Go(func() { loop(w) })
	}
	ready.Wait()
	t0 := time.Now()
	start.Store(true)
	loop(0)
	done.Wait()
	for w := range threads {
		wall, cpu = max(wall, ends[w].Sub(t0)), cpu+cpus[w]
	}
	return wall, cpu
}

// threadCPU is the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID).
func threadCPU() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// b1Reps is the number of back-to-back runs of a batch-1 conv timing.
const b1Reps = 8

// convJob is one stage shape's dense conv at batch 1 and 64.
type convJob struct {
	name     string
	flops    float64 // per image
	b1, b64  *job
	plan     *kernel.GroupPlan
	x, y     [][]float32
	ws       []*kernel.Workspace
	epilogue kernel.Epilogue
	pool     *parallel.Pool
	next     []int // per goroutine: which of its two buffers the next image uses
}

// newConvJobs prepares the three ResNet stage shapes. Each image's input
// is already in the plan's padded layout and its output is written in
// the padded layout of the next conv of the same shape, as the compiled
// network chains its convs.
func newConvJobs(threads int) []*convJob {
	var out []*convJob
	r := rand.New(rand.NewPCG(22, 1))
	for _, s := range [][3]int{{16, 32, 32}, {32, 16, 16}, {64, 8, 8}} {
		p := kernel.Conv{C: s[0], H: s[1], W: s[2], N: s[0], KH: 3, KW: 3, Stride: 1, Pad: 1}
		g := kernel.Group{Weights: make([]float32, p.N*p.C*9)}
		for n := range p.N {
			g.Filters = append(g.Filters, n)
		}
		for c := range p.C {
			g.Channels = append(g.Channels, c)
		}
		for i := range g.Weights {
			g.Weights[i] = float32(r.NormFloat64()) * 0.1
		}
		c := &convJob{name: fmt.Sprintf("%dx%dx%d", s[0], s[1], s[2]), flops: p.FLOPs(),
			plan: kernel.NewGroupPlan(p, []kernel.Group{g}).PackWeights(), pool: parallel.NewPool(threads)}
		c.epilogue = kernel.Epilogue{Bias: make([]float32, p.N), ReLU: true}
		n := c.plan.PaddedLen()
		for range max(2*threads, 2) {
			x := make([]float32, n)
			img := make([]float32, p.C*p.H*p.W)
			for i := range img {
				img[i] = float32(r.NormFloat64())
			}
			// The plan writes its output in its own padded input layout
			// (halos zero): a random image in that layout.
			c.plan.ForwardPadded(img, x, &kernel.Epilogue{}, new(kernel.Workspace), false, c.plan)
			c.x = append(c.x, x)
			c.y = append(c.y, make([]float32, n))
		}
		for range threads {
			c.ws = append(c.ws, new(kernel.Workspace))
		}
		c.next = make([]int, threads)
		// Batch 1: one image, run b1Reps times in a row (its weights and
		// input warm in cache, as in a network's forward pass), per run.
		c.b1 = &job{name: c.name + " b1", time: func() (time.Duration, time.Duration) {
			if warmNets {
				c.plan.ForwardPadded(c.x[0], c.y[0], &c.epilogue, c.ws[0], true, c.plan)
			}
			wall, cpu := timed(func() {
				for range b1Reps {
					c.plan.ForwardPadded(c.x[0], c.y[0], &c.epilogue, c.ws[0], true, c.plan)
				}
			}, 0)
			return wall / b1Reps, cpu / b1Reps
		}}
		c.b64 = &job{name: c.name + " b64", time: func() (time.Duration, time.Duration) {
			if warmNets {
				c.forward64()
			}
			return timed(func() { c.forward64() }, teamSettle)
		}}
		out = append(out, c)
	}
	return out
}

// forward64 runs the conv over 64 images on the goroutines of c.pool, a
// parallel.Pool: each image handed to whichever goroutine is free
// (Pool.ForAny, as the compiled network hands out its micro-batches), and
// each goroutine alternating between its own two images' buffers (warm
// in its L2), as a micro-batch of 2 does.
func (c *convJob) forward64() {
	c.pool.ForAny(64, func(t, _ int) {
		e := c.epilogue
		k := 2*t + c.next[t]
		c.next[t] ^= 1
		c.plan.ForwardPadded(c.x[k], c.y[k], &e, c.ws[t], true, c.plan)
	})
}

// med is the median (the lower middle of an even count).
func med(ts []time.Duration) time.Duration {
	s := slices.Clone(ts)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

func ms(d time.Duration) float64 { return d.Seconds() * 1e3 }

// processCPU is the CPU time of this process so far: the sum of its
// threads' own CPU clocks. CLOCK_PROCESS_CPUTIME_ID is not used: Linux
// brings only the calling thread's run time up to date for it, and takes
// the others' as of their last tick or context switch, so a thread that
// ran on the other core until a job started (a Team helper spinning after
// a split forward) had up to a tick (4 ms at HZ 250) of its earlier run
// time counted in the job: one-thread jobs of under 1 ms read 2-3.7x
// their wall time. A thread's own clock (CPUCLOCK_SCHED of its id) is
// current even while it runs elsewhere.
func processCPU() time.Duration {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return processClock()
	}
	var sum time.Duration
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		var ts unix.Timespec
		// MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED): ^tid<<3 | 2 | 4.
		// A thread gone since the listing is skipped (Go's threads live as
		// long as the process unless a goroutine exits locked to one,
		// which no job does).
		if unix.ClockGettime(int32(^tid<<3|6), &ts) == nil {
			sum += time.Duration(ts.Nano())
		}
	}
	return sum
}

// processClock is CLOCK_PROCESS_CPUTIME_ID, for a system without /proc.
func processClock() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// loadAvg is /proc/loadavg's first three fields.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
