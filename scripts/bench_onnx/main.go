// Command bench_onnx times sgcnn's dense inference (package nn, eval mode)
// against ONNX Runtime running the same model exported by export/onnx, in
// one process: ResNet-20 and ResNet-56 at batch 1 and 64, on 1 and 2
// threads (sgcnn's worker count and ORT's intra-op thread count). The two
// engines alternate, one run each per round, so that drift in the machine's
// speed hits both alike; each number is the median over the rounds.
//
//	go run ./scripts/bench_onnx                   # print the table
//	go run ./scripts/bench_onnx -write docs/BENCHMARKS.md
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
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sgcnn/sgcnn/export/onnx"
	"github.com/sgcnn/sgcnn/export/onnx/ort"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

const (
	startMark = "<!-- bench_onnx: start -->"
	endMark   = "<!-- bench_onnx: end -->"
)

func main() {
	write := flag.String("write", "", "replace this benchmark's section of this Markdown file")
	rounds := flag.Int("rounds", 9, "timed rounds per configuration (the median counts)")
	archs := flag.String("models", "resnet20,resnet56", "architectures, comma-separated")
	batches := flag.String("batches", "1,64", "batch sizes, comma-separated")
	threads := flag.String("threads", "1,2", "thread counts, comma-separated")
	idleWait := flag.Duration("idle-wait", time.Minute, "longest wait for an idle machine before timing")
	flag.Parse()
	if err := run(*write, *rounds, split(*archs), ints(*batches), ints(*threads), *idleWait); err != nil {
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

type row struct {
	arch           string
	batch, threads int
	sg, ort        time.Duration
}

func run(write string, rounds int, archs []string, batches, threads []int, idleWait time.Duration) error {
	lib, err := ort.FindLibrary()
	if err != nil {
		return err
	}
	if err := ort.Open(lib); err != nil {
		return err
	}
	busy := waitIdle(idleWait)
	var rows []row
	for _, arch := range archs {
		m, err := models.New(arch, 0, 1)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := onnx.Export(&buf, m, onnx.Options{}); err != nil {
			return err
		}
		for _, th := range threads {
			s, err := ort.NewSession(buf.Bytes(), onnx.InputName, onnx.OutputName, th)
			if err != nil {
				return err
			}
			for _, b := range batches {
				r := row{arch: arch, batch: b, threads: th}
				if r.sg, r.ort, err = timePair(m, s, b, th, rounds); err != nil {
					s.Close()
					return err
				}
				fmt.Fprintf(os.Stderr, "%s b%d t%d: sgcnn %v, ORT %v\n", arch, b, th, r.sg, r.ort)
				rows = append(rows, r)
			}
			s.Close()
		}
	}
	table := render(rows, rounds, busy)
	fmt.Print(table)
	if write != "" {
		return updateSection(write, table)
	}
	return nil
}

// timePair alternates sgcnn and ORT runs on one random batch and returns
// the median time of each.
func timePair(m *models.Model, s *ort.Session, batch, threads, rounds int) (time.Duration, time.Duration, error) {
	parallel.SetThreads(threads)
	defer parallel.SetThreads(0)
	c, h, w := m.InputShape[0], m.InputShape[1], m.InputShape[2]
	x := tensor.New(batch, c, h, w)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	in := tensor.New(x.Shape...)
	ctx := nn.NewCtx(false)
	shape := []int64{int64(batch), int64(c), int64(h), int64(w)}
	sgRun := func() (time.Duration, error) {
		copy(in.Data, x.Data) // ReLU works in place on its input
		t0 := time.Now()
		_, err := m.Net.Forward(ctx, in)
		return time.Since(t0), err
	}
	ortRun := func() (time.Duration, error) {
		t0 := time.Now()
		_, _, err := s.Run(x.Data, shape)
		return time.Since(t0), err
	}
	var sg, or []time.Duration
	for i := -2; i < rounds; i++ { // two warm-up rounds
		a, err := sgRun()
		if err != nil {
			return 0, 0, err
		}
		b, err := ortRun()
		if err != nil {
			return 0, 0, err
		}
		if i >= 0 {
			sg, or = append(sg, a), append(or, b)
		}
	}
	return median(sg), median(or), nil
}

func median(ts []time.Duration) time.Duration {
	slices.Sort(ts)
	return ts[len(ts)/2]
}

// waitIdle samples /proc/stat until the machine is under 10% busy or the
// time is up, and returns the last busy fraction seen (-1 if unknown).
func waitIdle(limit time.Duration) float64 {
	deadline := time.Now().Add(limit)
	busy := -1.0
	for {
		a, ok1 := cpuTimes()
		time.Sleep(500 * time.Millisecond)
		b, ok2 := cpuTimes()
		if !ok1 || !ok2 || b[1] == a[1] {
			return busy
		}
		busy = 1 - float64(b[0]-a[0])/float64(b[1]-a[1])
		if busy < 0.1 || time.Now().After(deadline) {
			return busy
		}
	}
}

// cpuTimes returns the idle and total jiffies of /proc/stat's cpu line.
func cpuTimes() ([2]uint64, bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return [2]uint64{}, false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return [2]uint64{}, false
	}
	var t [2]uint64
	for i, s := range f[1:] {
		v, _ := strconv.ParseUint(s, 10, 64)
		t[1] += v
		if i == 3 || i == 4 { // idle, iowait
			t[0] += v
		}
	}
	return t, true
}

func render(rows []row, rounds int, busy float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n## ONNX Runtime peer: dense inference (scripts/bench_onnx)\n\n", startMark)
	fmt.Fprintf(&b, "sgcnn's dense eval-mode forward pass (package nn) against ONNX Runtime %s running the\n", "1.30 (npm onnxruntime-node)")
	fmt.Fprintf(&b, "same weights exported by export/onnx (default graph optimisations), in one process, runs\n")
	fmt.Fprintf(&b, "alternating; medians of %d rounds after 2 warm-up rounds. Threads: sgcnn's workers and ORT's\n", rounds)
	fmt.Fprintf(&b, "intra-op threads. Measured %s on %s/%s, %d CPUs, machine %s busy before the run.\n",
		time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), busyString(busy))
	fmt.Fprintf(&b, "Regenerate: `go run ./scripts/bench_onnx -write docs/BENCHMARKS.md`.\n\n")
	if busy >= 0.1 {
		fmt.Fprintf(&b, "**Other jobs kept the machine busy during this run: the times are rough, the 2-thread ones\n")
		fmt.Fprintf(&b, "especially (the second core was taken). Rerun on an idle machine before quoting them.**\n\n")
	}
	fmt.Fprintf(&b, "| model | batch | threads | sgcnn ms | ORT ms | sgcnn img/s | ORT img/s | ORT / sgcnn speed |\n")
	fmt.Fprintf(&b, "|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %d | %.2f | %.2f | %.0f | %.0f | %.2fx |\n", r.arch, r.batch, r.threads,
			ms(r.sg), ms(r.ort), float64(r.batch)/r.sg.Seconds(), float64(r.batch)/r.ort.Seconds(), r.sg.Seconds()/r.ort.Seconds())
	}
	fmt.Fprintf(&b, "\n%s\n", endMark)
	return b.String()
}

func ms(d time.Duration) float64 { return d.Seconds() * 1e3 }

func busyString(b float64) string {
	if b < 0 {
		return "(load unknown)"
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
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
